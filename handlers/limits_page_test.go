package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/web/webtest"
)

const limitsPath = "/settings/billing/limits"

// limitsSite is an org (Free, 1,000 credits) with an admin who used 300 credits and a member,
// each with a browser.
func limitsSite(t *testing.T) (s *webtest.Site, org string, admin, mel *webtest.Browser, melID string) {
	t.Helper()
	s = webtest.NewSite(t)
	admin, org = s.SignedUp("ada@example.com", "Initech")
	s.Member(org, "mel@example.com", identity.RoleMember)
	u, err := s.Identity.FindUserByEmail(ctx, "mel@example.com")
	if err != nil {
		t.Fatal(err)
	}
	ada, err := s.Identity.FindUserByEmail(ctx, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Billing.RecordUsage(ctx, org, ada.ID, []billing.UsageEvent{{ID: "e1", FlowID: "f", ExecutionID: "x", Type: "email", Quantity: 300}}); err != nil {
		t.Fatal(err)
	}
	mel = s.Browser()
	mel.Login("mel@example.com", "correct horse")
	return s, org, admin, mel, u.ID
}

func orgForm(limit, low string, thresholds ...string) url.Values {
	return url.Values{"monthlyLimit": {limit}, "lowBalance": {low}, "threshold": thresholds}
}

func TestLimitsPage_AdminSavesAndTheAuditLogShowsIt(t *testing.T) {
	t.Parallel()
	s, org, admin, _, _ := limitsSite(t)
	p := admin.Get(limitsPath)
	webtest.WantStatus(t, p, http.StatusOK)
	if !p.Has(`[data-testid="limits-form"]`) || !p.Has(`[data-testid="limits-audit-empty"]`) || p.Doc.Find(`[data-testid="member-row"]`).Length() != 2 {
		t.Fatalf("an admin's page lacks the form, the empty log or the two members")
	}
	if got := p.Doc.Find(`input[name="threshold"]`).Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("value", "") }); strings.Join(got, ",") != "50,80,100," {
		t.Errorf("default thresholds fields %q, want 50, 80, 100 and an empty one", got)
	}
	p = admin.Post(limitsPath, limitsPath, orgForm("1,500", "", "90", "", "50%"))
	webtest.WantRedirect(t, p, limitsPath)
	set, err := s.Billing.LimitSettings(ctx, org)
	if err != nil || set.MonthlyLimit == nil || *set.MonthlyLimit != billing.Credits(1500) || set.LowBalance != nil || len(set.Thresholds) != 2 || set.Thresholds[0] != 50 {
		t.Fatalf("after saving: %+v %v", set, err)
	}
	p = admin.Get(limitsPath)
	if v := p.Doc.Find(`#limits-monthly`).AttrOr("value", ""); v != "1,500" {
		t.Errorf("monthly limit field %q", v)
	}
	if !strings.Contains(p.Body, "Limits saved.") {
		t.Error("no saved message after the redirect")
	}
	rows := p.Doc.Find(`[data-testid="audit-row"]`)
	if rows.Length() != 2 || !strings.Contains(rows.Text(), "ada@example.com") || !strings.Contains(rows.Text(), "None → 1,500 credits") || !strings.Contains(rows.Text(), "50%, 80%, 100% → 50%, 90%") {
		t.Errorf("audit rows: %q", rows.Text())
	}
}

func TestLimitsPage_WrongFieldsAreNamedAndNothingChanges(t *testing.T) {
	t.Parallel()
	s, org, admin, _, _ := limitsSite(t)
	cases := []struct {
		name     string
		form     url.Values
		messages map[string]string // input id or the thresholds → text of its message
	}{
		{"negative, duplicate, not a number", orgForm("-5", "lots", "50", "50"), map[string]string{
			"limits-monthly": "cannot be negative", "limits-low": "not an amount of credits", "thresholds": "50% is listed twice"}},
		{"over 100", orgForm("", "", "120"), map[string]string{"thresholds": "120% is over 100"}},
		{"not a percent", orgForm("100", "", "eighty"), map[string]string{"thresholds": `"eighty" is not a whole percent`}},
		{"zero", orgForm("0", "", "50"), map[string]string{"limits-monthly": "more than 0"}},
	}
	for _, c := range cases {
		for _, htmx := range []bool{false, true} {
			var header []string
			if htmx {
				header = []string{"HX-Request", "true"}
			}
			p := admin.Post(limitsPath, limitsPath, c.form, header...)
			webtest.WantStatus(t, p, http.StatusBadRequest)
			if htmx && (p.Has("html body nav") || !p.Has(`#org-limits`)) {
				t.Errorf("%s: htmx gets the card alone", c.name)
			}
			for field, want := range c.messages {
				msg := p.Doc.Find("#" + field).Closest(".field").Find(`[data-testid="field-error"]`).Text()
				if field == "thresholds" {
					msg = p.Doc.Find(`.threshold-field [data-testid="field-error"]`).Text()
				}
				if !strings.Contains(msg, want) {
					t.Errorf("%s (htmx %v): message at %s is %q, want %q", c.name, htmx, field, msg, want)
				}
			}
			if n := p.Doc.Find(`[data-testid="field-error"]`).Length(); n != len(c.messages) {
				t.Errorf("%s: %d messages, want %d", c.name, n, len(c.messages))
			}
			// What was typed stays in the fields.
			if v := p.Doc.Find(`#limits-monthly`).AttrOr("value", ""); v != c.form.Get("monthlyLimit") {
				t.Errorf("%s: the monthly limit field holds %q, want %q", c.name, v, c.form.Get("monthlyLimit"))
			}
		}
	}
	set, err := s.Billing.LimitSettings(ctx, org)
	if err != nil || set.MonthlyLimit != nil || set.LowBalance != nil || len(set.Thresholds) != 3 {
		t.Errorf("refused forms changed the settings: %+v %v", set, err)
	}
	if p := admin.Get(limitsPath); !p.Has(`[data-testid="limits-audit-empty"]`) {
		t.Error("refused forms were audited")
	}
}

func TestLimitsPage_HTMXWarnsBelowUsageAndUpdatesTheLog(t *testing.T) {
	t.Parallel()
	_, _, admin, _, _ := limitsSite(t)
	p := admin.Post(limitsPath, limitsPath, orgForm("200", "", "50", "80", "100"), "HX-Request", "true")
	webtest.WantStatus(t, p, http.StatusOK)
	if !p.Has(`[data-testid="limits-saved"]`) {
		t.Error("no saved message")
	}
	if w := p.Doc.Find("#limits-monthly").Closest(".field").Find(`[data-testid="field-warning"]`).Text(); !strings.Contains(w, "300 credits are already used this cycle") {
		t.Errorf("warning %q", w)
	}
	audit := p.Doc.Find(`#limits-audit[hx-swap-oob="true"]`)
	if audit.Length() != 1 || audit.Find(`[data-testid="audit-row"]`).Length() != 1 {
		t.Errorf("the answer does not carry the updated log out of band")
	}
	// The overview says why flows are paused and links here.
	o := admin.Get("/settings/billing")
	banner := o.Doc.Find(`[data-testid="pause-banner"]`)
	if banner.Length() != 1 || !strings.Contains(banner.Text(), "monthly credit limit") || banner.Find(`a[href="`+limitsPath+`"]`).Length() != 1 {
		t.Errorf("overview banner: %q", banner.Text())
	}
}

func TestLimitsPage_MemberLimitInline(t *testing.T) {
	t.Parallel()
	s, org, admin, _, melID := limitsSite(t)
	path := limitsPath + "/members/" + melID
	p := admin.Post(limitsPath, path, url.Values{"monthlyLimit": {"250.5"}}, "HX-Request", "true")
	webtest.WantStatus(t, p, http.StatusOK)
	row := p.Doc.Find(`#member-limits tr#member-` + melID)
	if row.Length() != 1 || !row.Find(`[data-testid="member-limit-saved"]`).Is("*") || row.Find(`input[name="monthlyLimit"]`).AttrOr("value", "") != "250.5" {
		t.Fatalf("row after saving: %s", p.Body)
	}
	if p.Doc.Find(`#limits-audit[hx-swap-oob="true"] [data-testid="audit-row"]`).Length() != 1 {
		t.Error("no updated log out of band")
	}
	m, err := s.Billing.MemberStanding(ctx, org, melID)
	if err != nil || m.Limit == nil || *m.Limit != 250500 {
		t.Fatalf("mel's limit %+v %v", m, err)
	}
	// A wrong value: the row again with the message and the value typed; nothing changes.
	p = admin.Post(limitsPath, path, url.Values{"monthlyLimit": {"-3"}}, "HX-Request", "true")
	webtest.WantStatus(t, p, http.StatusBadRequest)
	row = p.Doc.Find(`#member-limits tr#member-` + melID)
	if !strings.Contains(row.Find(`[data-testid="field-error"]`).Text(), "cannot be negative") || row.Find(`input[name="monthlyLimit"]`).AttrOr("value", "") != "-3" {
		t.Errorf("row after a wrong value: %s", p.Body)
	}
	// Without htmx: back to the page; cleared is "no limit".
	webtest.WantRedirect(t, admin.Post(limitsPath, path, url.Values{"monthlyLimit": {""}}), limitsPath+"#member-"+melID)
	if m, _ := s.Billing.MemberStanding(ctx, org, melID); m.Limit != nil {
		t.Errorf("cleared limit is %v", *m.Limit)
	}
	// Not a member of this org: not found.
	webtest.WantStatus(t, admin.Post(limitsPath, limitsPath+"/members/usr_nobody", url.Values{"monthlyLimit": {"5"}}), http.StatusNotFound)
}

func TestLimitsPage_MembersReadTheirOwnAndChangeNothing(t *testing.T) {
	t.Parallel()
	s, org, admin, mel, melID := limitsSite(t)
	ada, _ := s.Identity.FindUserByEmail(ctx, "ada@example.com")
	webtest.WantRedirect(t, admin.Post(limitsPath, limitsPath, orgForm("5,000", "100", "50")), limitsPath)
	webtest.WantRedirect(t, admin.Post(limitsPath, limitsPath+"/members/"+melID, url.Values{"monthlyLimit": {"40"}}), limitsPath+"#member-"+melID)
	webtest.WantRedirect(t, admin.Post(limitsPath, limitsPath+"/members/"+ada.ID, url.Values{"monthlyLimit": {"900"}}), limitsPath+"#member-"+ada.ID)

	p := mel.Get(limitsPath)
	webtest.WantStatus(t, p, http.StatusOK)
	if p.Has(`form[data-testid="limits-form"]`) || p.Has(`[data-testid="member-limit-form"]`) {
		t.Error("a member sees forms")
	}
	if got := p.Text(`[data-testid="limits-monthly"]`); got != "5,000 credits" {
		t.Errorf("org limit shown to a member: %q", got)
	}
	rows := p.Doc.Find(`[data-testid="member-row"]`)
	if rows.Length() != 1 || rows.AttrOr("data-user", "") != melID || !strings.Contains(rows.Text(), "40 credits") {
		t.Errorf("member rows: %d %q", rows.Length(), rows.Text())
	}
	if log := p.Text(`[data-testid="limits-audit"]`); strings.Contains(log, "900") || !strings.Contains(log, "Limit of mel@example.com") {
		t.Errorf("a member's log shows another member's limit, or not their own: %q", log)
	}
	webtest.WantStatus(t, mel.Post(limitsPath, limitsPath, orgForm("", "", "50")), http.StatusForbidden)
	webtest.WantStatus(t, mel.Post(limitsPath, limitsPath+"/members/"+melID, url.Values{"monthlyLimit": {""}}), http.StatusForbidden)
	if set, _ := s.Billing.LimitSettings(ctx, org); set.MonthlyLimit == nil || *set.MonthlyLimit != billing.Credits(5000) {
		t.Error("a member's post changed the limit")
	}
}

// The overview says which rule paused what and links to the fix: the Limits page for the
// org's limit and members' limits, Add Credits when credits ran out.
func TestOverview_PauseBannersLinkToTheFix(t *testing.T) {
	t.Parallel()
	s, org, admin, mel, melID := limitsSite(t)
	ada, _ := s.Identity.FindUserByEmail(ctx, "ada@example.com")
	banner := func(b *webtest.Browser, id string) *goquery.Selection {
		t.Helper()
		p := b.Get("/settings/billing")
		webtest.WantStatus(t, p, http.StatusOK)
		return p.Doc.Find(`[data-testid="` + id + `"]`)
	}
	// A member's own limit: the admin sees who, with the way to the member's row.
	webtest.WantRedirect(t, admin.Post(limitsPath, limitsPath+"/members/"+melID, url.Values{"monthlyLimit": {"1"}}), limitsPath+"#member-"+melID)
	if _, err := s.Billing.RecordUsage(ctx, org, melID, []billing.UsageEvent{{ID: "m1", FlowID: "f", ExecutionID: "x", Type: "email", Quantity: 1}}); err != nil {
		t.Fatal(err)
	}
	b := banner(admin, "members-paused-banner")
	if !strings.Contains(b.Text(), "Mel Member") || b.Find(`a[href="`+limitsPath+`#member-`+melID+`"]`).Length() != 1 {
		t.Errorf("admin's banner for a paused member: %q", b.Text())
	}
	if b := banner(mel, "member-pause-banner"); !strings.Contains(b.Text(), "Your flows are paused") || !strings.Contains(b.Text(), "Ask your admin, Ada Lovelace") {
		t.Errorf("member's banner: %q", b.Text())
	}
	// Credits ran out: everyone is paused, and the admin is sent to Add Credits.
	if _, err := s.Billing.RecordUsage(ctx, org, ada.ID, []billing.UsageEvent{{ID: "a2", FlowID: "f", ExecutionID: "x", Type: "email", Quantity: 800}}); err != nil {
		t.Fatal(err)
	}
	b = banner(admin, "pause-banner")
	if !strings.Contains(b.Text(), "Credits ran out") || b.Find(`a[href="/settings/billing/credits"]`).Length() != 1 {
		t.Errorf("credits exhausted banner: %q", b.Text())
	}
	if b := banner(mel, "pause-banner"); !strings.Contains(b.Text(), "Credits ran out") {
		t.Errorf("member's credits banner: %q", b.Text())
	}
	// Credits bought: the banner is gone (the member's own limit still shows for the admin).
	if _, err := s.Billing.GrantCredits(ctx, org, billing.GrantPurchase, billing.Credits(500), nil, "pi_1", ""); err != nil {
		t.Fatal(err)
	}
	if banner(admin, "pause-banner").Length() != 0 || banner(admin, "members-paused-banner").Length() != 1 {
		t.Error("after buying credits: the org is still shown paused, or the member no longer")
	}
	webtest.WantRedirect(t, admin.Post(limitsPath, limitsPath+"/members/"+melID, url.Values{"monthlyLimit": {""}}), limitsPath+"#member-"+melID)
	if banner(admin, "members-paused-banner").Length() != 0 || banner(mel, "member-pause-banner").Length() != 0 {
		t.Error("raising the member's limit left a banner")
	}
}
