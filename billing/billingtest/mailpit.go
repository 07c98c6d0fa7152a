package billingtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Mailpit is a real SMTP server with an HTTP API, started by a test on free loopback ports.
// The binary is $LUX_MAILPIT, else <module root>/.bin/mailpit (`make test` installs it).
// Mail is kept in memory: a restarted Mailpit starts empty.
type Mailpit struct {
	SMTPAddr string // host:port of its SMTP server
	APIURL   string // base URL of its HTTP API
	bin      string
	proc     *Process
}

// StartMailpit starts Mailpit for the test; it is stopped when the test ends.
func StartMailpit(t testing.TB) *Mailpit {
	t.Helper()
	bin := os.Getenv("LUX_MAILPIT")
	if bin == "" {
		root, err := ModuleRoot()
		if err != nil {
			t.Fatal(err)
		}
		bin = filepath.Join(root, ".bin", "mailpit")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("mailpit not found at %s: run `make test`, or `GOBIN=$PWD/.bin go install github.com/axllent/mailpit@v1.33.1`", bin)
	}
	smtp, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	api, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	m := &Mailpit{SMTPAddr: smtp, APIURL: "http://" + api, bin: bin}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return m
}

// SMTPURL is the SMTP_URL of the server (plain SMTP, no TLS).
func (m *Mailpit) SMTPURL() string { return "smtp://" + m.SMTPAddr }

// Start (re)starts the server on its ports.
func (m *Mailpit) Start() error {
	cmd := exec.Command(m.bin, "--smtp", m.SMTPAddr, "--listen", m.APIURL[len("http://"):],
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--smtp-disable-rdns", "--disable-version-check", "--quiet")
	p, err := StartProcess(context.Background(), cmd, m.APIURL+"/readyz", 30*time.Second)
	if err != nil {
		return fmt.Errorf("mailpit: %w", err)
	}
	m.proc = p
	return nil
}

// Stop stops the server (its SMTP port refuses connections until Start).
func (m *Mailpit) Stop() {
	if m.proc != nil {
		m.proc.Stop()
	}
}

// Mail is a message as Mailpit received it.
type Mail struct {
	ID      string   `json:"ID"`
	Subject string   `json:"Subject"`
	To      []string `json:"-"`
	Text    string   `json:"-"`
	HTML    string   `json:"-"`
	Headers map[string][]string
}

// Messages returns every message received, newest first, with its recipients, text and HTML.
func (m *Mailpit) Messages(t testing.TB) []Mail {
	t.Helper()
	var list struct {
		Messages []struct {
			ID      string `json:"ID"`
			Subject string `json:"Subject"`
			To      []struct {
				Address string `json:"Address"`
			} `json:"To"`
		} `json:"messages"`
	}
	m.get(t, "/api/v1/messages?limit=1000", &list)
	out := make([]Mail, 0, len(list.Messages))
	for _, l := range list.Messages {
		var msg struct {
			Text string `json:"Text"`
			HTML string `json:"HTML"`
		}
		m.get(t, "/api/v1/message/"+l.ID, &msg)
		var headers map[string][]string
		m.get(t, "/api/v1/message/"+l.ID+"/headers", &headers)
		mail := Mail{ID: l.ID, Subject: l.Subject, Text: msg.Text, HTML: msg.HTML, Headers: headers}
		for _, to := range l.To {
			mail.To = append(mail.To, to.Address)
		}
		out = append(out, mail)
	}
	return out
}

func (m *Mailpit) get(t testing.TB, path string, dest any) {
	t.Helper()
	res, err := http.Get(m.APIURL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("mailpit %s: %s", path, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(dest); err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
}

// WaitForMessages polls until at least n messages arrived (or the deadline passes) and returns
// them all.
func (m *Mailpit) WaitForMessages(t testing.TB, n int, timeout time.Duration) []Mail {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var c struct {
			Total int `json:"messages_count"`
		}
		m.get(t, "/api/v1/messages?limit=1", &c)
		if c.Total >= n {
			return m.Messages(t)
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit: %d messages after %s, want %d", c.Total, timeout, n)
		}
		time.Sleep(50 * time.Millisecond) // polling another process, bounded by the deadline
	}
}
