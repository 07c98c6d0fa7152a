package notify_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/notify"
)

// hookServer records the calls it receives.
type hookServer struct {
	*httptest.Server
	mu    sync.Mutex
	calls []hookCall
}

type hookCall struct {
	Header http.Header
	Body   []byte
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.calls = append(h.calls, hookCall{r.Header.Clone(), b})
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) received() []hookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookCall(nil), h.calls...)
}

func TestWebhook_CallIsSignedAndVerifiable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	hook := newHookServer(t)
	w, err := e.notify.SetWebhook(ctx, e.Org, hook.URL+"/lux", e.Admin)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(w.Secret, "whsec_") {
		t.Fatalf("secret %q", w.Secret)
	}
	e.sender(t, 50)
	e.use(t, "a", 60)
	e.drained(t)
	calls := hook.received()
	if len(calls) != 1 {
		t.Fatalf("%d webhook calls, want 1", len(calls))
	}
	c := calls[0]
	sig := c.Header.Get(notify.SignatureHeader)
	if !notify.VerifySignature(w.Secret, sig, c.Body, time.Now(), 5*time.Minute) {
		t.Fatalf("signature %q does not verify", sig)
	}
	if notify.VerifySignature(w.Secret, sig, append(c.Body, ' '), time.Now(), 5*time.Minute) {
		t.Fatal("a changed body verifies")
	}
	if notify.VerifySignature("whsec_other", sig, c.Body, time.Now(), 5*time.Minute) {
		t.Fatal("another secret verifies")
	}
	if notify.VerifySignature(w.Secret, sig, c.Body, time.Now().Add(time.Hour), 5*time.Minute) {
		t.Fatal("an hour-old signature verifies")
	}
	var ev struct {
		ID, Type, OrgID string
		Data            struct {
			Scope   string  `json:"scope"`
			Percent int     `json:"percent"`
			Limit   float64 `json:"limit"`
			Used    float64 `json:"used"`
		}
	}
	if err := json.Unmarshal(c.Body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != billing.NoticeThresholdReached || ev.OrgID != e.Org || ev.Data.Percent != 50 || ev.Data.Used != 60 || ev.Data.Limit != 100 ||
		c.Header.Get("Lux-Event-Id") != ev.ID || !strings.HasPrefix(ev.ID, "ntf_") {
		t.Fatalf("event %s, headers %v", c.Body, c.Header)
	}
}

func TestWebhook_PrivateAddressRefusedWithoutTheAllowSetting(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	hook := newHookServer(t)
	for _, u := range []string{"https://127.0.0.1/lux", "https://[::1]/lux", "https://10.0.0.8/lux", "https://169.254.169.254/latest",
		"http://example.com/lux", "https://user:pw@example.com/lux", "ftp://example.com", "not a url"} {
		if _, err := e.notify.SetWebhook(ctx, e.Org, u, e.Admin); billing.ErrorCode(err) != billing.EINVALID {
			t.Errorf("SetWebhook(%q): %v, want EINVALID", u, err)
		}
	}
	// A name that resolves to loopback passes the form's check and is refused when dialled.
	port := hook.URL[strings.LastIndex(hook.URL, ":")+1:]
	if _, err := e.notify.SetWebhook(ctx, e.Org, "https://localhost:"+port+"/lux", e.Admin); err != nil {
		t.Fatal(err)
	}
	e.sender(t, 50)
	e.use(t, "a", 60)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var lastErr string
		err := e.DB.GetContext(ctx, &lastErr, `SELECT last_error FROM notification_deliveries WHERE channel = 'webhook'`)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(lastErr, "refused: the webhook's address is private") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook delivery error %q, want a refusal", lastErr)
		}
		time.Sleep(20 * time.Millisecond) // polling the sender's goroutine, bounded by the deadline
	}
	if n := len(hook.received()); n != 0 {
		t.Fatalf("the private server got %d calls", n)
	}
}
