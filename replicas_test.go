package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/luxstudio/lux-billing/api"
	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/migrations"
	"github.com/luxstudio/lux-billing/web/webtest"
)

// SPEC §12: one PostgreSQL and any number of stateless `lux serve` replicas. What a replica keeps
// in memory is a copy (the rate card, recently authenticated API keys) or a queue (the
// coalescing lanes, per process); the database's account lock decides every ledger write.

// replica is one `lux serve` process.
type replica struct {
	*billingtest.Process
	url string
	log string // path of its output
}

func (r *replica) logTail() string {
	b, _ := os.ReadFile(r.log)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// emptyDatabase returns the URL of a database that does not exist yet (the servers create and
// migrate it); it is dropped when the test ends.
func emptyDatabase(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "lux_test_" + hex.EncodeToString(b)
	u, err := url.Parse(billingtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	t.Cleanup(func() {
		admin, err := sql.Open("postgres", billingtest.ServerURL())
		if err == nil {
			_, _ = admin.Exec("DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)")
			admin.Close()
		}
	})
	return u.String()
}

// startReplicas starts n `lux serve` processes on dsn at the same moment, so that they create
// and migrate the database concurrently, and waits until each answers /healthz. They share the
// session secret and the public URL, as replicas behind one load balancer do.
func startReplicas(t *testing.T, n int, dsn string) []*replica {
	t.Helper()
	bin := luxBinary(t)
	dir := t.TempDir()
	out := make([]*replica, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		addr, err := billingtest.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		logPath := filepath.Join(dir, fmt.Sprintf("replica-%d.log", i))
		logFile, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve")
		cmd.Dir = dir
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "LUX_") && !strings.HasPrefix(kv, "DATABASE_URL=") &&
				!strings.HasPrefix(kv, "STRIPE_") && !strings.HasPrefix(kv, "SMTP_URL=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, "DATABASE_URL="+dsn, "LUX_ADDR="+addr, "LUX_BASE_URL=http://127.0.0.1",
			"LUX_SESSION_SECRET="+strings.Repeat("r", 32), "LUX_LOG_LEVEL=warn")
		cmd.Stdout, cmd.Stderr = logFile, logFile
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer logFile.Close()
			<-start
			p, err := billingtest.StartProcess(context.Background(), cmd, "http://"+addr+"/healthz", 45*time.Second)
			if err != nil {
				b, _ := os.ReadFile(logPath)
				errs[i] = fmt.Errorf("replica %d: %v; its log:\n%s", i, err, b)
				return
			}
			out[i] = &replica{Process: p, url: "http://" + addr, log: logPath}
		}()
	}
	close(start)
	wg.Wait()
	for _, r := range out {
		if r != nil {
			t.Cleanup(r.Stop)
		}
	}
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// client is a JSON API client of one API key.
type client struct {
	http *http.Client
	key  string
}

type answer struct {
	status int
	code   string // the error code, if any
	body   []byte
}

func (c *client) do(t testing.TB, method, url string, in any, out any) answer {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return answer{}
	}
	defer res.Body.Close()
	got, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, body: got}
	if res.StatusCode >= 400 {
		var e api.ErrorResponse
		_ = json.Unmarshal(got, &e)
		a.code = e.Error.Code
	}
	if out != nil && (res.StatusCode == http.StatusOK || res.StatusCode == http.StatusPaymentRequired) {
		if err := json.Unmarshal(got, out); err != nil {
			t.Errorf("%s %s: %v: %s", method, url, err, got)
		}
	}
	return a
}

// usageEvent is an event as the flow engine sends it.
type usageEvent struct {
	ID          string `json:"id"`
	FlowID      string `json:"flowId"`
	ExecutionID string `json:"executionId"`
	Type        string `json:"type"`
	Model       string `json:"model,omitempty"`
	Quantity    int64  `json:"quantity"`
	UserID      string `json:"userId,omitempty"`
}

type usageBody struct {
	Events []usageEvent `json:"events"`
}

// replicaOrg is one organization of the test: its admin key, and a member to attribute usage to.
type replicaOrg struct {
	id      string
	key     string
	member  string // user id
	wellFed bool   // so many credits that authorize must never refuse it
}

// ledgerBook is what the replicas told the clients: each acknowledged event with the credits
// answered, and each event of a refused batch.
type ledgerBook struct {
	mu       sync.Mutex
	acked    map[string]ackedEvent // org/id → …
	refused  map[string]bool       // org/id
	counts   map[string]int        // what the clients did, for the log
	problems []string
}

type ackedEvent struct {
	org     string
	event   usageEvent
	credits billing.Millicredits
	replica int
}

func (b *ledgerBook) problem(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.problems) < 30 {
		b.problems = append(b.problems, fmt.Sprintf(format, args...))
	}
}

func (b *ledgerBook) count(what string) {
	b.mu.Lock()
	b.counts[what]++
	b.mu.Unlock()
}

// TestReplicas_SixteenClientsOverTwoServersKeepEveryLedgerExact starts two `lux serve` processes
// on one new database at the same moment (both create and migrate it), then 16 clients post
// usage for four organizations over both: single events and batches, retries of acknowledged
// batches sent to the other replica, the same new batch sent to both at once, an acknowledged id
// reused with another body, and one new id with two bodies sent to both at once; with authorize
// calls among them, and credits granted and time zones changed meanwhile by a third process.
// Then every acknowledged event is stored exactly once at the credits answered, nothing refused
// is stored, each balance is its grants minus its events' cost, each daily rollup is its events
// cut in the org's zone, and every ledger invariant holds (AssertLedger and `lux check`). Coalescing is per process; only the database lock orders the two replicas' writes.
func TestReplicas_SixteenClientsOverTwoServersKeepEveryLedgerExact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := emptyDatabase(t)
	rs := startReplicas(t, 2, dsn)

	db, err := billing.OpenDB(ctx, dsn, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	wantMigrationsOnce(t, db)

	svc, err := billing.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ids := identity.New(svc)
	admin, err := ids.CreateUser(ctx, identity.NewUser{Email: "ops@example.com", Name: "Ops", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	// Two Free orgs run into arrears (one with purchased credits on top), two Pro orgs do not.
	plans := []struct {
		plan     string
		purchase int64 // credits
		wellFed  bool
	}{{"free", 0, false}, {"free", 500, false}, {"pro", 0, true}, {"pro", 1_000_000, true}}
	orgs := make([]*replicaOrg, len(plans))
	for i, p := range plans {
		id, err := ids.CreateOrg(ctx, billing.NewOrg{Name: fmt.Sprintf("Replica Org %d", i), PlanCode: p.plan}, admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.purchase > 0 {
			if _, err := svc.GrantCredits(ctx, id, billing.GrantPurchase, billing.Credits(p.purchase), nil, fmt.Sprintf("setup-%d", i), "Setup"); err != nil {
				t.Fatal(err)
			}
		}
		key, _, err := ids.CreateAPIKey(ctx, id, admin.ID, "replicas")
		if err != nil {
			t.Fatal(err)
		}
		m, err := ids.CreateUser(ctx, identity.NewUser{Email: fmt.Sprintf("member%d@example.com", i), Name: "Member", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		if err := ids.AddMember(ctx, id, m.ID, identity.RoleMember); err != nil {
			t.Fatal(err)
		}
		orgs[i] = &replicaOrg{id: id, key: key, member: m.ID, wellFed: p.wellFed}
	}

	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 30 * time.Second}
	defer httpc.CloseIdleConnections()
	bk := &ledgerBook{acked: map[string]ackedEvent{}, refused: map[string]bool{}, counts: map[string]int{}}

	const clients, rounds = 16, 30
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lc := &loadClient{t: t, n: c, org: orgs[c%len(orgs)], replicas: rs, http: httpc, bk: bk, rnd: mrand.New(mrand.NewPCG(14, uint64(c)))}
			switch c {
			case 0:
				lc.svc = svc // a third writer: it grants credits to its Free org among its requests
			case 1, 3:
				lc.svc, lc.zones = svc, true // … and changes the time zone of these orgs under their load
			}
			for k := range rounds {
				lc.round(k)
			}
		}()
	}
	wg.Wait()
	for _, r := range rs {
		if r.Exited() {
			t.Fatalf("a replica exited under load; its log:\n%s", r.logTail())
		}
	}
	for _, p := range bk.problems {
		t.Error(p)
	}
	t.Logf("the clients did: %v; %d events acknowledged", bk.counts, len(bk.acked))
	if len(bk.acked) < 500 || bk.counts["zone"] == 0 || bk.counts["both-at-once"] == 0 || bk.counts["conflict"] == 0 || bk.counts["conflict-both-at-once"] == 0 {
		t.Fatalf("the load did too little to prove anything: %v", bk.counts)
	}

	verifyReplicaLedgers(t, db, dsn, orgs, bk)

	// Every acknowledged event sent again, over both replicas, in batches of up to 100: each is
	// a duplicate with the credits first answered, and no balance moves.
	before := balances(t, db, orgs)
	byOrg := map[string][]ackedEvent{}
	for _, a := range bk.acked {
		byOrg[a.org] = append(byOrg[a.org], a)
	}
	replays := 0
	for _, o := range orgs {
		evs := byOrg[o.id]
		sort.Slice(evs, func(i, j int) bool { return evs[i].event.ID < evs[j].event.ID })
		c := &client{http: httpc, key: o.key}
		for i := 0; i < len(evs); i += 100 {
			part := evs[i:min(i+100, len(evs))]
			body := usageBody{}
			for _, a := range part {
				body.Events = append(body.Events, a.event)
			}
			var res api.UsageResult
			r := rs[(i/100)%2]
			if a := c.do(t, http.MethodPost, r.url+"/api/v1/usage", body, &res); a.status != http.StatusOK {
				t.Fatalf("replay: %d %s", a.status, a.body)
			}
			for j, got := range res.Results {
				if !got.Duplicate || got.Credits != part[j].credits || got.ID != part[j].event.ID {
					t.Errorf("replay of %s: %+v, first answered %s", part[j].event.ID, got, part[j].credits.Decimal())
				}
				replays++
			}
		}
	}
	if after := balances(t, db, orgs); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("replays moved balances: %v → %v", before, after)
	}
	if replays != len(bk.acked) {
		t.Errorf("%d replays answered, %d events acknowledged", replays, len(bk.acked))
	}

	t.Run("limits changed on one replica hold on the other at once", func(t *testing.T) {
		limitsAcrossReplicas(t, rs, httpc, orgs[2])
	})
	t.Run("credits granted elsewhere resume flows on both at once", func(t *testing.T) {
		creditsAcrossReplicas(t, rs, httpc, svc, orgs[1])
	})
	t.Run("a session started on one replica ends on the other", func(t *testing.T) {
		sessionsAcrossReplicas(t, rs)
	})
	t.Run("a revoked API key and a new price reach both replicas", func(t *testing.T) {
		notificationsAcrossReplicas(t, rs, httpc, db, ids, admin.ID, orgs[3])
	})
	for _, r := range rs {
		if r.Exited() {
			t.Fatalf("a replica exited; its log:\n%s", r.logTail())
		}
	}
}

// wantMigrationsOnce checks that every migration was applied exactly once, although both
// replicas ran them at the same moment.
func wantMigrationsOnce(t *testing.T, db *sqlx.DB) {
	t.Helper()
	files, err := fs.Glob(migrations.Files, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var applied []struct {
		Version int64 `db:"version_id"`
		N       int   `db:"n"`
	}
	if err := db.Select(&applied, `SELECT version_id, count(*) AS n FROM goose_db_version WHERE version_id > 0 GROUP BY 1`); err != nil {
		t.Fatal(err)
	}
	for _, a := range applied {
		if a.N != 1 {
			t.Errorf("migration %d applied %d times", a.Version, a.N)
		}
	}
	if len(applied) != len(files) {
		t.Errorf("%d migrations applied, %d in migrations/", len(applied), len(files))
	}
}

// loadClient is one of the 16 clients: its requests alternate between the replicas.
type loadClient struct {
	t        *testing.T
	n        int
	org      *replicaOrg
	replicas []*replica
	http     *http.Client
	bk       *ledgerBook
	rnd      *mrand.Rand
	svc      *billing.Service // grants credits (or, with zones, changes the org's zone) from this process too
	zones    bool
	seq      int
	mine     [][]ackedEvent // this client's acknowledged batches
}

func (c *loadClient) newEvent() usageEvent {
	c.seq++
	e := usageEvent{ID: fmt.Sprintf("c%02d-%04d", c.n, c.seq), FlowID: fmt.Sprintf("flow_%d", c.rnd.IntN(4)),
		ExecutionID: fmt.Sprintf("exec_%d_%d", c.n, c.seq/8)}
	switch c.rnd.IntN(4) {
	case 0:
		e.Type, e.Quantity = "email", int64(1+c.rnd.IntN(3))
	case 1:
		e.Type, e.Quantity = "sms", 1
	case 2:
		e.Type, e.Model, e.Quantity = "ai", "claude-sonnet", int64(200+c.rnd.IntN(2000))
	default:
		e.Type, e.Model, e.Quantity = "ai", "gpt-4o-mini", int64(100+c.rnd.IntN(3000))
	}
	if c.rnd.IntN(3) == 0 {
		e.UserID = c.org.member
	}
	return e
}

func (c *loadClient) newBatch(n int) []usageEvent {
	out := make([]usageEvent, n)
	for i := range out {
		out[i] = c.newEvent()
	}
	return out
}

func (c *loadClient) api() *client { return &client{http: c.http, key: c.org.key} }

// post sends events to replica r and returns the answer.
func (c *loadClient) post(r int, events []usageEvent) (answer, *api.UsageResult) {
	var res api.UsageResult
	a := c.api().do(c.t, http.MethodPost, c.replicas[r].url+"/api/v1/usage", usageBody{Events: events}, &res)
	return a, &res
}

// acknowledge books a 200 answer to a batch of new events.
func (c *loadClient) acknowledge(r int, events []usageEvent, a answer, res *api.UsageResult, what string) {
	if a.status != http.StatusOK || len(res.Results) != len(events) {
		c.bk.problem("%s on replica %d: %d %s", what, r, a.status, a.body)
		return
	}
	var batch []ackedEvent
	c.bk.mu.Lock()
	defer c.bk.mu.Unlock()
	for i, got := range res.Results {
		e := events[i]
		if got.ID != e.ID || got.Duplicate || got.Credits <= 0 {
			c.bk.problems = append(c.bk.problems, fmt.Sprintf("%s: new event %s answered %+v", what, e.ID, got))
			continue
		}
		ae := ackedEvent{org: c.org.id, event: e, credits: got.Credits, replica: r}
		c.bk.acked[c.org.id+"/"+e.ID] = ae
		batch = append(batch, ae)
	}
	c.mine = append(c.mine, batch)
}

func (c *loadClient) refuse(events []usageEvent) {
	c.bk.mu.Lock()
	defer c.bk.mu.Unlock()
	for _, e := range events {
		c.bk.refused[c.org.id+"/"+e.ID] = true
	}
}

// round k of the client: one of the moves below, sometimes after an authorize call.
func (c *loadClient) round(k int) {
	r := (c.n + k) % 2 // this round's replica; the other one is 1-r
	if c.svc != nil && c.zones && k%6 == 1 {
		// The org's days are cut again in another zone while both replicas record its usage.
		// Auckland (UTC+13 in December) and Honolulu (UTC−10) are never both on UTC's date, so
		// at any hour the events move between days.
		zone := []string{"Pacific/Auckland", "Pacific/Honolulu", "UTC"}[(k/6)%3]
		if err := c.svc.SetTimezone(context.Background(), c.org.id, zone); err != nil {
			c.bk.problem("time zone %s during the load: %v", zone, err)
		}
		c.bk.count("zone")
	}
	if c.svc != nil && !c.zones && k%3 == 0 {
		// Credits granted while the replicas charge the org: arrears settled under load.
		if _, err := c.svc.GrantCredits(context.Background(), c.org.id, billing.GrantPurchase, billing.Credits(50), nil, fmt.Sprintf("during-%d", k), "During the load"); err != nil {
			c.bk.problem("grant during the load: %v", err)
		}
		c.bk.count("grant")
	}
	if c.rnd.IntN(4) == 0 {
		c.authorize(r)
	}
	switch p := c.rnd.IntN(100); {
	case p < 40: // one new event
		evs := c.newBatch(1)
		a, res := c.post(r, evs)
		c.acknowledge(r, evs, a, res, "single event")
		c.bk.count("single")
	case p < 65: // a batch of new events, now and then a big one
		n := 2 + c.rnd.IntN(11)
		if c.rnd.IntN(10) == 0 {
			n = 100
		}
		evs := c.newBatch(n)
		a, res := c.post(r, evs)
		c.acknowledge(r, evs, a, res, "batch")
		c.bk.count("batch")
	case p < 77 && len(c.mine) > 0: // a retry of an acknowledged batch, to the other replica
		prev := c.mine[c.rnd.IntN(len(c.mine))]
		if len(prev) == 0 {
			return
		}
		other := 1 - prev[0].replica
		evs := make([]usageEvent, len(prev))
		for i, a := range prev {
			evs[i] = a.event
		}
		a, res := c.post(other, evs)
		if a.status != http.StatusOK || len(res.Results) != len(evs) {
			c.bk.problem("retry on replica %d of a batch acknowledged by %d: %d %s", other, prev[0].replica, a.status, a.body)
			return
		}
		for i, got := range res.Results {
			if !got.Duplicate || got.Credits != prev[i].credits {
				c.bk.problem("retry of %s on the other replica answered %+v; first answered %s", prev[i].event.ID, got, prev[i].credits.Decimal())
			}
		}
		c.bk.count("retry-other-replica")
	case p < 87: // the same new batch to both replicas at once (a retry after a timeout)
		evs := c.newBatch(1 + c.rnd.IntN(5))
		var as [2]answer
		var res [2]*api.UsageResult
		c.both(func(i int) { as[i], res[i] = c.post(i, evs) })
		for i := range 2 {
			if as[i].status != http.StatusOK || len(res[i].Results) != len(evs) {
				c.bk.problem("same batch on both replicas: replica %d answered %d %s", i, as[i].status, as[i].body)
				return
			}
		}
		// The replica whose transaction came first recorded it: every event is new there and a
		// duplicate with the same credits on the other.
		first := 0
		if res[0].Results[0].Duplicate {
			first = 1
		}
		for j := range evs {
			a, b := res[first].Results[j], res[1-first].Results[j]
			if a.Duplicate || !b.Duplicate || a.Credits != b.Credits {
				c.bk.problem("same batch on both replicas: event %s answered %+v by %d and %+v by %d", evs[j].ID, a, first, b, 1-first)
			}
		}
		c.acknowledge(first, evs, as[first], res[first], "same batch on both replicas")
		c.bk.count("both-at-once")
	case p < 94 && len(c.mine) > 0: // an acknowledged id with another body, beside new events
		prev := c.mine[c.rnd.IntN(len(c.mine))]
		if len(prev) == 0 {
			return
		}
		changed := prev[0].event
		changed.Quantity++
		fresh := c.newBatch(c.rnd.IntN(3))
		evs := append(append([]usageEvent(nil), fresh...), changed)
		other := 1 - prev[0].replica
		a, _ := c.post(other, evs)
		if a.status != http.StatusConflict || a.code != billing.ECONFLICT {
			c.bk.problem("id %s reused with another body on the other replica: %d %s", changed.ID, a.status, a.body)
			return
		}
		c.refuse(fresh)
		c.bk.count("conflict")
	default: // one new id with two bodies, one to each replica at once
		e := c.newEvent()
		if e.Type != "ai" {
			e.Type, e.Model = "ai", "claude-haiku"
		}
		bodies := [2][]usageEvent{{e}, {e}}
		bodies[1][0].Quantity++
		var as [2]answer
		var res [2]*api.UsageResult
		c.both(func(i int) { as[i], res[i] = c.post(i, bodies[i]) })
		won := -1
		for i := range 2 {
			switch {
			case as[i].status == http.StatusOK:
				won = i
			case as[i].status == http.StatusConflict && as[i].code == billing.ECONFLICT:
			default:
				c.bk.problem("two bodies of %s: replica %d answered %d %s", e.ID, i, as[i].status, as[i].body)
				return
			}
		}
		if won < 0 || as[1-won].status != http.StatusConflict {
			c.bk.problem("two bodies of %s at once: answered %d and %d; want one 200 and one 409", e.ID, as[0].status, as[1].status)
			return
		}
		c.acknowledge(won, bodies[won], as[won], res[won], "the body that came first")
		c.bk.count("conflict-both-at-once")
	}
}

// both runs f(0) and f(1) at once and waits for both.
func (c *loadClient) both(f func(i int)) {
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); f(i) }()
	}
	wg.Wait()
}

// authorize asks replica r whether a flow may go on: an org with plenty of credits and no limit
// is always allowed; a refusal says why, and the reason matches the figures it answers.
func (c *loadClient) authorize(r int) {
	req := map[string]any{"flowId": "flow_1", "executionId": fmt.Sprintf("exec_auth_%d", c.n),
		"estimate": map[string]any{"type": "ai", "model": "claude-sonnet", "quantity": 1500}}
	var got api.Authorization
	a := c.api().do(c.t, http.MethodPost, c.replicas[r].url+"/api/v1/authorize", req, &got)
	switch {
	case a.status == http.StatusOK && got.Allowed:
		c.bk.count("authorize-allowed")
	case a.status == http.StatusPaymentRequired && !got.Allowed && !c.org.wellFed &&
		got.Reason == billing.ReasonCreditsExhausted && got.Estimate != nil && got.Balance < *got.Estimate:
		c.bk.count("authorize-refused")
	default:
		c.bk.problem("authorize on replica %d for %s: %d %s", r, c.org.id, a.status, a.body)
	}
}

// verifyReplicaLedgers proves the book against the database.
func verifyReplicaLedgers(t *testing.T, db *sqlx.DB, dsn string, orgs []*replicaOrg, bk *ledgerBook) {
	t.Helper()
	var rows []struct {
		Org  string `db:"org_id"`
		ID   string `db:"id"`
		Cost int64  `db:"cost_mc"`
	}
	if err := db.Select(&rows, `SELECT org_id, id, cost_mc FROM usage_events`); err != nil {
		t.Fatal(err)
	}
	stored := make(map[string]int64, len(rows))
	for _, r := range rows {
		stored[r.Org+"/"+r.ID] = r.Cost
	}
	ackedCost := map[string]int64{}
	for key, a := range bk.acked {
		cost, ok := stored[key]
		switch {
		case !ok:
			t.Errorf("acknowledged event %s is not stored", key)
		case billing.Millicredits(cost) != a.credits:
			t.Errorf("event %s: stored %s credits, answered %s", key, billing.Millicredits(cost).Decimal(), a.credits.Decimal())
		}
		ackedCost[a.org] += int64(a.credits)
	}
	for key := range bk.refused {
		if _, ok := stored[key]; ok {
			t.Errorf("event %s of a refused batch is stored", key)
		}
	}
	if len(stored) != len(bk.acked) {
		t.Errorf("%d events stored, %d acknowledged", len(stored), len(bk.acked))
	}
	for _, o := range orgs {
		var f struct {
			Balance int64 `db:"balance_mc"`
			Granted int64 `db:"granted"`
			Charged int64 `db:"charged"`
			Events  int64 `db:"events"`
			Other   int   `db:"other"`
		}
		err := db.Get(&f, `SELECT a.balance_mc,
			(SELECT COALESCE(sum(amount_mc), 0) FROM ledger_entries WHERE org_id = a.org_id AND kind = 'grant') AS granted,
			(SELECT COALESCE(-sum(amount_mc), 0) FROM ledger_entries WHERE org_id = a.org_id AND kind = 'usage') AS charged,
			(SELECT COALESCE(sum(cost_mc), 0) FROM usage_events WHERE org_id = a.org_id) AS events,
			(SELECT count(*) FROM ledger_entries WHERE org_id = a.org_id AND kind NOT IN ('grant', 'usage')) AS other
			FROM accounts a WHERE a.org_id = $1`, o.id)
		if err != nil {
			t.Fatal(err)
		}
		if f.Other != 0 {
			t.Errorf("org %s: %d ledger entries that are neither grants nor usage", o.id, f.Other)
		}
		if f.Events != ackedCost[o.id] || f.Charged != f.Events || f.Balance != f.Granted-f.Events {
			t.Errorf("org %s: balance %d mc, granted %d, charged %d, events cost %d, acknowledged %d: want balance = granted − events = granted − acknowledged",
				o.id, f.Balance, f.Granted, f.Charged, f.Events, ackedCost[o.id])
		}
		billingtest.AssertLedger(t, db, o.id)
		// The daily rollup is the events cut in the org's zone now, row for row.
		const rollup = `SELECT day::text, flow_id, user_id, type, model, credits_mc, quantity, events FROM usage_daily WHERE org_id = $1 ORDER BY 1, 2, 3, 4, 5`
		const fromEvents = `SELECT (e.occurred_at AT TIME ZONE o.timezone)::date::text AS day, e.flow_id, e.user_id, e.type, e.model,
			sum(e.cost_mc) AS credits_mc, sum(e.quantity) AS quantity, count(*) AS events
			FROM usage_events e JOIN orgs o ON o.id = e.org_id WHERE e.org_id = $1 GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`
		type day struct {
			Day, Flow, User, Type, Model string
			Credits, Quantity, Events    int64
		}
		var got, want []day
		for q, dst := range map[string]*[]day{rollup: &got, fromEvents: &want} {
			rows, err := db.Query(q, o.id)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var d day
				if err := rows.Scan(&d.Day, &d.Flow, &d.User, &d.Type, &d.Model, &d.Credits, &d.Quantity, &d.Events); err != nil {
					t.Fatal(err)
				}
				*dst = append(*dst, d)
			}
			rows.Close()
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("org %s: the daily rollup is not its events cut in its zone:\n rollup %v\n events %v", o.id, got, want)
		}
	}
	if out, errOut, code := runLux(t, map[string]string{"DATABASE_URL": dsn}, "check"); code != 0 || !strings.Contains(out, "Ledger OK") {
		t.Errorf("lux check: exit %d\n%s%s", code, out, errOut)
	}
}

func balances(t *testing.T, db *sqlx.DB, orgs []*replicaOrg) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, o := range orgs {
		var b int64
		if err := db.Get(&b, `SELECT balance_mc FROM accounts WHERE org_id = $1`, o.id); err != nil {
			t.Fatal(err)
		}
		out[o.id] = b
	}
	return out
}

// authorizeOn asks replica r for userID (empty: the key's user) and returns the status and
// reason.
func authorizeOn(t *testing.T, r *replica, c *client, userID string) (int, string) {
	t.Helper()
	var got api.Authorization
	a := c.do(t, http.MethodPost, r.url+"/api/v1/authorize", map[string]any{"flowId": "flow_1", "executionId": "exec_x", "userId": userID}, &got)
	return a.status, got.Reason
}

func wantAuthorize(t *testing.T, r *replica, c *client, userID string, status int, reason string) {
	t.Helper()
	if got, why := authorizeOn(t, r, c, userID); got != status || why != reason {
		t.Errorf("authorize on %s: %d %q, want %d %q", r.url, got, why, status, reason)
	}
}

// limitsAcrossReplicas: authorize reads limits and counters from the database on every call, so
// a limit set or raised through one replica decides the other's next answer.
func limitsAcrossReplicas(t *testing.T, rs []*replica, httpc *http.Client, o *replicaOrg) {
	c := &client{http: httpc, key: o.key}
	a, b := rs[0], rs[1]
	// The member has usage this cycle (a third of the events name them).
	var lim api.Limits
	if ans := c.do(t, http.MethodGet, a.url+"/api/v1/limits", nil, &lim); ans.status != http.StatusOK {
		t.Fatalf("GET limits: %d %s", ans.status, ans.body)
	}
	if lim.CycleUsed <= 1 {
		t.Fatalf("the org used %s credits this cycle; the load should have used more", lim.CycleUsed.Decimal())
	}
	wantAuthorize(t, b, c, "", http.StatusOK, "")
	put := func(r *replica, path string, body string) {
		t.Helper()
		var in json.RawMessage = []byte(body)
		if ans := c.do(t, http.MethodPut, r.url+path, in, nil); ans.status != http.StatusOK {
			t.Fatalf("PUT %s %s on %s: %d %s", path, body, r.url, ans.status, ans.body)
		}
	}
	put(a, "/api/v1/limits", `{"monthlyLimit":0.001}`)
	wantAuthorize(t, b, c, "", http.StatusPaymentRequired, billing.ReasonMonthlyLimitReached)
	put(a, "/api/v1/limits", `{"monthlyLimit":1000000000}`)
	wantAuthorize(t, b, c, "", http.StatusOK, "")
	put(b, "/api/v1/limits", `{"monthlyLimit":null}`)
	wantAuthorize(t, a, c, "", http.StatusOK, "")

	put(b, "/api/v1/limits/members/"+o.member, `{"monthlyLimit":0.001}`)
	wantAuthorize(t, a, c, o.member, http.StatusPaymentRequired, billing.ReasonMemberLimitReached)
	wantAuthorize(t, a, c, "", http.StatusOK, "") // the admin goes on
	put(b, "/api/v1/limits/members/"+o.member, `{"monthlyLimit":null}`)
	wantAuthorize(t, a, c, o.member, http.StatusOK, "")
}

// creditsAcrossReplicas: an org in arrears is refused by both replicas; credits granted by
// another process resume it on both at the next call.
func creditsAcrossReplicas(t *testing.T, rs []*replica, httpc *http.Client, svc *billing.Service, o *replicaOrg) {
	ctx := context.Background()
	c := &client{http: httpc, key: o.key}
	// Make sure it is in arrears: one large event through the first replica.
	var res api.UsageResult
	big := usageBody{Events: []usageEvent{{ID: "arrears-1", FlowID: "flow_1", ExecutionID: "exec_big", Type: "ai", Model: "claude-opus", Quantity: 1_000_000}}}
	if ans := c.do(t, http.MethodPost, rs[0].url+"/api/v1/usage", big, &res); ans.status != http.StatusOK || res.Balance >= 0 {
		t.Fatalf("large event: %d %s", ans.status, ans.body)
	}
	for _, r := range rs {
		wantAuthorize(t, r, c, "", http.StatusPaymentRequired, billing.ReasonCreditsExhausted)
	}
	if _, err := svc.GrantCredits(ctx, o.id, billing.GrantPurchase, -res.Balance+billing.Credits(100), nil, "resume", "Resume"); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		var got api.Authorization
		ans := c.do(t, http.MethodPost, r.url+"/api/v1/authorize", map[string]any{"flowId": "flow_1", "executionId": "exec_x"}, &got)
		if ans.status != http.StatusOK || got.Balance != billing.Credits(100) {
			t.Errorf("authorize on %s after the grant: %d %s; want 200 with a balance of 100", r.url, ans.status, ans.body)
		}
	}
	billingtest.AssertLedger(t, svc.DB(), o.id)
}

// sessionsAcrossReplicas: sessions are rows in the database and the cookie is signed with the
// shared secret, so a session started on one replica opens pages on the other, and signing out
// on the other ends it everywhere at once.
func sessionsAcrossReplicas(t *testing.T, rs []*replica) {
	siteA := webtest.SiteOf(t, &webtest.Server{URL: rs[0].url})
	siteB := webtest.SiteOf(t, &webtest.Server{URL: rs[1].url})
	onA := siteA.Browser()
	onA.Login("ops@example.com", "correct horse")
	onB := siteB.Browser()
	onB.Client.Jar = onA.Client.Jar // one browser; the load balancer sends it to either replica
	webtest.WantStatus(t, onB.Get("/settings/billing"), http.StatusOK)
	copied := onA.CopyOf()
	csrf := webtest.FormToken(t, copied, "/settings/api-keys")
	webtest.WantRedirect(t, onB.Post("/settings/billing", "/logout", nil), "/login?signed_out=1")
	webtest.WantSignedOut(t, copied, csrf) // on the first replica
}

// notificationsAcrossReplicas: the copies a replica keeps (API keys it authenticated lately, the
// rate card) follow the database through LISTEN/NOTIFY, so a change reaches the other replicas
// as soon as the notification is delivered, not at once. The test asks until each replica
// answers the new way (a bounded wait for an asynchronous delivery; how soon is not asserted).
func notificationsAcrossReplicas(t *testing.T, rs []*replica, httpc *http.Client, db *sqlx.DB, ids *identity.Service, adminID string, o *replicaOrg) {
	ctx := context.Background()
	key, keyID, err := ids.CreateAPIKey(ctx, o.id, adminID, "to revoke")
	if err != nil {
		t.Fatal(err)
	}
	c := &client{http: httpc, key: key}
	for _, r := range rs { // both replicas authenticate it, and keep it
		wantAuthorize(t, r, c, "", http.StatusOK, "")
	}
	m, err := ids.FindMembership(ctx, o.id, adminID)
	if err != nil {
		t.Fatal(err)
	}
	if err := ids.RevokeAPIKey(ctx, m, keyID); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		until(t, fmt.Sprintf("replica %s refuses the revoked key", r.url), func() bool {
			st, _ := authorizeOn(t, r, c, "")
			return st == http.StatusUnauthorized
		})
	}

	// A new price of Claude Haiku, in force from a moment ago: both replicas price with it.
	admin := &client{http: httpc, key: o.key}
	estimate := func(r *replica) billing.Millicredits {
		var got api.Authorization
		ans := admin.do(t, http.MethodPost, r.url+"/api/v1/authorize", map[string]any{"flowId": "flow_1", "executionId": "exec_x",
			"estimate": map[string]any{"type": "ai", "model": "claude-haiku", "quantity": 1000}}, &got)
		if ans.status != http.StatusOK || got.Estimate == nil {
			t.Fatalf("authorize with an estimate: %d %s", ans.status, ans.body)
		}
		return *got.Estimate
	}
	for _, r := range rs {
		if got := estimate(r); got != 1000 {
			t.Fatalf("1,000 tokens of Claude Haiku cost %s credits before the change, want 1", got.Decimal())
		}
	}
	if _, err := db.Exec(`INSERT INTO rate_card (type, model, unit, unit_size, mc_per_unit, label, effective_from)
		VALUES ('ai', 'claude-haiku', 'tokens', 1, 3, 'Claude Haiku', now() - interval '1 second')`); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		until(t, fmt.Sprintf("replica %s prices with the new rate", r.url), func() bool { return estimate(r) == 3000 })
	}
}

// until asks cond again and again (each time a request to a replica) until it holds, for at
// most 20 s: for what a replica learns through a notification.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s", what)
		}
	}
}
