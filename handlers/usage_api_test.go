package handlers_test

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/api"
	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/reports"
	"github.com/luxstudio/lux-billing/handlers"
	"github.com/luxstudio/lux-billing/web/webtest"
)

// usageEnv is the real server on its own database, with two organizations that have usage.
type usageEnv struct {
	*webtest.Server
	orgA, orgB string
	keyA, keyB string
	userA      string
}

var usageNow = time.Date(2026, 3, 20, 15, 0, 0, 0, time.UTC)

func newUsageEnv(t *testing.T) *usageEnv {
	t.Helper()
	e := &usageEnv{Server: webtest.New(t, webtest.Options{Clock: billingtest.NewClock(usageNow)})}
	for i, name := range []string{"ada", "bob"} {
		u, org, err := e.Identity.SignUp(ctx, identity.NewUser{Email: name + "@example.com", Name: strings.ToUpper(name[:1]) + name[1:], Password: "correct horse"}, name+" org")
		if err != nil {
			t.Fatal(err)
		}
		key, _, err := e.Identity.CreateAPIKey(ctx, org, u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			e.orgA, e.keyA, e.userA = org, key, u.ID
		} else {
			e.orgB, e.keyB = org, key
		}
	}
	if err := e.Billing.NameFlow(ctx, e.orgA, "flow_support", "Support triage"); err != nil {
		t.Fatal(err)
	}
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	events := []billing.UsageEvent{
		{ID: "1", FlowID: "flow_support", ExecutionID: "x1", Type: "ai", Model: "claude-sonnet", Quantity: 1532, OccurredAt: day(2, 10)},
		{ID: "2", FlowID: "flow_support", ExecutionID: "x1", Type: "email", Quantity: 1, OccurredAt: day(2, 10)},
		{ID: "3", FlowID: "flow_calls", ExecutionID: "x2", Type: "voice_call", Quantity: 61, OccurredAt: day(10, 9)},
		{ID: "4", FlowID: "flow_calls", ExecutionID: "x3", Type: "sms", Quantity: 2, OccurredAt: day(19, 23)},
	}
	if _, err := e.Billing.RecordUsage(ctx, e.orgA, e.userA, events); err != nil {
		t.Fatal(err)
	}
	return e
}

// get calls the API with key and returns the status and body.
func (e *usageEnv) get(t *testing.T, key, path string) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, body, res.Header
}

func TestGetUsage_SameNumbersAsTheDomainReport(t *testing.T) {
	t.Parallel()
	e := newUsageEnv(t)
	for _, q := range []reports.Query{
		{From: mustDate("2026-03-01"), To: mustDate("2026-03-20"), Interval: reports.IntervalDay, GroupBy: reports.GroupByType},
		{From: mustDate("2026-02-20"), To: mustDate("2026-03-20"), Interval: reports.IntervalWeek, GroupBy: reports.GroupByFlow},
		{From: mustDate("2026-01-01"), To: mustDate("2026-03-31"), Interval: reports.IntervalMonth, GroupBy: reports.GroupByUser},
	} {
		v := url.Values{"from": {q.From.String()}, "to": {q.To.String()}, "interval": {string(q.Interval)}, "groupBy": {string(q.GroupBy)}}
		status, body, _ := e.get(t, e.keyA, "/api/v1/usage?"+v.Encode())
		if status != http.StatusOK {
			t.Fatalf("%v: %d %s", v, status, body)
		}
		rep, err := e.Reports.UsageReport(ctx, e.orgA, q)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(handlers.NewUsage(rep))
		if strings.TrimSpace(string(body)) != string(want) {
			t.Errorf("%v:\n got %s\nwant %s", v, body, want)
		}
		var u api.Usage
		if err := json.Unmarshal(body, &u); err != nil {
			t.Fatalf("the body does not decode: %v", err)
		}
		if u.Total.Credits != rep.Total.Credits || u.Total.Credits != 7660+1000+10000+4000 {
			t.Errorf("total credits %s, want 22.66", u.Total.Credits)
		}
	}
	// Credits are JSON numbers with up to three decimals.
	_, body, _ := e.get(t, e.keyA, "/api/v1/usage?from=2026-03-02&to=2026-03-02&type=ai")
	if !strings.Contains(string(body), `"total":{"credits":7.66,"quantity":1532,"events":1}`) {
		t.Errorf("AI on March 2 should be 7.66 credits as a number: %s", body)
	}
}

func TestGetUsage_DefaultsToTheLast30DaysByDayAndType(t *testing.T) {
	t.Parallel()
	e := newUsageEnv(t)
	status, body, _ := e.get(t, e.keyA, "/api/v1/usage")
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	var u api.Usage
	if err := json.Unmarshal(body, &u); err != nil {
		t.Fatal(err)
	}
	if u.From.String() != "2026-02-19" || u.To.String() != "2026-03-20" || u.Interval != "day" || u.GroupBy != "type" || len(u.Buckets) != 30 || u.Timezone != "UTC" {
		t.Errorf("defaults: %s..%s %s %s, %d buckets", u.From, u.To, u.Interval, u.GroupBy, len(u.Buckets))
	}
	if len(u.Groups) != 4 || u.Groups[0].Key != "voice_call" || u.Groups[0].Label != "Voice call" || len(u.Groups[0].Credits) != 30 {
		t.Errorf("groups %+v", u.Groups)
	}
	_, body, _ = e.get(t, e.keyA, "/api/v1/usage?range=7d&groupBy=flow")
	if err := json.Unmarshal(body, &u); err != nil || u.From.String() != "2026-03-14" || len(u.Groups) != 1 || u.Groups[0].Label != "flow_calls" {
		t.Errorf("range=7d: %s (%v)", body, err)
	}
	_, body, _ = e.get(t, e.keyA, "/api/v1/usage?from=2026-03-10")
	if err := json.Unmarshal(body, &u); err != nil || u.To.String() != "2026-03-20" {
		t.Errorf("from only should end today: %s", body)
	}
}

func TestGetUsage_BadParametersSayWhatToFix(t *testing.T) {
	t.Parallel()
	e := newUsageEnv(t)
	cases := []struct{ query, want string }{
		{"from=2026-13-01", "from: \"2026-13-01\" is not a date: use YYYY-MM-DD"},
		{"from=2026-03-10&to=2026-03-01", "before the start date"},
		{"from=2024-01-01&to=2026-03-01", "at most 400 days"},
		{"interval=hour", "interval \"hour\" is not one of day, week or month"},
		{"groupBy=model", "groupBy \"model\" is not one of type, flow or user"},
		{"group_by=flow", "unknown parameter \"group_by\""},
		{"range=year", "range \"year\" is not one of 7d, 30d, 90d, cycle or previous_cycle"},
		{"range=7d&from=2026-03-01", "either range or from/to"},
		{"top=0", "top must be a whole number"},
		{"format=xml", "format \"xml\" is not json or csv"},
		{"interval=day&interval=week", "give \"interval\" once"},
		{"from=2026-04-01", "is in the future"},
	}
	for _, c := range cases {
		status, body, hdr := e.get(t, e.keyA, "/api/v1/usage?"+c.query)
		var er struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(body, &er)
		if status != http.StatusBadRequest || er.Error.Code != billing.EINVALID || !strings.Contains(er.Error.Message, c.want) ||
			!strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Errorf("?%s: %d %s, want 400 saying %q", c.query, status, body, c.want)
		}
	}
	if status, _, _ := e.get(t, "lux_"+strings.Repeat("0", 64), "/api/v1/usage"); status != http.StatusUnauthorized {
		t.Errorf("a bad key got %d", status)
	}
}

func TestGetUsage_AKeyNeverSeesAnotherOrgsUsage(t *testing.T) {
	t.Parallel()
	e := newUsageEnv(t)
	for _, q := range []string{
		"from=2026-01-01&to=2026-03-20",
		"from=2026-01-01&to=2026-03-20&groupBy=flow&flowId=flow_support",
		"from=2026-01-01&to=2026-03-20&groupBy=user&userId=" + e.userA,
		"from=2026-01-01&to=2026-03-20&format=csv",
	} {
		status, body, _ := e.get(t, e.keyB, "/api/v1/usage?"+q)
		if status != http.StatusOK {
			t.Fatalf("?%s: %d %s", q, status, body)
		}
		if strings.Contains(string(body), "flow_calls") || strings.Contains(string(body), "Support triage") {
			t.Errorf("?%s: org B sees org A's flows: %s", q, body)
		}
		if strings.Contains(q, "csv") {
			if strings.Count(string(body), "\n") != 1 {
				t.Errorf("org B's CSV has rows: %s", body)
			}
			continue
		}
		var u api.Usage
		if err := json.Unmarshal(body, &u); err != nil || len(u.Groups) != 0 || u.Total.Events != 0 || len(u.TopFlows) != 0 {
			t.Errorf("?%s: org B sees %s", q, body)
		}
	}
}

func TestGetUsage_CSVIsTheReportsCells(t *testing.T) {
	t.Parallel()
	e := newUsageEnv(t)
	status, body, hdr := e.get(t, e.keyA, "/api/v1/usage?from=2026-03-01&to=2026-03-20&interval=week&groupBy=flow&format=csv")
	if status != http.StatusOK || hdr.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.Contains(hdr.Get("Content-Disposition"), "lux-usage-2026-03-01-to-2026-03-20-by-flow-per-week.csv") {
		t.Fatalf("%d %v %s", status, hdr, body)
	}
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		reports.CSVHeader,
		{"2026-03-02", "flow_support", "Support triage", "8.66", "1533", "2"},
		{"2026-03-09", "flow_calls", "flow_calls", "10", "61", "1"},
		{"2026-03-16", "flow_calls", "flow_calls", "4", "2", "1"},
	}
	if len(recs) != len(want) {
		t.Fatalf("CSV %v, want %v", recs, want)
	}
	for i := range want {
		if strings.Join(recs[i], ",") != strings.Join(want[i], ",") {
			t.Errorf("row %d: %v, want %v", i, recs[i], want[i])
		}
	}
}

func mustDate(s string) reports.Date {
	d, err := reports.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}
