package main

import (
	"context"
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/payments"
)

func TestCLI_RefundRefundsUnusedCreditsOnce(t *testing.T) {
	t.Parallel()
	db, dsn := billingtest.NewDB(t)
	ctx := context.Background()
	svc, err := billing.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ids := identity.New(svc)
	u, org, err := ids.SignUp(ctx, identity.NewUser{Email: "ada@example.com", Password: "correct horse"}, "Engines")
	if err != nil {
		t.Fatal(err)
	}
	pay := payments.New(svc, ids, payments.Config{})
	p, err := pay.StartPurchase(ctx, org, u.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pay.PayDemo(ctx, org, p.ID); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": dsn, "STRIPE_SECRET_KEY": ""}
	out, errOut, code := runLux(t, env, "refund", "--purchase", p.ID)
	if code != 0 || !strings.Contains(out, "Refunded 1,000 unused credits of purchase "+p.ID+": $10.00") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	_, errOut, code = runLux(t, env, "refund", "--purchase", p.ID)
	if code != 1 || !strings.Contains(errOut, "refunded already") {
		t.Fatalf("second refund: exit %d: %s", code, errOut)
	}
	_, errOut, code = runLux(t, env, "refund", "--purchase", "pur_nosuch")
	if code != 1 || !strings.Contains(errOut, `no purchase "pur_nosuch"`) {
		t.Fatalf("unknown purchase: exit %d: %s", code, errOut)
	}
	// The purchase was paid without an invoice (no issuer): the refund invoiced it first, then
	// issued the credit note that corrects it.
	var docs []struct {
		Kind   string `db:"kind"`
		Number string `db:"number"`
		Total  int64  `db:"total_cents"`
		Ref    string `db:"source_ref"`
	}
	if err := db.Select(&docs, `SELECT kind, number, total_cents, source_ref FROM documents WHERE org_id = $1 ORDER BY id`, org); err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].Kind != "invoice" || docs[0].Ref != p.ID || docs[0].Total != 1000 ||
		docs[1].Kind != "credit_note" || docs[1].Total != 1000 {
		t.Fatalf("documents after the refund = %+v, want the purchase's invoice, then its credit note", docs)
	}
	if !strings.Contains(out, docs[1].Number) {
		t.Errorf("the refund's output does not name its credit note %s:\n%s", docs[1].Number, out)
	}
	billingtest.AssertLedger(t, db, org)
	billingtest.AssertDocuments(t, db, org)
}
