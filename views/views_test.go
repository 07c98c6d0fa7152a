package views_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/payments"
	"github.com/luxstudio/lux-billing/billing/reports"
	"github.com/luxstudio/lux-billing/views"
)

func render(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func text(doc *goquery.Document, testID string) string {
	return strings.Join(strings.Fields(doc.Find(`[data-testid="`+testID+`"]`).First().Text()), " ")
}

func mc(n int64) *billing.Millicredits {
	m := billing.Credits(n)
	return &m
}

var now = time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)

func overview(role string, mutate func(*views.Overview)) views.Overview {
	v := views.Overview{
		Shell: views.Shell{Title: "Billing overview", Active: views.NavOverview, CSRF: "tok", UserName: "Ada Lovelace",
			UserEmail: "ada@example.com", OrgID: "org_1", OrgName: "Engines", Role: role},
		Now: now, Loc: time.UTC,
		Credits: &billing.CreditSummary{
			OrgName: "Engines", Plan: billing.Plan{Code: "pro", Name: "Pro", MonthlyCredits: mc(100000), PriceCents: 24900},
			Allotment: billing.Credits(100000), AllotmentRemaining: billing.Credits(40000), Purchased: billing.Credits(5000),
			Balance: billing.Credits(45000), CycleStart: now.AddDate(0, 0, -13), CycleEnd: time.Date(2026, 12, 14, 9, 0, 0, 0, time.UTC),
			CycleUsed: billing.Credits(60000),
		},
		Member: &billing.MemberStanding{Used: billing.Credits(1234)},
	}
	runsOut := now.Add(9*24*time.Hour + 3*time.Hour)
	v.Forecast = &reports.Forecast{At: now, DailyRate: billing.Credits(4615) + 384, Balance: v.Credits.Balance,
		RunsOutAt: &runsOut, CycleStart: v.Credits.CycleStart, CycleEnd: v.Credits.CycleEnd,
		CycleUsed: v.Credits.CycleUsed, CycleProjected: billing.Credits(130000) + 250}
	if mutate != nil {
		mutate(&v)
	}
	return v
}

func TestOverviewPage_BalanceResetDateAndNoLimit(t *testing.T) {
	doc := render(t, views.OverviewPage(overview(identity.RoleAdmin, nil)))
	if got := text(doc, "balance"); got != "45,000 credits" {
		t.Errorf("balance = %q", got)
	}
	if got := text(doc, "allotment-reset"); got != "resets Dec 14" {
		t.Errorf("reset = %q", got)
	}
	if got := text(doc, "allotment"); !strings.Contains(got, "40,000 of 100,000") {
		t.Errorf("allotment = %q", got)
	}
	if got := text(doc, "no-monthly-limit"); !strings.HasPrefix(got, "No monthly limit") || !strings.Contains(got, "Set a limit") {
		t.Errorf("no-limit note = %q", got)
	}
	if got := text(doc, "forecast"); !strings.Contains(got, "about 4,615 credits a day") || !strings.Contains(got, "credits run out about Dec 6, in 9 days") ||
		!strings.Contains(got, "this cycle will end at about 130,000 credits") {
		t.Errorf("forecast = %q", got)
	}
	for _, id := range []string{"pause-banner", "member-pause-banner", "arrears", "cycle-meter", "welcome-banner"} {
		if doc.Find(`[data-testid="`+id+`"]`).Length() != 0 {
			t.Errorf("unexpected %s", id)
		}
	}
	if doc.Find(`[data-testid="nav-overview"][aria-current="page"]`).Length() != 1 {
		t.Errorf("the nav does not mark the overview as current")
	}
}

func TestOverviewPage_LimitMeterArrearsAndPause(t *testing.T) {
	v := overview(identity.RoleMember, func(v *views.Overview) {
		v.Credits.MonthlyLimit = mc(80000)
		v.Credits.CycleUsed = billing.Credits(80000)
		v.Credits.Paused, v.Credits.PauseReason = true, billing.ReasonMonthlyLimitReached
		v.Credits.Arrears = 1500
		v.Member.Limit = mc(2000)
		v.Admins = []identity.Contact{{Name: "Alex Admin", Email: "alex@example.com"}, {Email: "b@example.com"}}
	})
	doc := render(t, views.OverviewPage(v))
	meter := doc.Find(`[data-testid="cycle-meter"]`)
	if now, _ := meter.Attr("aria-valuenow"); now != "100" || !meter.HasClass("full") {
		t.Errorf("meter at %q, classes %q", now, meter.AttrOr("class", ""))
	}
	if got := text(doc, "monthly-limit"); got != "Limit 80,000" {
		t.Errorf("limit = %q", got)
	}
	if got := text(doc, "arrears"); !strings.Contains(got, "−1.5") {
		t.Errorf("arrears = %q", got)
	}
	banner := text(doc, "pause-banner")
	if !strings.Contains(banner, billing.PauseMessage(billing.ReasonMonthlyLimitReached)) || !strings.Contains(banner, "Ask an admin, such as Alex Admin") {
		t.Errorf("banner = %q", banner)
	}
	if doc.Find(`[data-testid="pause-banner"] a`).Length() != 0 {
		t.Errorf("a member's pause banner links to admin pages")
	}
	if got := text(doc, "member-limit"); got != "Your limit 2,000" {
		t.Errorf("member limit = %q", got)
	}
	if doc.Find(`[data-testid="nav-credits"], [data-testid="add-credits"]`).Length() != 0 {
		t.Errorf("a member sees admin links")
	}
}

func TestOverviewPage_AdminPausedForCreditsGetsActions(t *testing.T) {
	doc := render(t, views.OverviewPage(overview(identity.RoleAdmin, func(v *views.Overview) {
		v.Credits.Balance, v.Credits.Paused, v.Credits.PauseReason = -200, true, billing.ReasonCreditsExhausted
	})))
	if doc.Find(`[data-testid="pause-banner"] a[href="/settings/billing/credits"]`).Length() != 1 {
		t.Errorf("no Add credits action in the admin's banner")
	}
	if !doc.Find(`[data-testid="balance"]`).HasClass("negative") {
		t.Errorf("a negative balance is not marked")
	}
}

func TestOverviewPage_MemberLimitReached(t *testing.T) {
	doc := render(t, views.OverviewPage(overview(identity.RoleMember, func(v *views.Overview) {
		v.Member.Limit = mc(1000)
	})))
	if got := text(doc, "member-pause-banner"); !strings.Contains(got, "Your flows are paused") {
		t.Errorf("member banner = %q", got)
	}
}

func TestActivity_TitlesAndSigns(t *testing.T) {
	doc := render(t, views.OverviewPage(overview(identity.RoleAdmin, func(v *views.Overview) {
		v.Usage = []reports.Activity{
			{Kind: "usage", Amount: -billing.Credits(12), Memo: "Usage: 49 events", At: now.Add(-time.Hour)},
			{Kind: "usage", Amount: -500, Unfunded: 200, Memo: "Usage: Email (flow_1)", At: now.AddDate(0, 0, -1)},
		}
		v.Credited = []reports.Activity{
			{Kind: "grant", GrantKind: billing.GrantPurchase, Amount: billing.Credits(5000), Memo: "Purchased 5000 credits", At: time.Date(2026, 10, 31, 9, 0, 0, 0, time.UTC)},
			{Kind: "grant", GrantKind: billing.GrantPromo, Amount: billing.Credits(50), Memo: "Launch week", At: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)},
		}
	})))
	var rows []string
	doc.Find(`[data-testid="activity-row"]`).Each(func(_ int, s *goquery.Selection) {
		var cells []string
		s.Find("td").Each(func(_ int, td *goquery.Selection) { cells = append(cells, td.Text()) })
		rows = append(rows, strings.Join(strings.Fields(strings.Join(cells, " ")), " "))
	})
	want := []string{
		"49 usage events Today, 14:00 −12",
		"Email (flow_1) Yesterday, 15:00 · 0.2 not covered (arrears) −0.5",
		"Purchased credits Oct 31, 09:00 +5,000",
		"Promotional credits Mar 1, 2025 · Launch week +50",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}

func TestApp_OrgSwitcherOnlyWithSeveralOrgs(t *testing.T) {
	s := views.Shell{OrgName: "One", Role: identity.RoleAdmin, CSRF: "tok", Orgs: []views.OrgChoice{{ID: "o1", Name: "One", Current: true}}}
	doc := render(t, views.PlansPage(views.Plans{Shell: s}))
	if doc.Find(`[data-testid="org-switcher"]`).Length() != 0 {
		t.Errorf("switcher with one org")
	}
	s.Orgs = append(s.Orgs, views.OrgChoice{ID: "o2", Name: "Two", Role: identity.RoleMember})
	doc = render(t, views.PlansPage(views.Plans{Shell: s}))
	if n := doc.Find(`[data-testid="org-option"]`).Length(); n != 2 {
		t.Fatalf("%d org options", n)
	}
	if doc.Find(`[data-testid="org-option"][aria-current="true"]`).AttrOr("data-org-id", "") != "o1" {
		t.Errorf("current org not marked")
	}
	if v, _ := doc.Find(`body`).Attr("hx-headers"); v != `{"X-CSRF-Token":"tok"}` {
		t.Errorf("hx-headers = %q", v)
	}
	if doc.Find(`form[action="/settings/org"] input[name="_csrf"][value="tok"]`).Length() != 2 {
		t.Errorf("switch forms lack the CSRF token")
	}
}

func TestErrorView_SignedOutAndSignedIn(t *testing.T) {
	doc := render(t, views.ErrorView(views.ErrorPage{Status: 404, Message: "there is nothing at /x"}))
	if text(doc, "page-title") != "Page not found" || text(doc, "error-message") != "There is nothing at /x." {
		t.Errorf("404: %q / %q", text(doc, "page-title"), text(doc, "error-message"))
	}
	if doc.Find(`a[href="/login"]`).Length() == 0 || doc.Find(`nav#sidenav`).Length() != 0 {
		t.Errorf("signed-out error page: want a sign-in link and no nav")
	}
	s := views.Shell{OrgName: "One", Role: identity.RoleMember}
	doc = render(t, views.ErrorView(views.ErrorPage{Status: 403, Message: "only admins", Shell: &s}))
	if text(doc, "error-status") != "403" || doc.Find(`nav#sidenav`).Length() != 1 {
		t.Errorf("signed-in 403 page should be inside the app frame")
	}
}

func TestFormat(t *testing.T) {
	loc, _ := time.LoadLocation("America/New_York")
	cases := []struct{ got, want string }{
		{views.ShortDate(time.Date(2026, 12, 14, 3, 0, 0, 0, time.UTC), time.UTC, now), "Dec 14"},
		{views.ShortDate(time.Date(2026, 12, 14, 3, 0, 0, 0, time.UTC), loc, now), "Dec 13"},
		{views.ShortDate(time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC), time.UTC, now), "Jan 2, 2027"},
		{views.When(now.Add(-2*time.Hour), time.UTC, now), "Today, 13:00"},
		{views.DaysLeft(now.Add(36*time.Hour), time.UTC, now), "in 2 days"},
		{views.DaysLeft(now.Add(2*time.Hour), time.UTC, now), "today"},
		{views.SignedCredits(-billing.Credits(1234) - 500), "−1,234.5"},
		{views.SignedCredits(7), "+0.007"},
		{views.Sentence("that email is taken"), "That email is taken."},
		{views.Initials("ada king lovelace", ""), "AK"},
		{views.Initials("", "zed@example.com"), "Z"},
		{views.PlanPrice(billing.Plan{MonthlyCredits: mc(1), PriceCents: 24900}), "$249"},
		{views.PlanPrice(billing.Plan{MonthlyCredits: mc(1)}), "Free"},
		{views.PlanPrice(billing.Plan{}), "Custom"},
		{views.RatePrice(billing.Rate{Unit: "tokens", UnitSize: 1, PerUnit: 5}), "5 credits per 1K tokens"},
		{views.RatePrice(billing.Rate{Unit: "emails", UnitSize: 1, PerUnit: 1000}), "1 credit per email"},
		{views.RatePrice(billing.Rate{Unit: "seconds", UnitSize: 60, PerUnit: 5000}), "5 credits per started minute"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: %q, want %q", i, c.got, c.want)
		}
	}
	for _, c := range []struct {
		used, limit billing.Millicredits
		want        int
	}{{0, 100, 0}, {1, 1000, 1}, {50, 100, 50}, {150, 100, 100}, {5, 0, 0}} {
		if got := views.Percent(c.used, c.limit); got != c.want {
			t.Errorf("Percent(%d, %d) = %d, want %d", c.used, c.limit, got, c.want)
		}
	}
}

// Payments builds the purchase pages' URLs for payment providers (Stripe's success URL, the demo
// checkout); they must be the paths web registers.
func TestPaths_PaymentsLinksAreRegisteredPaths(t *testing.T) {
	fill := func(pattern string) string { return strings.Replace(pattern, ":id", "pur_1", 1) }
	if got, want := payments.StatusPath("pur_1"), fill(views.PathPurchase); got != want {
		t.Errorf("payments.StatusPath = %q, want %q", got, want)
	}
	if got, want := payments.DemoCheckoutPath("pur_1"), fill(views.PathDemoCheckout); got != want {
		t.Errorf("payments.DemoCheckoutPath = %q, want %q", got, want)
	}
	if got, want := payments.DemoCheckoutPath("pur_1")+"/pay", fill(views.PathDemoPay); got != want {
		t.Errorf("demo pay = %q, want %q", got, want)
	}
}
