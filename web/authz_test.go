package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/web/webtest"
)

// The authorization matrix: every route of web/routes.go, visited as each kind of caller, must
// answer the status its row says. A route without a row fails the test, so a new route cannot
// ship without deciding who may use it.

// Callers, in the order of a row's statuses.
var callers = []string{"anonymous", "member", "admin", "other-admin", "member-key", "admin-key", "other-key"}

// authzRows: route ("METHOD /path/:param") → status per caller. 303 is the way to /login for
// pages (or the redirect a form answers with); 403 from a form without a session is the CSRF
// check (a key opens no page). The Stripe webhook answers 503 on a server without
// STRIPE_WEBHOOK_SECRET, whoever calls; its signature is the only credential it takes.
var authzRows = map[string][7]int{
	//                                               anon  member admin other m-key a-key o-key
	"GET /healthz":                                        {200, 200, 200, 200, 200, 200, 200},
	"GET /metrics":                                        {200, 200, 200, 200, 200, 200, 200}, // loopback peer
	"POST /api/v1/usage":                                  {401, 401, 401, 401, 200, 200, 200},
	"POST /api/v1/authorize":                              {401, 401, 401, 401, 200, 200, 200},
	"GET /api/v1/executions/:id":                          {401, 401, 401, 401, 200, 200, 404},
	"POST /api/v1/estimate":                               {401, 401, 401, 401, 200, 200, 200},
	"GET /api/v1/documents":                               {401, 401, 401, 401, 200, 200, 200},
	"GET /api/v1/documents/:file":                         {401, 401, 401, 401, 404, 404, 404},
	"GET /api/v1/limits":                                  {401, 401, 401, 401, 200, 200, 200},
	"PUT /api/v1/limits":                                  {401, 401, 401, 401, 403, 200, 200}, // o-key: its own org's
	"PUT /api/v1/limits/members/:userId":                  {401, 401, 401, 401, 403, 200, 404}, // org A's member
	"GET /settings/billing/history/draft.pdf":             {303, 200, 200, 200, 303, 303, 303},
	"GET /settings/billing/history/:file":                 {303, 404, 404, 404, 303, 303, 303},
	"POST /settings/billing/history/profile":              {303, 403, 400, 400, 403, 403, 403},
	"GET /settings/billing/history/refund/:id":            {303, 403, 404, 404, 303, 303, 303},
	"POST /settings/billing/history/refund/:id":           {303, 403, 404, 404, 403, 403, 403},
	"POST /settings/billing/credits":                      {303, 403, 303, 303, 403, 403, 403},
	"GET /settings/billing/credits/quote":                 {303, 403, 200, 200, 303, 303, 303},
	"GET /settings/billing/credits/purchases/:id":         {303, 403, 404, 404, 303, 303, 303},
	"GET /settings/billing/credits/purchases/:id/cancel":  {303, 403, 404, 404, 303, 303, 303},
	"GET /settings/billing/credits/purchases/:id/refund":  {303, 403, 404, 404, 303, 303, 303},
	"POST /settings/billing/credits/purchases/:id/refund": {303, 403, 404, 404, 403, 403, 403},
	"GET /settings/billing/credits/demo/:id":              {303, 403, 404, 404, 303, 303, 303},
	"POST /settings/billing/credits/demo/:id/pay":         {303, 403, 404, 404, 403, 403, 403},
	"GET /api/v1/credits":                                 {401, 401, 401, 401, 200, 200, 200},
	"GET /api/v1/usage":                                   {401, 401, 401, 401, 200, 200, 200},
	"GET /static/*":                                       {200, 200, 200, 200, 200, 200, 200},
	"HEAD /static/*":                                      {200, 200, 200, 200, 200, 200, 200},
	"GET /":                                               {303, 303, 303, 303, 303, 303, 303},
	"GET /login":                                          {200, 303, 303, 303, 200, 200, 200},
	"POST /login":                                         {303, 303, 303, 303, 403, 403, 403},
	"GET /signup":                                         {200, 303, 303, 303, 200, 200, 200},
	"POST /signup":                                        {303, 303, 303, 303, 403, 403, 403},
	"GET /logout":                                         {200, 200, 200, 200, 200, 200, 200},
	"POST /logout":                                        {303, 303, 303, 303, 403, 403, 403},
	"GET /settings":                                       {303, 303, 303, 303, 303, 303, 303},
	"POST /settings/org":                                  {303, 303, 303, 403, 403, 403, 403},
	"GET /settings/billing":                               {303, 200, 200, 200, 303, 303, 303},
	"GET /settings/billing/usage":                         {303, 200, 200, 200, 303, 303, 303},
	"GET /settings/billing/usage.csv":                     {303, 200, 200, 200, 303, 303, 303},
	"GET /settings/billing/usage/flows/:flowID":           {303, 200, 200, 404, 303, 303, 303},
	"GET /settings/billing/usage/executions/:executionID": {303, 200, 200, 404, 303, 303, 303},
	"GET /settings/billing/usage/executions/:executionID/events.csv": {303, 200, 200, 404, 303, 303, 303},
	"GET /settings/billing/credits":                                  {303, 403, 200, 200, 303, 303, 303},
	"GET /settings/billing/history":                                  {303, 200, 200, 200, 303, 303, 303},
	"GET /settings/billing/limits":                                   {303, 200, 200, 200, 303, 303, 303},
	"POST /settings/billing/limits":                                  {303, 403, 303, 303, 403, 403, 403},
	"POST /settings/billing/limits/members/:userID":                  {303, 403, 303, 404, 403, 403, 403}, // org A's member
	"GET /settings/billing/plans":                                    {303, 200, 200, 200, 303, 303, 303},
	"GET /settings/billing/calculator":                               {303, 200, 200, 200, 303, 303, 303},
	"GET /settings/api-keys":                                         {303, 200, 200, 200, 303, 303, 303},
	"POST /settings/api-keys":                                        {303, 201, 201, 201, 403, 403, 403},
	"POST /webhooks/stripe":                                          {503, 503, 503, 503, 503, 503, 503},
	"POST /settings/billing/plans":                                   {303, 403, 303, 303, 403, 403, 403},
	"POST /settings/billing/plans/cancel":                            {303, 403, 404, 404, 403, 403, 403},
	"GET /settings/billing/plans/checkout/:id":                       {303, 403, 404, 404, 303, 303, 303},
	"POST /settings/billing/plans/checkout/:id":                      {303, 403, 404, 404, 403, 403, 403},
	"POST /settings/api-keys/:id/revoke":                             {303, 403, 303, 404, 403, 403, 403},
	"GET /settings/account":                                          {303, 200, 200, 200, 303, 303, 303},
	"POST /settings/account/password":                                {303, 400, 400, 400, 403, 403, 403}, // empty form
	"GET /settings/members":                                          {303, 200, 200, 200, 303, 303, 303},
	"POST /settings/members/:userID/remove":                          {303, 403, 303, 404, 403, 403, 403},
	"GET /settings/notifications":                                    {303, 200, 200, 200, 303, 303, 303},
	"POST /settings/notifications/read":                              {303, 303, 303, 303, 403, 403, 403},
	"POST /settings/notifications/:id/read":                          {303, 404, 303, 404, 403, 403, 403}, // an admins' notice of org A
	"POST /settings/notifications/webhook":                           {303, 403, 303, 303, 403, 403, 403},
	"POST /settings/notifications/webhook/rotate":                    {303, 403, 303, 303, 403, 403, 403},
	"POST /settings/notifications/webhook/remove":                    {303, 403, 303, 303, 403, 403, 403},
}

// authzWorld is org A (admin, member, usage, keys) and org B (its admin), with a browser per
// signed-in caller.
type authzWorld struct {
	s                  *webtest.Site
	orgA, orgB, adminA string
	memberA            string
	browsers           map[string]*webtest.Browser
	keys               map[string]string
	seq                atomic.Int64
}

func newAuthzWorld(t *testing.T) *authzWorld {
	s := webtest.NewSite(t)
	w := &authzWorld{s: s, browsers: map[string]*webtest.Browser{}, keys: map[string]string{}}
	ada, orgA, err := s.Identity.SignUp(context.Background(), identity.NewUser{Email: "ada@example.com", Password: "correct horse"}, "Org A")
	if err != nil {
		t.Fatal(err)
	}
	bob, orgB, err := s.Identity.SignUp(context.Background(), identity.NewUser{Email: "bob@example.com", Password: "correct horse"}, "Org B")
	if err != nil {
		t.Fatal(err)
	}
	s.Member(orgA, "mel@example.com", identity.RoleMember)
	mel, _ := s.Identity.FindUserByEmail(context.Background(), "mel@example.com")
	w.orgA, w.orgB, w.adminA, w.memberA = orgA, orgB, ada.ID, mel.ID
	if _, err := s.Billing.RecordUsage(context.Background(), orgA, ada.ID, []billing.UsageEvent{{ID: "seed", FlowID: "flow_a", ExecutionID: "exec_a", Type: "email", Quantity: 1}}); err != nil {
		t.Fatal(err)
	}
	for caller, who := range map[string][2]string{"member-key": {orgA, mel.ID}, "admin-key": {orgA, ada.ID}, "other-key": {orgB, bob.ID}} {
		k, _, err := s.Identity.CreateAPIKey(context.Background(), who[0], who[1], caller)
		if err != nil {
			t.Fatal(err)
		}
		w.keys[caller] = k
	}
	w.browsers["anonymous"] = s.Browser()
	for caller, email := range map[string]string{"member": "mel@example.com", "admin": "ada@example.com", "other-admin": "bob@example.com"} {
		b := s.Browser()
		b.Login(email, "correct horse")
		w.browsers[caller] = b
	}
	for _, k := range []string{"member-key", "admin-key", "other-key"} {
		w.browsers[k] = s.Browser() // no cookies: the key is all it has
	}
	return w
}

// browserFor returns the browser that makes caller's request: a fresh one for anonymous
// visitors and keys (they keep nothing between requests), a copy of the session for signing
// in or up (which would otherwise replace the caller's session), else the caller's own.
func (w *authzWorld) browserFor(method, route, caller string) *webtest.Browser {
	switch {
	case caller == "anonymous" || strings.HasSuffix(caller, "-key"):
		return w.s.Browser()
	case method == http.MethodPost && (route == "/login" || route == "/signup"):
		return w.browsers[caller].CopyOf()
	}
	return w.browsers[caller]
}

// request builds the request of route for caller, with its parameters filled with org A's
// things and a valid body.
func (w *authzWorld) request(t *testing.T, b *webtest.Browser, method, route, caller string) *http.Request {
	n := w.seq.Add(1)
	path := route
	fill := map[string]string{":id": "exec_a", ":flowID": "flow_a", ":executionID": "exec_a", "*": "css/app.css", ":userId": w.memberA, ":userID": w.memberA}
	fill[":file"] = "LUX-2026-999999.pdf" // no such document in any org
	if strings.Contains(route, "/checkout/") || strings.Contains(route, "/purchases/") || strings.Contains(route, "/demo/") {
		fill[":id"] = "chk_unknown" // another org's or no checkout: never found
	}
	if strings.HasSuffix(route, "/revoke") {
		_, id, err := w.s.Identity.CreateAPIKey(context.Background(), w.orgA, w.adminA, fmt.Sprintf("victim %d", n))
		if err != nil {
			t.Fatal(err)
		}
		fill[":id"] = strconv.FormatInt(id, 10)
	}
	if strings.HasSuffix(route, "/:userID/remove") {
		// A member of org A of its own, so that no caller's session ends.
		email := w.s.Member(w.orgA, fmt.Sprintf("victim%d@example.com", n), identity.RoleMember)
		u, err := w.s.Identity.FindUserByEmail(context.Background(), email)
		if err != nil {
			t.Fatal(err)
		}
		fill[":userID"] = u.ID
	}
	if route == "/settings/notifications/:id/read" {
		fill[":id"] = strconv.FormatInt(w.adminNotice(t), 10)
	}
	if route == "/settings/notifications/webhook/rotate" {
		for _, org := range []string{w.orgA, w.orgB} { // each admin rotates their own org's secret
			if _, err := w.s.Notify.SetWebhook(context.Background(), org, "https://example.com/lux", w.adminA); err != nil {
				t.Fatal(err)
			}
		}
	}
	for p, v := range fill {
		path = strings.Replace(path, p, v, 1)
	}
	var body io.Reader
	ctype := ""
	switch {
	case strings.HasPrefix(route, "/api/v1/limits") && method == http.MethodPut:
		v := map[string]any{"thresholds": []int{50, 80, 100}}
		if strings.Contains(route, "/members/") {
			v = map[string]any{"monthlyLimit": 500}
		}
		j, _ := json.Marshal(v)
		body, ctype = bytes.NewReader(j), "application/json"
	case strings.HasPrefix(route, "/api/") && method == http.MethodPost:
		v := map[string]any{"flowId": "flow_a", "executionId": "exec_a"}
		if route == "/api/v1/estimate" {
			v = map[string]any{"lines": []map[string]any{{"type": "email", "count": 10, "quantity": 1}}}
		}
		if route == "/api/v1/usage" {
			// Each caller's usage goes to an execution of its own, so exec_a stays org A's only.
			v = map[string]any{"events": []map[string]any{{"id": fmt.Sprintf("m%d", n), "flowId": "flow_" + caller, "executionId": "exec_" + caller, "type": "email", "quantity": 1}}}
		}
		j, _ := json.Marshal(v)
		body, ctype = bytes.NewReader(j), "application/json"
	case method == http.MethodPost:
		form := url.Values{}
		switch route {
		case "/login":
			form.Set("email", "ada@example.com")
			form.Set("password", "correct horse")
		case "/signup":
			form.Set("email", fmt.Sprintf("new%d@example.com", n))
			form.Set("password", "correct horse")
			form.Set("org", "New Org")
		case "/settings/org":
			form.Set("org_id", w.orgA)
		case "/settings/api-keys":
			form.Set("name", "matrix")
		case "/settings/billing/credits":
			form.Set("credits", "1000")
		case "/settings/billing/plans":
			form.Set("plan", "starter")
		case "/settings/billing/limits":
			form.Set("monthlyLimit", "")
			form.Set("lowBalance", "")
			form["threshold"] = []string{"50", "80", "100"}
		case "/settings/billing/limits/members/:userID":
			form.Set("monthlyLimit", "500")
		case "/settings/notifications/webhook":
			form.Set("url", "https://example.com/lux")
		}
		if !strings.HasSuffix(caller, "-key") {
			from := "/settings/billing"
			if caller == "anonymous" {
				from = "/login"
			}
			tok, _ := b.Get(from).Doc.Find(`input[name="_csrf"]`).First().Attr("value")
			form.Set("_csrf", tok)
		}
		body, ctype = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	}
	req, _ := http.NewRequest(method, w.s.URL+path, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if k := w.keys[caller]; k != "" {
		req.Header.Set("Authorization", "Bearer "+k)
	}
	return req
}

func TestAuthorizationMatrix_EveryRouteAsEveryCaller(t *testing.T) {
	t.Parallel()
	w := newAuthzWorld(t)
	routes := w.s.Handler.(*echo.Echo).Routes()
	var keys []string
	seen := map[string]bool{}
	for _, r := range routes {
		k := r.Method + " " + r.Path
		if seen[k] || r.Method == echo.RouteNotFound {
			continue
		}
		seen[k] = true
		keys = append(keys, k)
	}
	// Signing out ends sessions: those routes go last.
	sort.SliceStable(keys, func(i, j int) bool {
		return !strings.HasSuffix(keys[i], " /logout") && strings.HasSuffix(keys[j], " /logout")
	})
	checked := 0
	for _, k := range keys {
		row, ok := authzRows[k]
		if !ok {
			t.Errorf("route %q has no row in the authorization matrix (web/authz_test.go): add one", k)
			continue
		}
		method, route, _ := strings.Cut(k, " ")
		for i, caller := range callers {
			if k == "POST /logout" && caller != "anonymous" && !strings.HasSuffix(caller, "-key") {
				continue // below, once every other route is done
			}
			b := w.browserFor(method, route, caller)
			res := b.Do(w.request(t, b, method, route, caller))
			checked++
			if res.StatusCode != row[i] {
				t.Errorf("%s as %s: %d, want %d", k, caller, res.StatusCode, row[i])
			}
		}
	}
	for i, caller := range callers[1:4] {
		b := w.browsers[caller]
		res := b.Do(w.request(t, b, http.MethodPost, "/logout", caller))
		checked++
		if want := authzRows["POST /logout"][i+1]; res.StatusCode != want {
			t.Errorf("POST /logout as %s: %d, want %d", caller, res.StatusCode, want)
		}
	}
	for k := range authzRows {
		if !seen[k] {
			t.Errorf("the matrix has a row for %q, which is not a route", k)
		}
	}
	t.Logf("FIGURES authz: routes=%d callers=%d requests=%d", len(keys), len(callers), checked)
}

// adminNotice writes a notice of org A that only its admins see and returns its id.
func (w *authzWorld) adminNotice(t *testing.T) int64 {
	t.Helper()
	err := w.s.Billing.WithLedger(context.Background(), w.orgA, func(l *billing.LedgerTx) error {
		l.Emit(billing.Notice{Kind: billing.NoticeStatementReady, Data: billing.NoticeData{PeriodLabel: "Statement"}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := w.s.DB.GetContext(context.Background(), &id, `SELECT max(id) FROM notifications WHERE org_id = $1`, w.orgA); err != nil {
		t.Fatal(err)
	}
	return id
}
