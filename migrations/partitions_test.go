package migrations_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/migrations"
)

// emptyDB creates an empty database, dropped when the test ends.
func emptyDB(t *testing.T) *sqlx.DB {
	t.Helper()
	admin, err := sql.Open("postgres", billingtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "lux_test_mig_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + pq.QuoteIdentifier(name)); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(billingtest.ServerURL())
	u.Path = "/" + name
	db, err := sqlx.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		if a, err := sql.Open("postgres", billingtest.ServerURL()); err == nil {
			_, _ = a.Exec("DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)")
			a.Close()
		}
	})
	return db
}

// A database with events from before the partitions: migration 00080 moves every row into its
// month's partition, writes its key, and leaves no month without a partition.
func TestMigration_PartitionsExistingEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := emptyDB(t)
	p, err := goose.NewProvider(goose.DialectPostgres, db.DB, migrations.Files, goose.WithAllowOutofOrder(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 70); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	events := []struct {
		id string
		at time.Time
	}{
		{"e_old", now.AddDate(0, -13, 0)},
		{"e_mid", now.AddDate(0, -6, 0)},
		{"e_now", now},
	}
	for i, e := range events {
		if _, err := db.Exec(`INSERT INTO usage_events (org_id, id, flow_id, execution_id, user_id, type, model, quantity,
			cost_mc, occurred_at, received_at, entry_id, body_hash) VALUES ('org_a', $1, 'f', 'x', 'u', 'sms', '', 1, $2, $3, $3, $4, $5)`,
			e.id, 2000+i, e.at, 10+i, []byte{byte(i), 1, 2}); err != nil {
			t.Fatal(err)
		}
	}
	if err := migrations.Up(ctx, db.DB); err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		var part string
		var cost int64
		if err := db.Get(&part, `SELECT tableoid::regclass::text FROM usage_events WHERE org_id = 'org_a' AND id = $1`, e.id); err != nil {
			t.Fatalf("%s after the migration: %v", e.id, err)
		}
		if want := billing.PartitionName(e.at); part != want {
			t.Errorf("%s is in %s, want %s", e.id, part, want)
		}
		var hash []byte
		if err := db.QueryRow(`SELECT cost_mc, body_hash FROM usage_event_keys WHERE org_id = 'org_a' AND id = $1`, e.id).Scan(&cost, &hash); err != nil {
			t.Fatalf("key of %s: %v", e.id, err)
		}
		if cost != int64(2000+i) || len(hash) != 3 || hash[0] != byte(i) {
			t.Errorf("key of %s: cost %d, hash %x", e.id, cost, hash)
		}
	}
	var months, inDefault int
	_ = db.Get(&months, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'usage_events'::regclass`)
	_ = db.Get(&inDefault, `SELECT count(*) FROM usage_events_default`)
	if months != 13+1+billing.PartitionsAhead+1 || inDefault != 0 {
		t.Errorf("%d partitions (want every month from the oldest event's to %d ahead, and the default), %d rows in the default one",
			months, billing.PartitionsAhead, inDefault)
	}
	// The old key is still the idempotency key.
	if _, err := db.Exec(`INSERT INTO usage_event_keys (org_id, id, occurred_at, entry_id, cost_mc, body_hash)
		VALUES ('org_a', 'e_old', now(), 1, 1, '\x00')`); err == nil {
		t.Error("a second key for an existing event id was accepted")
	}
}
