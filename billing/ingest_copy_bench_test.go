package billing_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/luxstudio/lux-billing/billing/billingtest"
)

// BenchmarkInsertEvents compares the two ways of sending a batch's events to PostgreSQL that the
// ingestion issue asks about, on the same connection, each in its own transaction with its
// commit: unnest over array parameters (what insert-events and ingest_usage do: one round
// trip) and COPY into a temporary staging table followed by set-based inserts (lib/pq's
// CopyIn: the COPY statement, the rows, the end of the copy, then the inserts). Only the
// event rows and their keys are written, so the difference is the transport alone:
// go test -run XXX -bench InsertEvents -benchtime 3s ./billing/
func BenchmarkInsertEvents(b *testing.B) {
	for _, size := range []int{100, 1000} {
		for _, way := range []string{"unnest", "copy"} {
			b.Run(fmt.Sprintf("batch=%d/%s", size, way), func(b *testing.B) {
				db, _ := billingtest.NewDB(b)
				ctx := context.Background()
				conn, err := db.Conn(ctx)
				if err != nil {
					b.Fatal(err)
				}
				defer conn.Close()
				if _, err := conn.ExecContext(ctx, `CREATE TEMP TABLE stage (org_id text, id text, flow_id text,
					execution_id text, user_id text, type text, model text, quantity bigint, cost_mc bigint,
					occurred_at timestamptz, body_hash bytea) ON COMMIT DELETE ROWS`); err != nil {
					b.Fatal(err)
				}
				now := time.Now().UTC()
				seq := 0
				b.ResetTimer()
				for range b.N {
					ev := make([]benchEvent, size)
					for i := range ev {
						seq++
						ev[i] = benchEvent{id: fmt.Sprintf("e%09d", seq), flow: fmt.Sprintf("flow_%d", seq%7), exec: fmt.Sprintf("x%d", seq/5)}
						ev[i].hash = sha256.New().Sum([]byte(ev[i].id))[:32]
					}
					var err error
					if way == "unnest" {
						err = insertUnnest(ctx, conn, ev, now)
					} else {
						err = insertCopy(ctx, conn, ev, now)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

type benchEvent struct {
	id, flow, exec string
	hash           []byte
}

const benchOrg, benchUser = "org_bench", "usr_bench"

func insertUnnest(ctx context.Context, conn *sql.Conn, ev []benchEvent, now time.Time) error {
	ids, flows, execs := make([]string, len(ev)), make([]string, len(ev)), make([]string, len(ev))
	hashes := make([][]byte, len(ev))
	for i, e := range ev {
		ids[i], flows[i], execs[i], hashes[i] = e.id, e.flow, e.exec, e.hash
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `WITH e AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $5::bytea[]) AS e(id, flow_id, execution_id, body_hash)
	), k AS (
		INSERT INTO usage_event_keys (org_id, id, occurred_at, entry_id, cost_mc, body_hash)
		SELECT $6, e.id, $4, 1, 10, e.body_hash FROM e
		ON CONFLICT (org_id, id) DO NOTHING RETURNING id
	)
	INSERT INTO usage_events (org_id, id, flow_id, execution_id, user_id, type, model, quantity, cost_mc, occurred_at, received_at, entry_id)
	SELECT $6, e.id, e.flow_id, e.execution_id, $7, 'ai', 'claude-haiku', 100, 10, $4, $4, 1
	FROM k JOIN e ON e.id = k.id`,
		pq.Array(ids), pq.Array(flows), pq.Array(execs), now, pq.ByteaArray(hashes), benchOrg, benchUser)
	if err != nil {
		return err
	}
	return tx.Commit()
}

func insertCopy(ctx context.Context, conn *sql.Conn, ev []benchEvent, now time.Time) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, pq.CopyIn("stage", "org_id", "id", "flow_id", "execution_id", "user_id",
		"type", "model", "quantity", "cost_mc", "occurred_at", "body_hash"))
	if err != nil {
		return err
	}
	for _, e := range ev {
		if _, err := st.ExecContext(ctx, benchOrg, e.id, e.flow, e.exec, benchUser, "ai", "claude-haiku", 100, 10, now, e.hash); err != nil {
			return err
		}
	}
	if _, err := st.ExecContext(ctx); err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `WITH k AS (
		INSERT INTO usage_event_keys (org_id, id, occurred_at, entry_id, cost_mc, body_hash)
		SELECT org_id, id, occurred_at, 1, cost_mc, body_hash FROM stage
		ON CONFLICT (org_id, id) DO NOTHING RETURNING id
	)
	INSERT INTO usage_events (org_id, id, flow_id, execution_id, user_id, type, model, quantity, cost_mc, occurred_at, received_at, entry_id)
	SELECT s.org_id, s.id, s.flow_id, s.execution_id, s.user_id, s.type, s.model, s.quantity, s.cost_mc, s.occurred_at, $1, 1
	FROM k JOIN stage s ON s.id = k.id`, now)
	if err != nil {
		return err
	}
	return tx.Commit()
}
