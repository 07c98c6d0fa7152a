package notify_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/notify"
)

var ctx = context.Background()

// env is an org with a limit of 100 credits, Mailpit, and the notifications service on them.
type env struct {
	*billingtest.Fixture
	mail   *billingtest.Mailpit
	notify *notify.Service
}

func newEnv(t *testing.T, allowPrivate bool) *env {
	t.Helper()
	f := billingtest.NewFixture(t, "pro")
	mp := billingtest.StartMailpit(t)
	limit := billing.Credits(100)
	if err := f.Svc.SetMonthlyLimit(ctx, f.Org, &limit); err != nil {
		t.Fatal(err)
	}
	svc := notify.New(f.Svc, notify.Config{BaseURL: "http://lux.test", SMTPURL: mp.SMTPURL(), From: "Lux <billing@lux.test>",
		AllowPrivateWebhooks: allowPrivate})
	return &env{Fixture: f, mail: mp, notify: svc}
}

// sender starts a sender with short backoffs, stopped when the test ends.
func (e *env) sender(t *testing.T, batch int) *notify.Sender {
	t.Helper()
	snd, err := e.notify.NewSender(nil)
	if err != nil {
		t.Fatal(err)
	}
	snd.Poll, snd.BaseBackoff, snd.MaxBackoff, snd.Batch = 50*time.Millisecond, 100*time.Millisecond, 200*time.Millisecond, batch
	c, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { snd.Run(c); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return snd
}

func (e *env) use(t *testing.T, id string, credits int64) {
	t.Helper()
	e.Record(t, billing.UsageEvent{ID: id, FlowID: "flow_1", ExecutionID: "x_" + id, Type: "email", Quantity: credits})
}

// drained waits until the outbox has nothing pending.
func (e *env) drained(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := e.DB.GetContext(ctx, &n, `SELECT count(*) FROM notification_deliveries WHERE status = 'pending'`); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries still pending", n)
		}
		time.Sleep(20 * time.Millisecond) // polling the sender's goroutine, bounded by the deadline
	}
}

// subjectsTo lists, per recipient, the subjects (without the org's name) received, sorted.
func subjectsTo(mails []billingtest.Mail) map[string][]string {
	out := map[string][]string{}
	for _, m := range mails {
		subj, _, _ := strings.Cut(m.Subject, " · ")
		for _, to := range m.To {
			out[to] = append(out[to], subj)
		}
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

var (
	subj50  = "Credit usage reached 50% of the monthly limit"
	subj80  = "Credit usage reached 80% of the monthly limit"
	subj100 = "The monthly credit limit is reached — flows are paused"
)

func TestMail_EachThresholdMailsEachAdminOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	second := e.NewMember(t, "second@example.com", "Second Admin")
	if _, err := e.DB.ExecContext(ctx, `UPDATE memberships SET role = 'admin' WHERE user_id = $1`, second.ID); err != nil {
		t.Fatal(err)
	}
	e.NewMember(t, "member@example.com", "Member")
	e.sender(t, 50)
	e.use(t, "a", 50)
	e.use(t, "b", 30)
	e.use(t, "c", 20)
	e.use(t, "d", 5)
	mails := e.mail.WaitForMessages(t, 6, 20*time.Second)
	e.drained(t)
	mails = e.mail.Messages(t)
	want := []string{subj50, subj80, subj100}
	slices.Sort(want)
	got := subjectsTo(mails)
	if len(got) != 2 || !slices.Equal(got["admin-pro@example.com"], want) || !slices.Equal(got["second@example.com"], want) {
		t.Fatalf("mails by recipient: %q", got)
	}
	for _, m := range mails {
		if !strings.Contains(m.Subject, "80%") {
			continue
		}
		if !strings.Contains(m.Text, "This cycle's usage is 80 credits of a monthly limit of 100 credits.") ||
			!strings.Contains(m.Text, "http://lux.test/settings/billing/limits") {
			t.Errorf("text of the 80%% mail:\n%s", m.Text)
		}
		if !strings.Contains(m.HTML, `href="http://lux.test/settings/billing/limits"`) || !strings.Contains(m.HTML, "80 credits") {
			t.Errorf("HTML of the 80%% mail:\n%s", m.HTML)
		}
	}
}

func TestMail_OneBatchFrom40To110SendsEachCrossedOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.sender(t, 50)
	e.use(t, "a", 40)
	e.use(t, "b", 70)
	e.use(t, "c", 10)
	e.mail.WaitForMessages(t, 3, 20*time.Second)
	e.drained(t)
	got := subjectsTo(e.mail.Messages(t))
	want := []string{subj50, subj80, subj100}
	slices.Sort(want)
	for _, subjects := range got {
		if !slices.Equal(subjects, want) {
			t.Fatalf("subjects %q, want %q", subjects, want)
		}
	}
	if len(got) != 1 {
		t.Fatalf("recipients %v, want the one admin", got)
	}
}

func TestMail_SixteenClientsRacingAcrossAThresholdSendOneMail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.sender(t, 50)
	e.use(t, "start", 45)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := billing.UsageEvent{ID: fmt.Sprintf("r%d", i), FlowID: "flow_1", ExecutionID: "x", Type: "email", Quantity: 1}
			if _, err := e.Svc.RecordUsage(ctx, e.Org, e.Admin, []billing.UsageEvent{ev}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	e.mail.WaitForMessages(t, 1, 20*time.Second)
	e.drained(t)
	if got := e.mail.Messages(t); len(got) != 1 || !strings.HasPrefix(got[0].Subject, subj50) {
		t.Fatalf("mails: %d (%v), want the 50%% one", len(got), subjectsTo(got))
	}
}

func TestMail_SMTPDownDuringACrossingArrivesWhenItIsBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.mail.Stop()
	e.sender(t, 50)
	e.use(t, "a", 55)
	// The sender tries, fails and backs off; the mail stays in the outbox.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var failed int
		if err := e.DB.GetContext(ctx, &failed, `SELECT count(*) FROM notification_deliveries
			WHERE status = 'pending' AND attempts >= 2 AND last_error <> ''`); err != nil {
			t.Fatal(err)
		}
		if failed == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sender did not retry while SMTP was down")
		}
		time.Sleep(20 * time.Millisecond) // polling the sender's goroutine, bounded by the deadline
	}
	if err := e.mail.Start(); err != nil {
		t.Fatal(err)
	}
	mails := e.mail.WaitForMessages(t, 1, 20*time.Second)
	e.drained(t)
	if mails = e.mail.Messages(t); len(mails) != 1 || !strings.HasPrefix(mails[0].Subject, subj50) {
		t.Fatalf("after SMTP came back: %v", subjectsTo(mails))
	}
}

func TestMail_TwoSendersNeverSendOneMailTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	for i := range 5 {
		e.NewMember(t, fmt.Sprintf("admin%d@example.com", i), "")
	}
	if _, err := e.DB.ExecContext(ctx, `UPDATE memberships SET role = 'admin' WHERE org_id = $1`, e.Org); err != nil {
		t.Fatal(err)
	}
	// 6 admins × 8 notices = 48 mails waiting before either sender starts.
	for i := range 8 {
		err := e.Svc.WithLedger(ctx, e.Org, func(l *billing.LedgerTx) error {
			l.Emit(billing.Notice{Kind: billing.NoticeStatementReady, Key: fmt.Sprintf("statement/%d", i),
				Data: billing.NoticeData{PeriodLabel: fmt.Sprintf("Statement %d", i)}})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	a, b := e.sender(t, 5), e.sender(t, 5)
	a.Wake()
	b.Wake()
	e.mail.WaitForMessages(t, 48, 30*time.Second)
	e.drained(t)
	mails := e.mail.Messages(t)
	seen := map[string]bool{}
	for _, m := range mails {
		id := strings.Join(m.Headers["Message-Id"], ",")
		if seen[id] {
			t.Errorf("message %s sent twice", id)
		}
		seen[id] = true
	}
	if len(mails) != 48 {
		t.Fatalf("%d mails, want 48", len(mails))
	}
}
