package handlers_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/reports"
	"github.com/luxstudio/lux-billing/views"
	"github.com/luxstudio/lux-billing/web/webtest"
)

// usageClock is the fixed "now" of the usage page tests: usage is recorded on March 2–19.
var usageClock = time.Date(2026, 3, 20, 15, 0, 0, 0, time.UTC)

// Ids the fixture records usage under; oddFlow and oddExec need escaping in a path.
const (
	oddFlow = "flow/odd?#%é+:"
	oddExec = "x/odd?#%+"
)

// usageSite is a site whose clock stands at usageClock, with organization A (admin Ada,
// member Mel) that used credits of every type in three flows and one with 55 executions, and
// organization B with a flow and an execution of its own.
type usageSite struct {
	*webtest.Site
	admin        *webtest.Browser
	orgA, orgB   string
	keyA         string
	adaID, melID string
}

func newUsageSite(t *testing.T) *usageSite {
	t.Helper()
	u := &usageSite{Site: webtest.SiteOf(t, webtest.New(t, webtest.Options{Clock: billingtest.NewClock(usageClock), BaseURL: "http://localhost"}))}
	u.admin, u.orgA = u.SignedUp("ada@example.com", "Alpha Org")
	ada, err := u.Identity.FindUserByEmail(ctx, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	u.adaID = ada.ID
	u.Member(u.orgA, "mel@example.com", identity.RoleMember)
	mel, err := u.Identity.FindUserByEmail(ctx, "mel@example.com")
	if err != nil {
		t.Fatal(err)
	}
	u.melID = mel.ID
	if u.keyA, _, err = u.Identity.CreateAPIKey(ctx, u.orgA, u.adaID, "test"); err != nil {
		t.Fatal(err)
	}
	if err := u.Billing.NameFlow(ctx, u.orgA, "flow_support", "Support triage"); err != nil {
		t.Fatal(err)
	}
	// Enough credits that nothing pauses.
	if _, err := u.Billing.GrantCredits(ctx, u.orgA, billing.GrantPurchase, billing.Credits(100000), nil, "test", "test"); err != nil {
		t.Fatal(err)
	}
	var events []billing.UsageEvent
	add := func(e billing.UsageEvent) {
		e.ID = fmt.Sprintf("e%d", len(events))
		events = append(events, e)
	}
	for d := 2; d <= 19; d++ {
		at := time.Date(2026, 3, d, 10, 0, 0, 0, time.UTC)
		s := fmt.Sprintf("s-%02d", d)
		add(billing.UsageEvent{FlowID: "flow_support", ExecutionID: s, UserID: u.adaID, Type: billing.TypeAI, Model: "claude-sonnet", Quantity: int64(1000 + 37*d), OccurredAt: at})
		add(billing.UsageEvent{FlowID: "flow_support", ExecutionID: s, UserID: u.adaID, Type: billing.TypeEmail, Quantity: 1, OccurredAt: at.Add(time.Second)})
		c := fmt.Sprintf("c-%02d", d)
		add(billing.UsageEvent{FlowID: "flow_calls", ExecutionID: c, UserID: u.melID, Type: billing.TypeVoiceCall, Quantity: int64(30 + d), OccurredAt: at.Add(time.Hour)})
		add(billing.UsageEvent{FlowID: "flow_calls", ExecutionID: c, UserID: u.melID, Type: billing.TypeVoiceSynthesis, Quantity: int64(900 + d), OccurredAt: at.Add(time.Hour + time.Second)})
		if d%2 == 1 {
			add(billing.UsageEvent{FlowID: oddFlow, ExecutionID: fmt.Sprintf("%s%d", oddExec, d), UserID: u.melID, Type: billing.TypeSMS, Quantity: 2, OccurredAt: at.Add(2 * time.Hour)})
		}
	}
	for i := range 55 {
		add(billing.UsageEvent{FlowID: "flow_many", ExecutionID: fmt.Sprintf("m-%02d", i), UserID: u.adaID, Type: billing.TypeEmail, Quantity: 1,
			OccurredAt: time.Date(2026, 3, 12, 8, i, 0, 0, time.UTC)})
	}
	if _, err := u.Billing.RecordUsage(ctx, u.orgA, u.adaID, events); err != nil {
		t.Fatal(err)
	}

	_, u.orgB = u.SignedUp("bob@example.com", "Bravo Org")
	bob, err := u.Identity.FindUserByEmail(ctx, "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Billing.RecordUsage(ctx, u.orgB, bob.ID, []billing.UsageEvent{
		{ID: "b1", FlowID: "flow_b", ExecutionID: "xb", Type: billing.TypeEmail, Quantity: 1, OccurredAt: usageClock.Add(-time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	return u
}

// usageTable is the usage page's table: the text of each cell by period start and group key,
// the group totals and the overall total.
type usageTable struct {
	cells     map[string]map[string]string // bucket → group → text
	rowTotals map[string]string
	colTotals map[string]string
	total     string
	groups    []string // the column keys in order
}

func readUsageTable(t *testing.T, doc *goquery.Document) usageTable {
	t.Helper()
	tab := usageTable{cells: map[string]map[string]string{}, rowTotals: map[string]string{}, colTotals: map[string]string{}}
	table := doc.Find(`[data-testid="usage-table"]`)
	if table.Length() != 1 {
		t.Fatalf("no usage table")
	}
	table.Find(`[data-testid="usage-col"]`).Each(func(_ int, s *goquery.Selection) {
		tab.groups = append(tab.groups, s.AttrOr("data-group", "?"))
	})
	table.Find(`[data-testid="usage-row"]`).Each(func(_ int, row *goquery.Selection) {
		b := row.AttrOr("data-bucket", "?")
		tab.cells[b] = map[string]string{}
		row.Find(`[data-testid="usage-cell"]`).Each(func(_ int, c *goquery.Selection) {
			tab.cells[b][c.AttrOr("data-group", "?")] = strings.TrimSpace(c.Text())
		})
		tab.rowTotals[b] = strings.TrimSpace(row.Find(`[data-testid="usage-row-total"]`).Text())
	})
	table.Find(`[data-testid="usage-col-total"]`).Each(func(_ int, c *goquery.Selection) {
		tab.colTotals[c.AttrOr("data-group", "?")] = strings.TrimSpace(c.Text())
	})
	tab.total = strings.TrimSpace(table.Find(`[data-testid="usage-total"]`).Text())
	return tab
}

// cell is how the table shows an amount: an en dash for none.
func cell(m billing.Millicredits) string {
	if m == 0 {
		return "–"
	}
	return m.String()
}

func TestUsagePage_TableTotalsEqualTheReportInEveryGrouping(t *testing.T) {
	t.Parallel()
	u := newUsageSite(t)
	from, to := reports.NewDate(2026, 3, 1), reports.NewDate(2026, 3, 20)
	for _, g := range reports.GroupBys {
		for _, i := range reports.Intervals {
			t.Run(string(g)+"-"+string(i), func(t *testing.T) {
				q := reports.Query{From: from, To: to, Interval: i, GroupBy: g}
				want, err := u.Reports.UsageReport(ctx, u.orgA, q)
				if err != nil {
					t.Fatal(err)
				}
				p := u.admin.Get(fmt.Sprintf("/settings/billing/usage?from=%s&to=%s&interval=%s&groupBy=%s", from, to, i, g))
				webtest.WantStatus(t, p, http.StatusOK)
				tab := readUsageTable(t, p.Doc)
				if tab.total != want.Total.Credits.String() || p.Text(`[data-testid="usage-total-credits"]`) != want.Total.Credits.String()+" credits" {
					t.Errorf("total: table %q, card %q, want %s", tab.total, p.Text(`[data-testid="usage-total-credits"]`), want.Total.Credits)
				}
				if len(tab.groups) != len(want.Groups) {
					t.Fatalf("columns %v, want %d groups", tab.groups, len(want.Groups))
				}
				breakdown := map[string]string{}
				p.Doc.Find(`[data-testid="usage-group"]`).Each(func(_ int, s *goquery.Selection) {
					breakdown[s.AttrOr("data-group", "?")] = strings.TrimSpace(s.Find(`[data-testid="usage-group-credits"]`).Text())
				})
				for gi, grp := range want.Groups {
					if tab.groups[gi] != grp.Key {
						t.Errorf("column %d is %q, want %q (most credits first)", gi, tab.groups[gi], grp.Key)
					}
					if got := tab.colTotals[grp.Key]; got != grp.Total.Credits.String() {
						t.Errorf("total of %q = %q, want %s", grp.Key, got, grp.Total.Credits)
					}
					if got := breakdown[grp.Key]; got != grp.Total.Credits.String() {
						t.Errorf("breakdown of %q = %q, want %s", grp.Key, got, grp.Total.Credits)
					}
					for bi, b := range want.Buckets {
						if got := tab.cells[b.Start.String()][grp.Key]; got != cell(grp.Series[bi].Credits) {
							t.Errorf("%s × %q = %q, want %s", b.Start, grp.Key, got, cell(grp.Series[bi].Credits))
						}
					}
				}
				if len(tab.cells) != len(want.Buckets) {
					t.Errorf("%d rows, want %d buckets", len(tab.cells), len(want.Buckets))
				}
				for _, b := range want.Buckets {
					if got := tab.rowTotals[b.Start.String()]; got != cell(b.Total.Credits) {
						t.Errorf("row %s total = %q, want %s", b.Start, got, cell(b.Total.Credits))
					}
				}
				// The chart draws the same series.
				var chart struct {
					Labels []string `json:"labels"`
					Series []struct {
						Label string                 `json:"label"`
						Data  []billing.Millicredits `json:"data"`
					} `json:"series"`
				}
				if err := json.Unmarshal([]byte(p.Doc.Find(`[data-chart="usage"]`).AttrOr("data-chart-data", "")), &chart); err != nil {
					t.Fatalf("chart data: %v", err)
				}
				if len(chart.Series) != len(want.Groups) || len(chart.Labels) != len(want.Buckets) {
					t.Fatalf("chart: %d series × %d labels, want %d × %d", len(chart.Series), len(chart.Labels), len(want.Groups), len(want.Buckets))
				}
				for gi, grp := range want.Groups {
					if chart.Series[gi].Label != grp.Label {
						t.Errorf("series %d = %q, want %q", gi, chart.Series[gi].Label, grp.Label)
					}
				}
			})
		}
	}
}

func TestUsagePage_AgreesWithTheAPI(t *testing.T) {
	t.Parallel()
	u := newUsageSite(t)
	for _, query := range []string{
		"from=2026-03-01&to=2026-03-20&interval=week&groupBy=flow",
		"from=2026-03-05&to=2026-03-19&interval=day&groupBy=user",
		"range=7d&interval=day&groupBy=type",
	} {
		req, _ := http.NewRequest(http.MethodGet, u.URL+"/api/v1/usage?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+u.keyA)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var api struct {
			From, To string
			Buckets  []struct{ Start string }
			Groups   []struct {
				Key     string
				Total   struct{ Credits json.Number }
				Credits []json.Number
			}
			Total struct{ Credits json.Number }
		}
		dec := json.NewDecoder(res.Body)
		dec.UseNumber()
		err = dec.Decode(&api)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("API %s: %d %v", query, res.StatusCode, err)
		}
		p := u.admin.Get("/settings/billing/usage?" + query)
		webtest.WantStatus(t, p, http.StatusOK)
		tab := readUsageTable(t, p.Doc)
		credits := func(n json.Number) billing.Millicredits {
			m, err := billing.ParseCredits(n.String())
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		if tab.total != credits(api.Total.Credits).String() {
			t.Errorf("%s: page total %q, API %s", query, tab.total, api.Total.Credits)
		}
		if len(tab.groups) != len(api.Groups) || len(tab.cells) != len(api.Buckets) {
			t.Fatalf("%s: page %d groups × %d buckets, API %d × %d", query, len(tab.groups), len(tab.cells), len(api.Groups), len(api.Buckets))
		}
		for _, g := range api.Groups {
			if got := tab.colTotals[g.Key]; got != credits(g.Total.Credits).String() {
				t.Errorf("%s: %q total on the page %q, API %s", query, g.Key, got, g.Total.Credits)
			}
			for i, b := range api.Buckets {
				if got := tab.cells[b.Start][g.Key]; got != cell(credits(g.Credits[i])) {
					t.Errorf("%s: %s × %q on the page %q, API %s", query, b.Start, g.Key, got, g.Credits[i])
				}
			}
		}
		if from, _ := p.Doc.Find(`#usage-from`).Attr("value"); from != api.From {
			t.Errorf("%s: the form shows from %q, the API covered %s", query, from, api.From)
		}
	}
}

func TestUsageCSV_IsTheViewOfThePage(t *testing.T) {
	t.Parallel()
	u := newUsageSite(t)
	for _, query := range []string{
		"from=2026-03-01&to=2026-03-20&interval=week&groupBy=flow",
		"from=2026-03-01&to=2026-03-20&interval=day&groupBy=type",
		"range=30d&interval=month&groupBy=user",
	} {
		p := u.admin.Get("/settings/billing/usage?" + query)
		webtest.WantStatus(t, p, http.StatusOK)
		tab := readUsageTable(t, p.Doc)
		href, ok := p.Doc.Find(`[data-testid="usage-csv"]`).Attr("href")
		if !ok || !strings.HasPrefix(href, "/settings/billing/usage.csv?") {
			t.Fatalf("%s: CSV link %q", query, href)
		}
		res, err := u.admin.Client.Get(u.URL + href)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("%s: CSV %d %s: %s", query, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		link, _ := url.Parse(href)
		lq := link.Query()
		from, _ := reports.ParseDate(lq.Get("from"))
		to, _ := reports.ParseDate(lq.Get("to"))
		wantName := reports.CSVFilename(reports.Query{From: from, To: to,
			Interval: reports.Interval(lq.Get("interval")), GroupBy: reports.GroupBy(lq.Get("groupBy"))})
		if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="`+wantName+`"` {
			t.Errorf("%s: Content-Disposition %q, want %s", query, cd, wantName)
		}
		rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
		if err != nil {
			t.Fatalf("%s: CSV does not parse: %v", query, err)
		}
		if strings.Join(rows[0], ",") != strings.Join(reports.CSVHeader, ",") {
			t.Errorf("header %v", rows[0])
		}
		nonEmpty := 0
		for _, cells := range tab.cells {
			for _, v := range cells {
				if v != "–" {
					nonEmpty++
				}
			}
		}
		if len(rows)-1 != nonEmpty {
			t.Errorf("%s: %d CSV rows, the table has %d cells with usage", query, len(rows)-1, nonEmpty)
		}
		var sum billing.Millicredits
		for _, r := range rows[1:] {
			m, err := billing.ParseCredits(r[3])
			if err != nil {
				t.Fatal(err)
			}
			sum += m
			if got := tab.cells[r[0]][r[1]]; got != m.String() {
				t.Errorf("%s: CSV %s × %q = %s, the table shows %q", query, r[0], r[1], r[3], got)
			}
		}
		if sum.String() != tab.total {
			t.Errorf("%s: CSV sums to %s, the table to %s", query, sum, tab.total)
		}
	}
}

func TestUsagePage_BadParametersAreExplainedInline400(t *testing.T) {
	t.Parallel()
	u := newUsageSite(t)
	for _, c := range []struct{ query, want string }{
		{"from=2026-03-10&to=2026-03-01", "before the start date"},
		{"range=custom&from=2024-01-01&to=2026-03-01", "at most 400 days"},
		{"range=30d&interval=hour", `The interval "hour" is not one of daily, weekly or monthly`},
		{"range=30d&groupBy=team", `Usage cannot be grouped by "team": group it by integration, flow or member`},
		{"range=forever", `The range "forever" is not one of the ranges offered`},
		{"range=custom&from=March+first&to=2026-03-01", "use YYYY-MM-DD"},
		{"range=custom", "needs a start and an end date"},
	} {
		p := u.admin.Get("/settings/billing/usage?" + c.query)
		webtest.WantStatus(t, p, http.StatusBadRequest)
		if msg := p.Text(`[data-testid="usage-error"]`); !strings.Contains(msg, c.want) {
			t.Errorf("%s: message %q, want it to say %q", c.query, msg, c.want)
		}
		if !p.Has(`[data-testid="usage-filters"]`) || p.Has(`[data-testid="usage-table"]`) || !p.Has(`[data-testid="nav-usage"]`) {
			t.Errorf("%s: want the page with its form and message, no table", c.query)
		}
		// htmx gets the same message in the part of the page it swaps.
		p = u.admin.Get("/settings/billing/usage?"+c.query, "HX-Request", "true")
		webtest.WantStatus(t, p, http.StatusBadRequest)
		if !strings.Contains(p.Text(`[data-testid="usage-error"]`), c.want) || strings.Contains(p.Body, "<html") {
			t.Errorf("%s: htmx answer %s", c.query, p.Body)
		}
	}
	// The form keeps what was typed, so it can be corrected.
	p := u.admin.Get("/settings/billing/usage?range=custom&from=2026-03-10&to=2026-03-01&interval=week")
	if v, _ := p.Doc.Find(`#usage-from`).Attr("value"); v != "2026-03-10" {
		t.Errorf("from = %q", v)
	}
	if !p.Has(`#usage-interval-week[checked]`) || !p.Has(`#usage-range option[value="custom"][selected]`) {
		t.Errorf("the form lost the interval or the custom range")
	}
	// A CSV of a bad view is an error page, not an attachment.
	p = u.admin.Get("/settings/billing/usage.csv?from=2026-03-10&to=2026-03-01")
	webtest.WantStatus(t, p, http.StatusBadRequest)
	if p.Header.Get("Content-Disposition") != "" || !p.Has(`[data-testid="error-page"]`) {
		t.Errorf("bad CSV: %s %s", p.Header.Get("Content-Disposition"), p.Body)
	}
}

func TestUsagePage_HTMXSwapsTheSameViewAPlainGETRenders(t *testing.T) {
	t.Parallel()
	u := newUsageSite(t)
	path := "/settings/billing/usage?range=custom&from=2026-03-01&to=2026-03-20&interval=week&groupBy=flow"
	full := u.admin.Get(path)
	frag := u.admin.Get(path, "HX-Request", "true")
	webtest.WantStatus(t, full, http.StatusOK)
	webtest.WantStatus(t, frag, http.StatusOK)
	if strings.Contains(frag.Body, "<html") || frag.Has(`[data-testid="nav-usage"]`) {
		t.Fatalf("htmx got a whole page")
	}
	a, _ := full.Doc.Find(`#usage-view`).Html()
	b, _ := frag.Doc.Find(`#usage-view`).Html()
	if a == "" || a != b {
		t.Errorf("the swapped view differs from the page's")
	}
	form := full.Doc.Find(`form[data-testid="usage-filters"]`)
	if form.AttrOr("method", "") != "get" || form.AttrOr("action", "") != "/settings/billing/usage" ||
		form.AttrOr("hx-get", "") != "/settings/billing/usage" || form.AttrOr("hx-push-url", "") != "true" || form.AttrOr("hx-target", "") != "#usage-view" {
		t.Errorf("form: %s", outer(form))
	}
	// htmx restoring history asks for the whole page.
	restore := u.admin.Get(path, "HX-Request", "true", "HX-History-Restore-Request", "true")
	if !strings.Contains(restore.Body, "<html") {
		t.Errorf("a history restore got a fragment")
	}
}

func TestUsagePage_PresetsRollAndTypedDatesMakeACustomRange(t *testing.T) {
	t.Parallel()
	u := newUsageSite(t)
	p := u.admin.Get("/settings/billing/usage")
	webtest.WantStatus(t, p, http.StatusOK)
	if !p.Has(`#usage-range option[value="30d"][selected]`) || p.Doc.Find(`#usage-from`).AttrOr("value", "") != "2026-02-19" ||
		p.Doc.Find(`#usage-to`).AttrOr("value", "") != "2026-03-20" || !p.Has(`#usage-interval-day[checked]`) || !p.Has(`#usage-groupBy-type[checked]`) {
		t.Errorf("default view: %s", outer(p.Doc.Find(`#usage-filters`)))
	}
	// Without JavaScript the form sends the dates it shows: the preset's are the preset.
	p = u.admin.Get("/settings/billing/usage?range=7d&from=2026-03-14&to=2026-03-20&interval=day&groupBy=type")
	if !p.Has(`#usage-range option[value="7d"][selected]`) {
		t.Errorf("a preset with its own dates is not the preset any more")
	}
	// Dates typed over a preset make the range custom.
	p = u.admin.Get("/settings/billing/usage?range=7d&from=2026-03-02&to=2026-03-03&interval=day&groupBy=type")
	if !p.Has(`#usage-range option[value="custom"][selected]`) || len(readUsageTable(t, p.Doc).cells) != 2 {
		t.Errorf("typed dates were not used")
	}
	// Links from the view keep it: a preset stays a preset.
	href := p.Doc.Find(`[data-testid="usage-group"] a, [data-testid="top-flow-link"]`).First().AttrOr("href", "")
	if !strings.Contains(href, "range=custom") || !strings.Contains(href, "from=2026-03-02") {
		t.Errorf("drill-down link %q loses the view", href)
	}
}

func TestUsagePage_EmptyStatesExplainThemselves(t *testing.T) {
	t.Parallel()
	u := newUsageSite(t)
	fresh, _ := u.SignedUp("new@example.com", "Fresh Org")
	p := fresh.Get("/settings/billing/usage")
	webtest.WantStatus(t, p, http.StatusOK)
	if got := p.Text(`[data-testid="usage-empty"] h2`); got != "No usage yet" {
		t.Errorf("new org: %q", got)
	}
	if p.Has(`[data-testid="usage-table"]`) {
		t.Errorf("a new org gets an empty table")
	}
	p = u.admin.Get("/settings/billing/usage?from=2026-01-01&to=2026-01-31")
	webtest.WantStatus(t, p, http.StatusOK)
	if got := p.Text(`[data-testid="usage-empty"]`); !strings.Contains(got, "No usage in this range") || !strings.Contains(got, "between Jan 1 and Jan 31") {
		t.Errorf("empty range: %q", got)
	}
}

func TestUsagePage_MemberSeesTheUsage(t *testing.T) {
	t.Parallel()
	u := newUsageSite(t)
	m := u.Browser()
	m.Login("mel@example.com", "correct horse")
	p := m.Get("/settings/billing/usage?range=30d&groupBy=user")
	webtest.WantStatus(t, p, http.StatusOK)
	tab := readUsageTable(t, p.Doc)
	if len(tab.groups) != 2 || p.Text(`[data-testid="user-role"]`) != "Member" {
		t.Errorf("member sees groups %v", tab.groups)
	}
	if !p.Has(`[data-testid="forecast"]`) || !p.Has(`[data-testid="top-flow"]`) {
		t.Errorf("member misses the forecast or top flows")
	}
	webtest.WantStatus(t, m.Get("/settings/billing/usage/flows/flow_support"), http.StatusOK)
	webtest.WantStatus(t, m.Get("/settings/billing/usage/executions/s-02"), http.StatusOK)
}

func TestUsageDrillDown_FlowToExecutionWithEscapedIDs(t *testing.T) {
	t.Parallel()
	u := newUsageSite(t)
	p := u.admin.Get("/settings/billing/usage?range=30d&groupBy=flow")
	var href string
	p.Doc.Find(`[data-testid="flow-link"]`).Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Text()) == oddFlow {
			href = s.AttrOr("href", "")
		}
	})
	if !strings.HasPrefix(href, "/settings/billing/usage/flows/"+url.PathEscape(oddFlow)+"?") {
		t.Fatalf("flow link %q", href)
	}
	flow := u.admin.Get(href)
	webtest.WantStatus(t, flow, http.StatusOK)
	if got := flow.Text(`[data-testid="flow-id"] code`); got != oddFlow {
		t.Errorf("flow id %q", got)
	}
	if n := flow.Doc.Find(`[data-testid="execution-row"]`).Length(); n != 9 {
		t.Errorf("%d executions, want 9", n)
	}
	first := flow.Doc.Find(`[data-testid="execution-row"]`).First()
	if id := first.AttrOr("data-execution", ""); id != oddExec+"19" {
		t.Errorf("newest execution %q", id)
	}
	exec := u.admin.Get(first.Find(`[data-testid="execution-link"]`).AttrOr("href", ""))
	webtest.WantStatus(t, exec, http.StatusOK)
	cost, err := u.Reports.ExecutionCost(ctx, u.orgA, oddExec+"19")
	if err != nil {
		t.Fatal(err)
	}
	if got := exec.Text(`[data-testid="execution-id"] code`); got != oddExec+"19" {
		t.Errorf("execution id %q", got)
	}
	if got := exec.Text(`[data-testid="execution-type-credits"][data-type="sms"] strong`); got != cost.ByType["sms"].String() {
		t.Errorf("SMS credits %q, want %s", got, cost.ByType["sms"])
	}
	if got := exec.Text(`[data-testid="execution-total-credits"] strong`); got != cost.Total.String() {
		t.Errorf("total %q, want %s", got, cost.Total)
	}

	// A flow with both types: per-type credits on the flow page and the events behind them.
	flow = u.admin.Get("/settings/billing/usage/flows/flow_support?range=30d")
	webtest.WantStatus(t, flow, http.StatusOK)
	if got := flow.Text(`[data-testid="page-title"]`); got != "Support triage" {
		t.Errorf("flow title %q", got)
	}
	row := flow.Doc.Find(`[data-testid="execution-row"][data-execution="s-19"]`)
	support, _ := u.Reports.ExecutionCost(ctx, u.orgA, "s-19")
	if got := strings.TrimSpace(row.Find(`[data-testid="execution-total"]`).Text()); got != support.Total.String() {
		t.Errorf("s-19 total %q, want %s", got, support.Total)
	}
	if got := strings.Join(strings.Fields(row.Find(`[data-testid="execution-types"]`).Text()), " "); got != "AI "+support.ByType["ai"].String()+" Email 1" {
		t.Errorf("s-19 by type %q", got)
	}
	exec = u.admin.Get("/settings/billing/usage/executions/s-19")
	events := exec.Doc.Find(`[data-testid="event-row"]`)
	if events.Length() != 2 {
		t.Fatalf("%d events", events.Length())
	}
	var cells []string
	events.First().Find("td").Each(func(_ int, td *goquery.Selection) {
		cells = append(cells, strings.Join(strings.Fields(td.Text()), " "))
	})
	if got := strings.Join(cells, " | "); got != "Mar 19, 10:00:00 e76 | AI | Claude Sonnet | 1,703 tokens | 8.515 | Ada Lovelace" {
		t.Errorf("first event %q", got)
	}

	// A range in which the flow used nothing still lists its executions.
	quiet := u.admin.Get("/settings/billing/usage/flows/flow_support?from=2026-01-01&to=2026-01-31")
	webtest.WantStatus(t, quiet, http.StatusOK)
	if !quiet.Has(`[data-testid="flow-no-usage-in-range"]`) || quiet.Doc.Find(`[data-testid="execution-row"]`).Length() != 18 || quiet.Has(`[data-chart]`) {
		t.Errorf("flow page for a quiet range: %s", quiet.Text(`main`))
	}

	// The events as CSV.
	res, err := u.admin.Client.Get(u.URL + "/settings/billing/usage/executions/" + url.PathEscape(oddExec+"19") + "/events.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	res.Body.Close()
	if err != nil || len(rows) != 2 || rows[1][4] != oddExec+"19" || rows[1][9] != cost.ByType["sms"].Decimal() {
		t.Errorf("events CSV: %v %v", rows, err)
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="lux-execution-x_odd____19-events.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
}

func TestUsageDrillDown_LoadMoreFollowsTheCursor(t *testing.T) {
	t.Parallel()
	u := newUsageSite(t)
	p := u.admin.Get("/settings/billing/usage/flows/flow_many?range=30d&interval=week")
	webtest.WantStatus(t, p, http.StatusOK)
	if n := p.Doc.Find(`[data-testid="execution-row"]`).Length(); n != views.ExecutionsPerPage {
		t.Fatalf("first page: %d rows", n)
	}
	more := p.Doc.Find(`[data-testid="load-more"]`)
	href := more.AttrOr("href", "")
	if href == "" || more.AttrOr("hx-get", "") != href || !strings.Contains(href, "cursor=") || !strings.Contains(href, "interval=week") {
		t.Fatalf("load more: %s", outer(more))
	}
	// htmx: the next rows only, ending the list.
	frag := u.admin.Get(href, "HX-Request", "true")
	webtest.WantStatus(t, frag, http.StatusOK)
	if strings.Contains(frag.Body, "<html") || strings.Contains(frag.Body, "<table") {
		t.Errorf("htmx got more than rows")
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + frag.Body + "</tbody></table>"))
	if n := doc.Find(`[data-testid="execution-row"]`).Length(); n != views.ExecutionsPerPage || doc.Find(`[data-testid="load-more"]`).Length() != 1 {
		t.Errorf("next page: %d rows: %s", n, frag.Body)
	}
	seen := map[string]bool{}
	for _, d := range []*goquery.Document{p.Doc, doc} {
		d.Find(`[data-testid="execution-row"]`).Each(func(_ int, s *goquery.Selection) { seen[s.AttrOr("data-execution", "")] = true })
	}
	if len(seen) != 2*views.ExecutionsPerPage {
		t.Errorf("%d different executions over two pages, want %d", len(seen), 2*views.ExecutionsPerPage)
	}
	// Without JavaScript the link opens the next page whole; the last one says it is.
	page2 := u.admin.Get(href)
	if n := page2.Doc.Find(`[data-testid="execution-row"]`).Length(); n != views.ExecutionsPerPage || !page2.Has(`[data-testid="nav-usage"]`) {
		t.Errorf("page 2: %d rows", n)
	}
	page3 := u.admin.Get(page2.Doc.Find(`[data-testid="load-more"]`).AttrOr("href", ""))
	if n := page3.Doc.Find(`[data-testid="execution-row"]`).Length(); n != 55-2*views.ExecutionsPerPage || !page3.Has(`[data-testid="executions-end"]`) {
		t.Errorf("page 3: %d rows", n)
	}
	for _, d := range []*goquery.Document{page3.Doc} {
		d.Find(`[data-testid="execution-row"]`).Each(func(_ int, s *goquery.Selection) { seen[s.AttrOr("data-execution", "")] = true })
	}
	if len(seen) != 55 {
		t.Errorf("%d different executions over all pages, want 55", len(seen))
	}
}

func TestUsageDrillDown_OtherOrganizationsIDsAre404(t *testing.T) {
	t.Parallel()
	u := newUsageSite(t)
	for _, path := range []string{
		"/settings/billing/usage/flows/flow_b",
		"/settings/billing/usage/executions/xb",
		"/settings/billing/usage/executions/xb/events.csv",
		"/settings/billing/usage/flows/no-such-flow",
		"/settings/billing/usage/executions/" + url.PathEscape("no/such"),
	} {
		p := u.admin.Get(path)
		webtest.WantStatus(t, p, http.StatusNotFound)
		if !p.Has(`[data-testid="error-page"]`) || strings.Contains(p.Body, "Bravo") || p.Header.Get("Content-Disposition") != "" {
			t.Errorf("%s: want a 404 page that tells nothing of the other org", path)
		}
	}
	// B's own admin sees them.
	b := u.Browser()
	b.Login("bob@example.com", "correct horse")
	webtest.WantStatus(t, b.Get("/settings/billing/usage/flows/flow_b"), http.StatusOK)
	webtest.WantStatus(t, b.Get("/settings/billing/usage/executions/xb"), http.StatusOK)
}

func TestOverview_ForecastIsTheDomainForecast(t *testing.T) {
	t.Parallel()
	u := newUsageSite(t)
	f, err := u.Reports.Forecast(ctx, u.orgA)
	if err != nil {
		t.Fatal(err)
	}
	p := u.admin.Get("/settings/billing")
	want := views.ForecastSentence(f, time.UTC)
	if got := strings.Join(strings.Fields(p.Text(`[data-testid="forecast"]`)), " "); want == "" || !strings.HasPrefix(got, want) {
		t.Errorf("overview forecast %q, want %q", got, want)
	}
	p = u.admin.Get("/settings/billing/usage")
	if got := p.Text(`[data-testid="forecast-runout"]`); got != views.ForecastRunOut(f, time.UTC) {
		t.Errorf("usage forecast %q", got)
	}
}

// outer is the HTML of the first element of sel, for failure messages.
func outer(sel *goquery.Selection) string {
	h, _ := goquery.OuterHtml(sel)
	return h
}

func TestUsagePage_DatesAndTimesAreTheOrganizations(t *testing.T) {
	t.Parallel()
	u := newUsageSite(t)
	if err := u.Billing.SetTimezone(ctx, u.orgA, "America/New_York"); err != nil {
		t.Fatal(err)
	}
	// s-19 happened at 10:00 UTC on March 19: 06:00 in New York (daylight time since March 8).
	p := u.admin.Get("/settings/billing/usage/executions/s-19")
	webtest.WantStatus(t, p, http.StatusOK)
	if got := p.Text(`[data-testid="event-row"] td`); !strings.HasPrefix(got, "Mar 19, 06:00:00") {
		t.Errorf("event time %q, want New York time", got)
	}
	if got := p.Text(`[data-testid="events"] .card-head p`); !strings.Contains(got, "America/New_York") {
		t.Errorf("zone note %q", got)
	}
	p = u.admin.Get("/settings/billing/usage?from=2026-03-01&to=2026-03-31&interval=week")
	webtest.WantStatus(t, p, http.StatusOK)
	if got := p.Text(`[data-testid="usage-row"][data-bucket="2026-03-16"] th`); !strings.HasPrefix(got, "Week of Mar 16") {
		t.Errorf("week label %q", got)
	}
	if got := p.Text(`[data-testid="usage-chart-card"] .card-head p`); !strings.Contains(got, "days in America/New_York") {
		t.Errorf("chart note %q", got)
	}
}

func TestUsageCSV_IsStreamedNotBuffered(t *testing.T) {
	t.Parallel()
	u := newUsageSite(t)
	res, err := u.admin.Client.Get(u.URL + "/settings/billing/usage.csv?from=2026-03-01&to=2026-03-20&groupBy=flow")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	// A buffered response would know its length; a streamed one is sent in chunks as it is written.
	if res.StatusCode != http.StatusOK || res.ContentLength != -1 || len(res.TransferEncoding) == 0 || res.TransferEncoding[0] != "chunked" {
		t.Errorf("status %d, length %d, transfer encoding %v", res.StatusCode, res.ContentLength, res.TransferEncoding)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
	}
}
