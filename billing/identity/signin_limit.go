package identity

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// The per-account limit of sign-in attempts, whatever the address and whichever server they
// reach: it bounds guessing one account's password from many addresses through many replicas.
// The per-address limits are each server's own (handlers.Throttle).
const (
	AccountAttempts = 10
	AccountWindow   = 15 * time.Minute
)

// signInLimit remembers when this server last swept ended windows (unix nanoseconds).
type signInLimit struct{ swept atomic.Int64 }

func accountKey(email string) []byte {
	h := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return h[:]
}

// TakeSignInAttempt counts an attempt to sign in as email (or to prove its password) against
// the account's limit, in the database so that every server shares it. It returns how long the
// account must wait when the attempt is over the limit (the attempt must then not be made), or
// 0. An attempt that succeeds is given back with GiveBackSignInAttempt, so only failures count.
func (s *Service) TakeSignInAttempt(ctx context.Context, email string) (time.Duration, error) {
	now := s.store.Now()
	if last := s.limit.swept.Load(); now.UnixNano()-last > int64(AccountWindow) && s.limit.swept.CompareAndSwap(last, now.UnixNano()) {
		if _, err := s.store.DB().ExecContext(ctx, sessionQ.SweepSignInAttempts, now.Add(-AccountWindow)); err != nil {
			return 0, fmt.Errorf("billing: sweep sign-in attempts: %w", err)
		}
	}
	var row struct {
		Attempts    int       `db:"attempts"`
		WindowStart time.Time `db:"window_start"`
	}
	err := s.store.DB().GetContext(ctx, &row, sessionQ.TakeSignInAttempt, accountKey(email), now, AccountWindow.Seconds())
	if err != nil {
		return 0, fmt.Errorf("billing: count sign-in attempt: %w", err)
	}
	if row.Attempts <= AccountAttempts {
		return 0, nil
	}
	return max(row.WindowStart.Add(AccountWindow).Sub(now), time.Second), nil
}

// GiveBackSignInAttempt says that an attempt counted by TakeSignInAttempt succeeded.
func (s *Service) GiveBackSignInAttempt(ctx context.Context, email string) error {
	if _, err := s.store.DB().ExecContext(ctx, sessionQ.GiveBackSignInAttempt, accountKey(email)); err != nil {
		return fmt.Errorf("billing: give back sign-in attempt: %w", err)
	}
	return nil
}
