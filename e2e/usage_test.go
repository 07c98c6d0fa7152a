package e2e

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/demo"
	"github.com/luxstudio/lux-billing/billing/reports"
	"github.com/luxstudio/lux-billing/views"
)

// chartSeries is the names of the series the chart of canvas id draws now.
func (tb *tab) chartSeries(id string) []string {
	tb.t.Helper()
	names, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](fmt.Sprintf(
		`Chart.getChart(document.getElementById(%q)).data.datasets.map(d => d.label)`, id)))
	if err != nil {
		tb.t.Fatalf("chart %s: %v", id, err)
	}
	return names
}

// columns is the group columns of the usage table, in order.
func (tb *tab) columns() []string {
	tb.t.Helper()
	cols, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('[data-testid="usage-col"]')].map(th => th.textContent.trim())`))
	if err != nil {
		tb.t.Fatalf("columns: %v", err)
	}
	return cols
}

// evalString evaluates a JavaScript expression that gives a string (or a promise of one).
func (tb *tab) evalString(expr string) string {
	tb.t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}

// waitChart waits until the usage chart of the current view is drawn.
func (tb *tab) waitChart(id string) {
	tb.t.Helper()
	tb.wait(chromedp.CSS(fmt.Sprintf(`[data-chart=%q][data-ready]`, id)))
}

func TestBrowser_UsageFiltersSwapInPlaceAndDrillDown(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	seeded, err := demo.Seed(ctx, a.DB, time.Now(), 14)
	if err != nil {
		t.Fatal(err)
	}
	tb := newTab(t, a.URL)
	tb.login(demo.AdminEmail, demo.Password)
	tb.do(chromedp.Click(testID("nav-usage")))
	tb.waitChart("usage")
	if got := tb.location(); got != "/settings/billing/usage" {
		t.Errorf("at %q", got)
	}
	series := tb.chartSeries("usage-canvas")
	if cols := tb.columns(); strings.Join(series, ",") != strings.Join(cols, ",") || len(series) != len(billing.Types) {
		t.Errorf("by integration: chart %v, table %v", series, cols)
	}
	// A page load would forget this.
	tb.do(chromedp.Evaluate[chromedp.Void](`window.luxNoReload = "kept"`))
	kept := func(step string) {
		t.Helper()
		if got := tb.evalString(`String(window.luxNoReload)`); got != "kept" {
			t.Fatalf("%s reloaded the page", step)
		}
	}

	// Group by flow: the radio applies at once.
	tb.do(chromedp.Click(chromedp.ID("usage-groupBy-flow")))
	tb.wait(chromedp.CSS(`#usage-groupBy-flow[checked]`)) // the attribute comes only with the new view
	tb.waitChart("usage")
	kept("grouping by flow")
	series = tb.chartSeries("usage-canvas")
	if cols := tb.columns(); strings.Join(series, ",") != strings.Join(cols, ",") || !contains(series, "Customer support triage") {
		t.Errorf("by flow: chart %v, table %v", series, cols)
	}
	if got := tb.location(); got != "/settings/billing/usage?range=30d&interval=day&groupBy=flow" {
		t.Errorf("URL after grouping by flow: %q", got)
	}

	// Weekly: fewer periods, same groups.
	tb.do(chromedp.Click(chromedp.ID("usage-interval-week")))
	tb.wait(chromedp.CSS(`#usage-interval-week[checked]`))
	tb.waitChart("usage")
	kept("weekly")
	if got := tb.location(); got != "/settings/billing/usage?range=30d&interval=week&groupBy=flow" {
		t.Errorf("URL after weekly: %q", got)
	}
	periods := tb.evalString(`String(Chart.getChart(document.getElementById("usage-canvas")).data.labels.length)`)
	if rows := tb.count(`[data-testid="usage-row"]`); fmt.Sprint(rows) != periods || rows < 5 || rows > 6 {
		t.Errorf("weekly: %d table rows, %s chart periods", rows, periods)
	}

	// Back: the daily view returns, chart and all, still without a page load.
	tb.do(chromedp.Evaluate[chromedp.Void](`history.back()`))
	tb.wait(chromedp.CSS(`#usage-interval-day[checked]`))
	tb.waitChart("usage")
	kept("going back")
	if got := tb.location(); got != "/settings/billing/usage?range=30d&interval=day&groupBy=flow" {
		t.Errorf("URL after going back: %q", got)
	}
	if got := tb.chartSeries("usage-canvas"); strings.Join(got, ",") != strings.Join(series, ",") {
		t.Errorf("back: chart %v, want %v", got, series)
	}

	// A custom range: the dates show, and apply with their button.
	today := reports.DateOf(time.Now(), time.UTC)
	from := today.AddDays(-6)
	tb.do(chromedp.Evaluate[chromedp.Void](`(() => {
		const s = document.getElementById("usage-range");
		s.value = "custom";
		s.dispatchEvent(new Event("change", {bubbles: true}));
	})()`))
	tb.wait(chromedp.CSS("#usage-from"))
	tb.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		document.getElementById("usage-from").value = %q;
		document.getElementById("usage-to").value = %q;
		document.getElementById("usage-interval-day").checked = true;
	})()`, from, today)))
	tb.do(chromedp.Click(testID("usage-apply")))
	tb.do(chromedp.WaitReady(chromedp.CSS(`#usage-range option[value="custom"][selected]`)))
	tb.waitChart("usage")
	kept("a custom range")
	wantURL := fmt.Sprintf("/settings/billing/usage?range=custom&from=%s&to=%s&interval=day&groupBy=flow", from, today)
	if got := tb.location(); got != wantURL {
		t.Errorf("URL after a custom range: %q, want %q", got, wantURL)
	}
	if rows := tb.count(`[data-testid="usage-row"]`); rows != 7 {
		t.Errorf("7 days: %d rows", rows)
	}

	// The URL alone renders the same view.
	tableNow := tb.evalString(`document.querySelector('[data-testid="usage-table"]').innerText`)
	tb.open(wantURL)
	tb.waitChart("usage")
	if got := tb.evalString(`document.querySelector('[data-testid="usage-table"]').innerText`); got != tableNow {
		t.Errorf("the shared URL shows another table")
	}

	// The CSV of the view, fetched with the browser's session, is the table.
	res := tb.evalString(`fetch(document.querySelector('[data-testid="usage-csv"]').href).then(async r =>
		JSON.stringify({status: r.status, disposition: r.headers.get("Content-Disposition"), body: await r.text()}))`)
	var dl struct {
		Status      int
		Disposition string
		Body        string
	}
	if err := jsonUnmarshal(res, &dl); err != nil || dl.Status != http.StatusOK || !strings.HasPrefix(dl.Disposition, `attachment; filename="lux-usage-`) {
		t.Fatalf("CSV: %v %d %q", err, dl.Status, dl.Disposition)
	}
	rows, err := csv.NewReader(strings.NewReader(dl.Body)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("CSV does not parse: %v (%d rows)", err, len(rows))
	}
	var sum billing.Millicredits
	for _, r := range rows[1:] {
		m, err := billing.ParseCredits(r[3])
		if err != nil {
			t.Fatal(err)
		}
		sum += m
		got := tb.evalString(fmt.Sprintf(`(() => {
			const row = document.querySelector('[data-testid="usage-row"][data-bucket=%q]');
			const c = row && [...row.querySelectorAll('[data-testid="usage-cell"]')].find(td => td.dataset.group === %q);
			return c ? c.textContent.trim() : "missing";
		})()`, r[0], r[1]))
		if got != m.String() {
			t.Errorf("CSV %s × %s = %s, table %q", r[0], r[1], r[3], got)
		}
	}
	if got := tb.text(testID("usage-total")); got != sum.String() {
		t.Errorf("CSV sums to %s, table total %q", sum, got)
	}

	// Drill down: a top flow, its executions (load more in place), one execution's credits.
	tb.do(chromedp.Click(`[data-testid="top-flow"][data-flow="flow_lead_enrichment"] a`))
	tb.wait(testID("executions-table"))
	if got := tb.text(testID("page-title")); got != "Lead enrichment" {
		t.Errorf("flow page: %q", got)
	}
	tb.do(chromedp.Evaluate[chromedp.Void](`window.luxNoReload = "kept"`))
	if n := tb.count(`[data-testid="execution-row"]`); n != views.ExecutionsPerPage {
		t.Fatalf("first page: %d executions", n)
	}
	tb.do(chromedp.Click(testID("load-more")))
	tb.wait(chromedp.CSS(fmt.Sprintf(`#execution-rows tr[data-testid="execution-row"]:nth-child(%d)`, views.ExecutionsPerPage+1)))
	kept("load more")
	execID := tb.evalString(`document.querySelector('[data-testid="execution-row"]').dataset.execution`)
	tb.do(chromedp.Click(`[data-testid="execution-row"] [data-testid="execution-link"]`))
	tb.wait(testID("execution-cost"))
	cost, err := a.Reports.ExecutionCost(ctx, seeded.OrgID, execID)
	if err != nil {
		t.Fatal(err)
	}
	for typ, want := range cost.ByType {
		if got := tb.text(chromedp.CSS(fmt.Sprintf(`[data-testid="execution-type-credits"][data-type=%q] strong`, typ))); got != want.String() {
			t.Errorf("%s: %s credits %q, want %s", execID, typ, got, want)
		}
	}
	if got := tb.text(chromedp.CSS(`[data-testid="execution-total-credits"] strong`)); got != cost.Total.String() {
		t.Errorf("%s: total %q, want %s", execID, got, cost.Total)
	}
	if n := tb.count(`[data-testid="event-row"]`); n != 2 {
		t.Errorf("%s: %d events, want 2 (gpt-4o-mini and claude-haiku)", execID, n)
	}
	if got := tb.location(); !strings.HasPrefix(got, "/settings/billing/usage/executions/"+url.PathEscape(execID)+"?") {
		t.Errorf("execution URL %q", got)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// usageScreens are the usage views and drill-down pages TestScreenshots captures, for the
// demo organization; execID is an execution of its sales calls flow.
func usageScreens(execID string) []screen {
	return []screen{
		{"usage-by-flow", "/settings/billing/usage?range=90d&interval=week&groupBy=flow", "Usage", http.StatusOK},
		{"usage-by-member", "/settings/billing/usage?range=90d&interval=month&groupBy=user", "Usage", http.StatusOK},
		{"usage-bad-range", "/settings/billing/usage?range=custom&from=2026-03-10&to=2026-03-01", "Usage", http.StatusBadRequest},
		{"usage-flow", "/settings/billing/usage/flows/flow_sales_calls?range=30d&interval=day&groupBy=flow", "Outbound sales calls", http.StatusOK},
		{"usage-execution", "/settings/billing/usage/executions/" + url.PathEscape(execID), "Execution", http.StatusOK},
	}
}

// captureUsage is capture for pages with charts: it waits for every chart to be drawn.
func (tb *tab) captureUsage(dir, who string, s screen, dark bool) {
	tb.t.Helper()
	for _, w := range []struct {
		label string
		width int64
	}{{"desktop", desktopWidth}, {"phone", phoneWidth}} {
		tb.viewport(w.width, 900, dark)
		tb.checkPage(s)
		if tb.count("[data-chart]") > 0 {
			tb.do(chromedp.WaitVisible(chromedp.CSS(`[data-chart][data-ready]`)))
		}
		name := who + "-" + s.name + "-" + w.label
		if dark {
			name += "-dark"
		}
		tb.shoot(filepath.Join(dir, name+".png"), true)
	}
	tb.viewport(desktopWidth, 900, false)
}
