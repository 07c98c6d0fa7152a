package identity_test

import (
	"sync"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
)

// Two servers are two identity services (each with its own core) over one database: the
// account's limit is theirs together, exactly, even when every attempt races.
func TestSignInLimit_SharedExactlyByServersRacing(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	other, err := billing.New(ctx, f.DB, billing.WithClock(f.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	servers := []*identity.Service{f.Identity, identity.New(other)}
	const attempts = 40
	var wg sync.WaitGroup
	allowed := make(chan bool, attempts)
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wait, err := servers[i%2].TakeSignInAttempt(ctx, "Ada@Example.com ")
			if err != nil {
				t.Error(err)
			}
			allowed <- wait == 0
		}()
	}
	wg.Wait()
	close(allowed)
	n := 0
	for ok := range allowed {
		if ok {
			n++
		}
	}
	if n != identity.AccountAttempts {
		t.Fatalf("%d of %d racing attempts allowed, want exactly %d", n, attempts, identity.AccountAttempts)
	}
	// Refused on either server, for the rest of the window, with how long to wait.
	f.Clock.Advance(identity.AccountWindow - time.Minute)
	for _, s := range servers {
		if wait, err := s.TakeSignInAttempt(ctx, "ada@example.com"); err != nil || wait <= 0 || wait > time.Minute {
			t.Fatalf("within the window: wait %v, %v; want at most a minute", wait, err)
		}
	}
	// Another account is untouched; after the window the account may try again.
	if wait, err := servers[1].TakeSignInAttempt(ctx, "bob@example.com"); err != nil || wait != 0 {
		t.Fatalf("another account: wait %v, %v", wait, err)
	}
	f.Clock.Advance(time.Minute)
	if wait, err := servers[0].TakeSignInAttempt(ctx, "ada@example.com"); err != nil || wait != 0 {
		t.Fatalf("after the window: wait %v, %v", wait, err)
	}
}

func TestSignInLimit_SuccessesAreGivenBack(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	for range 3 * identity.AccountAttempts {
		wait, err := f.Identity.TakeSignInAttempt(ctx, "ada@example.com")
		if err != nil || wait != 0 {
			t.Fatalf("a succeeding attempt waited %v (%v)", wait, err)
		}
		if err := f.Identity.GiveBackSignInAttempt(ctx, "ada@example.com"); err != nil {
			t.Fatal(err)
		}
	}
}
