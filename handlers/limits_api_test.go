package handlers_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
)

func TestLimitsAPI_AdminReadsAndChangesMemberReadsOwn(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	ada := e.signUp("ada")
	dev := e.addMember(ada.org, "dev", identity.RoleMember)

	r := e.call("GET", "/api/v1/limits", ada.key, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET: HTTP %d %s", r.Status, r.Body)
	}
	if field(t, r, "monthlyLimit") != nil || field(t, r, "lowBalance") != nil || len(field(t, r, "thresholds").([]any)) != 3 {
		t.Errorf("a new org's limits: %s", r.Body)
	}
	if ms := field(t, r, "members").([]any); len(ms) != 2 || ms[0].(map[string]any)["email"] != "ada@example.com" || ms[0].(map[string]any)["role"] != "admin" {
		t.Errorf("members: %s", r.Body)
	}

	r = e.call("PUT", "/api/v1/limits", ada.key, `{"monthlyLimit":1500.5,"thresholds":[100,75],"lowBalance":200}`)
	if r.Status != http.StatusOK || num(t, r, "monthlyLimit") != "1500.5" || num(t, r, "lowBalance") != "200" {
		t.Fatalf("PUT: HTTP %d %s", r.Status, r.Body)
	}
	if ps := field(t, r, "thresholds").([]any); len(ps) != 2 || ps[0].(interface{ String() string }).String() != "75" {
		t.Errorf("thresholds are stored ascending: %s", r.Body)
	}
	// Only what is sent changes; null clears.
	r = e.call("PUT", "/api/v1/limits", ada.key, `{"lowBalance":null}`)
	if r.Status != http.StatusOK || field(t, r, "lowBalance") != nil || num(t, r, "monthlyLimit") != "1500.5" {
		t.Fatalf("clearing: HTTP %d %s", r.Status, r.Body)
	}
	r = e.call("PUT", "/api/v1/limits/members/"+dev.user, ada.key, `{"monthlyLimit":300}`)
	if r.Status != http.StatusOK {
		t.Fatalf("member limit: HTTP %d %s", r.Status, r.Body)
	}

	// A member's key reads the org's settings and its own row only, and changes nothing.
	r = e.call("GET", "/api/v1/limits", dev.key, nil)
	ms := field(t, r, "members").([]any)
	if r.Status != http.StatusOK || len(ms) != 1 || ms[0].(map[string]any)["userId"] != dev.user || num(t, r, "monthlyLimit") != "1500.5" {
		t.Fatalf("member's GET: HTTP %d %s", r.Status, r.Body)
	}
	if own := ms[0].(map[string]any)["monthlyLimit"]; own == nil || own.(interface{ String() string }).String() != "300" {
		t.Errorf("member's own limit: %s", r.Body)
	}
	wantError(t, e.call("PUT", "/api/v1/limits", dev.key, `{"monthlyLimit":null}`), http.StatusForbidden, billing.EFORBIDDEN, "admin")
	wantError(t, e.call("PUT", "/api/v1/limits/members/"+dev.user, dev.key, `{"monthlyLimit":null}`), http.StatusForbidden, billing.EFORBIDDEN, "admin")
	if r := e.call("GET", "/api/v1/limits", ada.key, nil); num(t, r, "monthlyLimit") != "1500.5" {
		t.Errorf("a member's refused PUT changed the limit: %s", r.Body)
	}
	var audit int
	if err := e.DB.Get(&audit, `SELECT count(*) FROM limit_changes WHERE org_id = $1 AND source = 'api' AND actor_id = $2`, ada.org, ada.user); err != nil || audit != 5 {
		t.Errorf("audit entries by the admin's key: %d (%v), want 5", audit, err)
	}
}

func TestLimitsAPI_400NamesTheFieldAndChangesNothing(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	ada := e.signUp("ada")
	cases := []struct{ name, body, mention string }{
		{"negative limit", `{"monthlyLimit":-5}`, "monthlyLimit: a monthly limit cannot be negative"},
		{"not a number", `{"monthlyLimit":"lots"}`, "monthlyLimit: must be a number"},
		{"number as a string", `{"monthlyLimit":"150"}`, "monthlyLimit"},
		{"too many decimals", `{"monthlyLimit":1.2345}`, "monthlyLimit"},
		{"threshold over 100", `{"thresholds":[50,120]}`, "thresholds: 120% is over 100"},
		{"duplicate thresholds", `{"thresholds":[80,80]}`, "thresholds: 80% is listed twice"},
		{"fractional threshold", `{"thresholds":[50.5]}`, "thresholds"},
		{"thresholds not an array", `{"thresholds":"50,80"}`, "thresholds"},
		{"negative low balance", `{"lowBalance":-1}`, "lowBalance"},
		{"unknown field", `{"monthlyLimt":5}`, `"monthlyLimt"`},
		{"nothing to change", `{}`, "at least one"},
		{"valid limit beside a bad threshold", `{"monthlyLimit":100,"thresholds":[0]}`, "thresholds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, e.call("PUT", "/api/v1/limits", ada.key, c.body), http.StatusBadRequest, billing.EINVALID, c.mention)
		})
	}
	r := e.call("GET", "/api/v1/limits", ada.key, nil)
	if field(t, r, "monthlyLimit") != nil || field(t, r, "lowBalance") != nil || len(field(t, r, "thresholds").([]any)) != 3 {
		t.Errorf("refused changes changed something: %s", r.Body)
	}
	wantError(t, e.call("PUT", "/api/v1/limits/members/"+ada.user, ada.key, `{"monthlyLimit":-1}`), http.StatusBadRequest, billing.EINVALID, "monthlyLimit")
	wantError(t, e.call("PUT", "/api/v1/limits/members/"+ada.user, ada.key, `{}`), http.StatusBadRequest, billing.EINVALID, "monthlyLimit")
	wantError(t, e.call("PUT", "/api/v1/limits/members/usr_nobody", ada.key, `{"monthlyLimit":5}`), http.StatusNotFound, billing.ENOTFOUND, "not a member")
	var audit int
	if err := e.DB.Get(&audit, `SELECT count(*) FROM limit_changes WHERE org_id = $1`, ada.org); err != nil || audit != 0 {
		t.Errorf("refused changes were audited: %d (%v)", audit, err)
	}
}

func TestLimitsAPI_NoOrgSeesOrChangesAnothers(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	ada := e.signUp("ada")
	bob := e.signUp("bob")
	if r := e.call("PUT", "/api/v1/limits", bob.key, `{"monthlyLimit":10}`); r.Status != http.StatusOK {
		t.Fatalf("bob's own limit: HTTP %d %s", r.Status, r.Body)
	}
	// Bob's admin key cannot set a limit on Ada, who is not in his org.
	wantError(t, e.call("PUT", "/api/v1/limits/members/"+ada.user, bob.key, `{"monthlyLimit":1}`), http.StatusNotFound, billing.ENOTFOUND)
	r := e.call("GET", "/api/v1/limits", ada.key, nil)
	if field(t, r, "monthlyLimit") != nil || len(field(t, r, "members").([]any)) != 1 {
		t.Errorf("Ada's org after Bob's changes: %s", r.Body)
	}
	if ms := field(t, r, "members").([]any); ms[0].(map[string]any)["monthlyLimit"] != nil {
		t.Errorf("Ada got a limit from another org: %s", r.Body)
	}
}

// Keys act as their user (SPEC §9): a member's key cannot charge or authorize as anyone else.
func TestKeysActAsTheirUser(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	ada := e.signUp("ada")
	dev := e.addMember(ada.org, "dev", identity.RoleMember)
	ops := e.addMember(ada.org, "ops", identity.RoleMember)
	bob := e.signUp("bob")
	before := e.state(ada.org)
	for _, who := range []string{ada.user, ops.user, bob.user, "usr_nobody"} {
		ev := event("as_" + who)
		ev["userId"] = who
		wantError(t, e.call("POST", "/api/v1/usage", dev.key, batch(event("fine_"+who), ev)), http.StatusForbidden, billing.EFORBIDDEN, "events[1]", "own user")
		wantError(t, e.authorize(dev.key, map[string]any{"userId": who}), http.StatusForbidden, billing.EFORBIDDEN, "own user")
	}
	if after := e.state(ada.org); after != before {
		t.Errorf("a refused batch changed the org: %+v → %+v", before, after)
	}
	// Its own id, or none, is fine.
	own := event("own")
	own["userId"] = dev.user
	if r := e.call("POST", "/api/v1/usage", dev.key, batch(own, event("default"))); r.Status != http.StatusOK {
		t.Fatalf("member's own usage: HTTP %d %s", r.Status, r.Body)
	}
	wantAllowed(t, e.authorize(dev.key, map[string]any{"userId": dev.user}), "")
	// An admin's key attributes to any member; a non-member is still a 400.
	forOps := event("for_ops")
	forOps["userId"] = ops.user
	if r := e.call("POST", "/api/v1/usage", ada.key, batch(forOps)); r.Status != http.StatusOK {
		t.Fatalf("admin for a member: HTTP %d %s", r.Status, r.Body)
	}
	wantAllowed(t, e.authorize(ada.key, map[string]any{"userId": ops.user}), "")
	stranger := event("for_bob")
	stranger["userId"] = bob.user
	wantError(t, e.call("POST", "/api/v1/usage", ada.key, batch(stranger)), http.StatusBadRequest, billing.EINVALID, "not a member")
	var used map[string]int64
	rows, err := e.DB.Query(`SELECT user_id, used_mc FROM member_cycle_usage WHERE org_id = $1`, ada.org)
	if err != nil {
		t.Fatal(err)
	}
	used = map[string]int64{}
	for rows.Next() {
		var u string
		var mc int64
		if err := rows.Scan(&u, &mc); err != nil {
			t.Fatal(err)
		}
		used[u] = mc
	}
	rows.Close()
	if used[dev.user] != 2000 || used[ops.user] != 1000 || used[ada.user] != 0 {
		t.Errorf("usage by member: %v", used)
	}
	billingtest.AssertLedger(t, e.DB, ada.org)
}

// Every pause rule through the API: set by PUT, refused by authorize with its reason, resumed
// by the fix at once.
func TestLimitsAPI_PauseAndResumeEachRule(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	ada := e.signUp("ada") // Free: 1,000 credits
	dev := e.addMember(ada.org, "dev", identity.RoleMember)
	use := func(key, id string, emails int) {
		t.Helper()
		ev := event(id)
		ev["quantity"] = emails
		if r := e.call("POST", "/api/v1/usage", key, batch(ev)); r.Status != http.StatusOK {
			t.Fatalf("usage: HTTP %d %s", r.Status, r.Body)
		}
	}
	put := func(path, body string) {
		t.Helper()
		if r := e.call("PUT", path, ada.key, body); r.Status != http.StatusOK {
			t.Fatalf("PUT %s: HTTP %d %s", path, r.Status, r.Body)
		}
	}
	use(dev.key, "d1", 100)

	// The org limit pauses everyone's flows.
	put("/api/v1/limits", `{"monthlyLimit":100}`)
	wantRefused(t, e.authorize(ada.key, nil), billing.ReasonMonthlyLimitReached)
	wantRefused(t, e.authorize(dev.key, nil), billing.ReasonMonthlyLimitReached)
	if r := e.call("GET", "/api/v1/credits", dev.key, nil); field(t, r, "paused") != true || field(t, r, "pauseReason") != billing.ReasonMonthlyLimitReached {
		t.Errorf("credits while paused: %s", r.Body)
	}
	put("/api/v1/limits", `{"monthlyLimit":500}`)
	wantAllowed(t, e.authorize(ada.key, nil), "900")
	wantAllowed(t, e.authorize(dev.key, nil), "900")

	// A member limit pauses that member's flows only.
	put("/api/v1/limits/members/"+dev.user, `{"monthlyLimit":100}`)
	wantRefused(t, e.authorize(dev.key, nil), billing.ReasonMemberLimitReached)
	wantAllowed(t, e.authorize(ada.key, nil), "900")
	put("/api/v1/limits/members/"+dev.user, `{"monthlyLimit":null}`)
	wantAllowed(t, e.authorize(dev.key, nil), "900")

	// Exhausted credits pause everything, whatever the limits say.
	put("/api/v1/limits", `{"monthlyLimit":null}`)
	use(ada.key, "a1", 900)
	wantRefused(t, e.authorize(ada.key, nil), billing.ReasonCreditsExhausted)
	wantRefused(t, e.authorize(dev.key, nil), billing.ReasonCreditsExhausted)
	if _, err := e.Billing.GrantCredits(ctx, ada.org, billing.GrantPurchase, billing.Credits(50), nil, "pi_resume", ""); err != nil {
		t.Fatal(err)
	}
	wantAllowed(t, e.authorize(dev.key, nil), "50")

	// A new cycle resumes a reached limit (the usage counters start again).
	put("/api/v1/limits", `{"monthlyLimit":1000}`)
	wantRefused(t, e.authorize(ada.key, nil), billing.ReasonMonthlyLimitReached)
	e.Clock.Advance(31 * 24 * time.Hour)
	wantAllowed(t, e.authorize(ada.key, nil), "1050")
	if r := e.call("GET", "/api/v1/limits", ada.key, nil); num(t, r, "cycleUsed") != "0" || num(t, r, "monthlyLimit") != "1000" {
		t.Errorf("limits in the new cycle: %s", r.Body)
	}
	billingtest.AssertLedger(t, e.DB, ada.org)
}
