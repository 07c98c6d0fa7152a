package documents_test

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/documents"
)

func TestNumbering_GapFreeAndUniqueWhenIssuedAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const workers, each = 16, 5
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				tx, err := f.db.BeginTxx(ctx, nil)
				if err != nil {
					t.Error(err)
					return
				}
				ref := fmt.Sprintf("cs_%d_%d", w, i)
				_, err = f.docs.IssuePurchaseInvoice(ctx, tx, documents.Purchase{OrgID: f.org, Ref: ref, Credits: billing.Credits(100), Amount: 100})
				// Every third issue is rolled back, as a failed fulfilment would be: its number
				// must be given back, not lost.
				if err != nil || i%3 == 2 {
					_ = tx.Rollback()
				} else if err = tx.Commit(); err != nil {
					t.Error(err)
				}
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	var numbers []string
	if err := f.db.Select(&numbers, `SELECT number FROM documents WHERE kind = 'invoice'`); err != nil {
		t.Fatal(err)
	}
	sort.Strings(numbers)
	want := workers * (each - each/3)
	if len(numbers) != want {
		t.Fatalf("%d invoices, want %d", len(numbers), want)
	}
	for i, n := range numbers {
		if w := documents.FormatNumber(documents.SeriesInvoice, 2026, int64(i+1)); n != w {
			t.Fatalf("invoice %d is %s, want %s: numbers have a gap or a duplicate", i, n, w)
		}
	}
	// Each series counts on its own, and a new year starts again at 1.
	f.clock.Set(time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC))
	d := f.buy(t, "cs_new_year", 100)
	if d.Number != "LUX-2027-000001" {
		t.Errorf("first invoice of 2027 is %s", d.Number)
	}
	billingtest.AssertDocuments(t, f.db, f.org)
}

func TestHistory_PaginationReturnsEveryRowOnceNewestFirst(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// 23 purchases, some in the same instant (ties broken by id), one credit note.
	at := t0.Add(time.Hour)
	for i := range 23 {
		if i%4 != 0 {
			at = at.Add(time.Hour)
		}
		f.clock.Set(at)
		f.buy(t, fmt.Sprintf("cs_%02d", i), 100)
	}
	f.inTx(t, func(tx *sqlx.Tx) error {
		_, err := f.docs.IssueCreditNote(ctx, tx, documents.Refund{OrgID: f.org, Ref: "re_x", InvoiceRef: "cs_05", Amount: 50, Credits: billing.Credits(50)})
		return err
	})
	for _, size := range []int{1, 5, 7, 24, 100} {
		seen := map[string]bool{}
		var prev *documents.Document
		cursor := ""
		for pages := 0; ; pages++ {
			page, err := f.docs.List(ctx, f.org, documents.Filter{Cursor: cursor, Limit: size})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range page.Documents {
				if seen[d.Number] {
					t.Fatalf("page size %d: %s listed twice", size, d.Number)
				}
				seen[d.Number] = true
				if prev != nil && (d.IssuedAt.After(prev.IssuedAt) || d.IssuedAt.Equal(prev.IssuedAt) && d.ID > prev.ID) {
					t.Fatalf("page size %d: %s after %s is not newest first", size, d.Number, prev.Number)
				}
				prev = d
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
		if len(seen) != 24 {
			t.Errorf("page size %d: %d documents, want 24", size, len(seen))
		}
	}
	// Filters: by type and by issue date.
	count := func(fl documents.Filter) int {
		fl.Limit = 100
		page, err := f.docs.List(ctx, f.org, fl)
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Documents)
	}
	if n := count(documents.Filter{Type: documents.TypeCreditNote}); n != 1 {
		t.Errorf("%d credit notes", n)
	}
	if n := count(documents.Filter{Type: documents.TypeStatement}); n != 0 {
		t.Errorf("%d statements", n)
	}
	if n := count(documents.Filter{From: t0.Add(2 * time.Hour), To: t0.Add(5 * time.Hour)}); n != 4 {
		t.Errorf("%d documents issued in [2h, 5h), want 4", n)
	}
	for _, bad := range []documents.Filter{{Type: "receipts"}, {Cursor: "not-a-cursor"}} {
		if _, err := f.docs.List(ctx, f.org, bad); billing.ErrorCode(err) != billing.EINVALID {
			t.Errorf("List(%+v) = %v, want EINVALID", bad, err)
		}
	}
}

func TestDocuments_AnotherOrgsNumberIsNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.buy(t, "cs_mine", 100)
	other, err := f.ids.CreateOrg(ctx, billing.NewOrg{Name: "Other Org"}, f.member)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.docs.FindByNumber(ctx, other, d.Number); billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Errorf("another org found %s: %v", d.Number, err)
	}
	page, err := f.docs.List(ctx, other, documents.Filter{})
	if err != nil || len(page.Documents) != 0 {
		t.Errorf("another org lists %d documents (%v)", len(page.Documents), err)
	}
}

func TestProfile_Validation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, c := range []struct {
		p     documents.Profile
		field string
	}{
		{documents.Profile{Name: " "}, "name"},
		{documents.Profile{Name: "A", Country: "XX"}, "country"},
		{documents.Profile{Name: "A", TaxID: "!"}, "taxId"},
		{documents.Profile{Name: "A", Email: "not an email"}, "email"},
		{documents.Profile{Name: "A", Address: "1\n2\n3\n4\n5"}, "address"},
	} {
		_, err := f.docs.SaveProfile(ctx, f.org, f.admin, c.p)
		var pe *documents.ProfileError
		if billing.ErrorCode(err) != billing.EINVALID || !asProfileError(err, &pe) || pe.Fields[c.field] == "" {
			t.Errorf("SaveProfile(%+v) = %v, want a message for %s", c.p, err, c.field)
		}
	}
	p, err := f.docs.SaveProfile(ctx, f.org, f.admin, documents.Profile{Name: " Initech ", Country: "fr", TaxID: "fr 12 345", Address: " 1 rue de la Paix \r\n\r\n75002 Paris "})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Initech" || p.Country != "FR" || p.TaxID != "FR 12 345" || p.Address != "1 rue de la Paix\n75002 Paris" {
		t.Errorf("saved %+v", p)
	}
}
