package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/luxstudio/lux-billing/billing/payments"
	"github.com/luxstudio/lux-billing/web/webtest"
)

// chromiumPath is the browser the tests drive.
const chromiumPath = "/usr/bin/chromium"

// Viewport widths: a laptop and a phone.
const (
	desktopWidth = 1280
	phoneWidth   = 390
)

// browserCtx is the one Chromium every test of the binary opens its tabs in; each test gets
// its own browser context (cookies and storage), so tests run in parallel without sharing a
// session.
var browserCtx context.Context

func TestMain(m *testing.M) {
	os.Exit(runWithBrowser(m))
}

func runWithBrowser(m *testing.M) int {
	profile, err := os.MkdirTemp("", "lux-e2e-chromium-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(profile)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	// The first action starts the browser, which lives as long as the context of that action:
	// it must not have a deadline.
	if err := chromedp.Do(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: start %s: %v\n", chromiumPath, err)
		return 1
	}
	browserCtx = ctx
	return m.Run()
}

// newApp serves the real server on a loopback port, over its own database.
func newApp(t *testing.T) *webtest.Server { return webtest.New(t, webtest.Options{}) }

// newAppWith is newApp with payments configured by pc (the demo provider unless pc says).
func newAppWith(t *testing.T, pc payments.Config) *webtest.Server {
	return webtest.New(t, webtest.Options{Payments: &pc})
}

// tab is one browser tab with its own cookies, bound to a test: every step fails the test on
// error, and a failed test leaves a screenshot of the tab behind.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// newTab opens a tab on base. Its steps share a deadline so that a missing element fails the
// test instead of hanging it.
func newTab(t *testing.T, base string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	// Generous: a busy 2-core machine renders dozens of screenshots in one tab.
	tctx, tcancel := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(tcancel)
	tb := &tab{t: t, ctx: tctx, base: base}
	t.Cleanup(func() {
		if t.Failed() {
			tb.saveFailure(ctx)
		}
	})
	tb.viewport(desktopWidth, 900, false)
	return tb
}

// saveFailure writes a screenshot of the tab to $LUX_SCREENSHOTS/failures, or to a directory
// under the system temp dir that outlives the test, and logs where.
func (tb *tab) saveFailure(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Logf("no failure screenshot: %v", err)
		return
	}
	dir := os.Getenv("LUX_SCREENSHOTS")
	if dir != "" {
		dir = filepath.Join(dir, "failures")
	} else {
		dir = filepath.Join(os.TempDir(), "lux-e2e-failures")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Logf("no failure screenshot: %v", err)
		return
	}
	name := regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(tb.t.Name(), "_")
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, time.Now().UnixNano()))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Logf("no failure screenshot: %v", err)
		return
	}
	tb.t.Logf("failure screenshot: %s", path)
}

// do runs steps, failing the test on error.
func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
}

// open navigates to path and returns the HTTP status of the document.
func (tb *tab) open(path string) int64 {
	tb.t.Helper()
	res, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(tb.base+path))
	if err != nil {
		tb.t.Fatalf("open %s: %v", path, err)
	}
	return res.Status
}

// testID selects the first element with data-testid id.
func testID(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(`[data-testid=%q]`, id)) }

// wait waits until the element is visible.
func (tb *tab) wait(sel chromedp.CSS) {
	tb.t.Helper()
	tb.do(chromedp.WaitVisible(sel))
}

// text waits for the element and returns its text.
func (tb *tab) text(sel chromedp.CSS) string {
	tb.t.Helper()
	tb.wait(sel)
	s, err := chromedp.Run(tb.ctx, chromedp.Text(sel))
	if err != nil {
		tb.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.Join(strings.Fields(s), " ")
}

// location is the tab's current URL, relative to the app.
func (tb *tab) location() string {
	tb.t.Helper()
	loc, err := chromedp.Run(tb.ctx, chromedp.Location())
	if err != nil {
		tb.t.Fatalf("location: %v", err)
	}
	return strings.TrimPrefix(loc, tb.base)
}

// body is the text of the whole page.
func (tb *tab) body() string {
	tb.t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		tb.t.Fatalf("page text: %v", err)
	}
	return s
}

// count is how many elements match sel now.
func (tb *tab) count(sel string) int {
	tb.t.Helper()
	n, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil {
		tb.t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

// fill types into the form fields by id.
func (tb *tab) fill(fields ...string) {
	tb.t.Helper()
	for i := 0; i+1 < len(fields); i += 2 {
		tb.do(chromedp.WaitVisible(chromedp.ID(fields[i])), chromedp.SendKeys(chromedp.ID(fields[i]), fields[i+1]))
	}
}

// login signs in through the form and waits for the overview.
func (tb *tab) login(email, password string) {
	tb.t.Helper()
	tb.open("/login")
	tb.fill("login-email", email, "login-password", password)
	tb.do(chromedp.Click(testID("login-submit")))
	tb.wait(testID("balance"))
}

// viewport sets the tab's size; dark selects prefers-color-scheme: dark.
func (tb *tab) viewport(width, height int64, dark bool) {
	tb.t.Helper()
	opts := []chromedp.EmulateViewportOption{}
	if width < 600 {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	scheme := "light"
	if dark {
		scheme = "dark"
	}
	tb.do(
		chromedp.EmulateViewport(width, height, opts...),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			})
			return err
		}),
	)
}
