package estimate_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/estimate"
)

// seedRates is the rate card of SPEC §2 (migrations/00001), in force.
func seedRates() []billing.Rate {
	r := func(typ, model, unit string, size int64, mc billing.Millicredits, label string) billing.Rate {
		return billing.Rate{Type: typ, Model: model, Unit: unit, UnitSize: size, PerUnit: mc, Label: label}
	}
	rows := []billing.Rate{
		r("ai", "claude-haiku", "tokens", 1, 1, "Claude Haiku"),
		r("ai", "claude-opus", "tokens", 1, 15, "Claude Opus"),
		r("ai", "claude-sonnet", "tokens", 1, 5, "Claude Sonnet"),
		r("ai", "gpt-4o", "tokens", 1, 5, "GPT-4o"),
		r("ai", "gpt-4o-mini", "tokens", 1, 1, "GPT-4o-mini"),
		r("email", "", "emails", 1, 1000, "Email"),
		r("sms", "", "messages", 1, 2000, "SMS"),
		r("voice_call", "", "seconds", 60, 5000, "Voice call"),
		r("voice_synthesis", "", "characters", 1, 1, "Voice synthesis"),
	}
	return billing.NewRateCard(rows).Current(time.Now())
}

func mc(n billing.Millicredits) *billing.Millicredits { return &n }

func seedPlans() []billing.Plan {
	return []billing.Plan{
		{Code: "free", Name: "Free", MonthlyCredits: mc(billing.Credits(1_000))},
		{Code: "starter", Name: "Starter", MonthlyCredits: mc(billing.Credits(10_000)), PriceCents: 2900},
		{Code: "pro", Name: "Pro", MonthlyCredits: mc(billing.Credits(100_000)), PriceCents: 24900},
		{Code: "enterprise", Name: "Enterprise"},
	}
}

func pricing(current string) estimate.Pricing {
	p := estimate.Pricing{Rates: seedRates(), Plans: seedPlans(), CreditPriceCents: 1}
	for _, pl := range p.Plans {
		if pl.Code == current {
			p.Current, p.CurrentAllotment = pl, *pl.MonthlyCredits
		}
	}
	return p
}

var (
	sonnet = func(calls, tokens int64) estimate.Line {
		return estimate.Line{Type: "ai", Model: "claude-sonnet", Count: calls, Quantity: tokens}
	}
	emails = func(n int64) estimate.Line { return estimate.Line{Type: "email", Count: n, Quantity: 1} }
	sms    = func(n int64) estimate.Line { return estimate.Line{Type: "sms", Count: n, Quantity: 1} }
	voice  = func(calls, seconds int64) estimate.Line {
		return estimate.Line{Type: "voice_call", Count: calls, Quantity: seconds}
	}
)

// The seed's formula: (AI calls × tokens × model rate) + (emails × 1) + (SMS × 2) + (voice
// minutes × 5), with voice billed per started minute of each call.
func TestCompute_SeedFormulaOnWorkedExamples(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		current string
		lines   []estimate.Line
		credits []int64 // per line, whole credits
		total   billing.Millicredits
		plan    string
		topUp   billing.Millicredits
		cents   billing.Cents
	}{
		{"the issue's month on Free", "free",
			[]estimate.Line{sonnet(10_000, 1_500), emails(2_000), sms(500), voice(120, 60)},
			[]int64{75_000, 2_000, 1_000, 600}, billing.Credits(78_600), "pro", billing.Credits(77_600), 78_600},
		{"the same month on Pro needs nothing on top", "pro",
			[]estimate.Line{sonnet(10_000, 1_500), emails(2_000), sms(500), voice(120, 60)},
			[]int64{75_000, 2_000, 1_000, 600}, billing.Credits(78_600), "pro", 0, 78_600},
		{"SPEC §9's example", "starter",
			[]estimate.Line{sonnet(10_000, 1_500), emails(2_000)},
			[]int64{75_000, 2_000}, billing.Credits(77_000), "pro", billing.Credits(67_000), 77_000},
		{"a small month fits Free", "free",
			[]estimate.Line{emails(900), sms(50)}, []int64{900, 100}, billing.Credits(1_000), "free", 0, 1_000},
		{"one credit over Free is Starter", "free",
			[]estimate.Line{emails(1_001)}, []int64{1_001}, billing.Credits(1_001), "starter", billing.Credits(1), 1_001},
		{"over Pro is Enterprise", "pro",
			[]estimate.Line{{Type: "ai", Model: "claude-opus", Count: 10_000, Quantity: 1_000}},
			[]int64{150_000}, billing.Credits(150_000), "enterprise", billing.Credits(50_000), 150_000},
		{"a started minute is a minute, per call", "free",
			[]estimate.Line{voice(10, 61), voice(3, 1)}, []int64{100, 15}, billing.Credits(115), "free", 0, 115},
		{"tokens in thousandths of a credit", "free",
			[]estimate.Line{{Type: "ai", Model: "claude-haiku", Count: 3, Quantity: 333}, {Type: "voice_synthesis", Count: 1, Quantity: 1}},
			nil, 1_000, "free", 0, 1},
		{"nothing costs nothing", "free",
			[]estimate.Line{emails(0), sonnet(5, 0)}, []int64{0, 0}, 0, "free", 0, 0},
		{"no lines at all", "free", nil, nil, 0, "free", 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			est, err := estimate.Compute(pricing(c.current), c.lines)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range c.credits {
				if got := est.Lines[i].Credits; got != billing.Credits(want) {
					t.Errorf("line %d: %s credits, want %d", i, got, want)
				}
			}
			if est.Total != c.total || est.Recommended.Code != c.plan || est.TopUp != c.topUp || est.Cents != c.cents {
				t.Errorf("total %s, plan %s, top-up %s, %s; want %s, %s, %s, %s",
					est.Total, est.Recommended.Code, est.TopUp, est.Cents, c.total, c.plan, c.topUp, c.cents)
			}
			if est.TopUpCents != billing.Cents(c.topUp/1000) {
				t.Errorf("top-up price %s for %s credits at 1¢", est.TopUpCents, est.TopUp)
			}
		})
	}
}

func TestCompute_DollarsAtTheConfiguredPriceRoundHalfUp(t *testing.T) {
	t.Parallel()
	p := pricing("free")
	p.CreditPriceCents = 3
	// 0.5 credits at 3¢ = 1.5¢ → 2¢.
	est, err := estimate.Compute(p, []estimate.Line{{Type: "ai", Model: "claude-haiku", Count: 1, Quantity: 500}})
	if err != nil {
		t.Fatal(err)
	}
	if est.Cents != 2 || est.CreditPriceCents != 3 {
		t.Fatalf("%s at 3¢, want 2¢", est.Cents)
	}
}

func TestCompute_SavingsPerAILine(t *testing.T) {
	t.Parallel()
	est, err := estimate.Compute(pricing("free"), []estimate.Line{
		sonnet(10_000, 1_500),
		{Type: "ai", Model: "claude-haiku", Count: 10, Quantity: 10},
		emails(5),
		{Type: "ai", Model: "claude-opus", Count: 100, Quantity: 1_000},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range est.Savings {
		got = append(got, s.ModelLabel+" → "+s.AlternativeLabel+" "+s.Credits.String())
	}
	want := []string{
		// Sonnet: Haiku before GPT-4o-mini on a tie (same family); nothing for GPT-4o (same price).
		"Claude Sonnet → Claude Haiku 60,000", "Claude Sonnet → GPT-4o-mini 60,000",
		"Claude Opus → Claude Haiku 1,400", "Claude Opus → GPT-4o-mini 1,400",
		"Claude Opus → Claude Sonnet 1,000", "Claude Opus → GPT-4o 1,000",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("savings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if best, ok := est.Best(0); !ok || best.Alternative != "claude-haiku" || best.Line != 0 {
		t.Errorf("best saving of the Sonnet line: %+v", best)
	}
	if _, ok := est.Best(1); ok {
		t.Error("Haiku is the cheapest: no saving expected")
	}
}

func TestCompute_EveryInvalidInputHasItsMessage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		line  estimate.Line
		field string
		msg   string
	}{
		{"no type", estimate.Line{Count: 1, Quantity: 1}, "type", "choose a type of work: ai, email, sms, voice_call, voice_synthesis"},
		{"unknown type", estimate.Line{Type: "fax", Count: 1, Quantity: 1}, "type", `unknown type "fax": choose one of ai, email`},
		{"AI without a model", estimate.Line{Type: "ai", Count: 1, Quantity: 1}, "model", "choose a model: claude-haiku, claude-opus, claude-sonnet, gpt-4o, gpt-4o-mini"},
		{"unknown model", estimate.Line{Type: "ai", Model: "claude-poet", Count: 1, Quantity: 1}, "model", `unknown model "claude-poet": choose one of claude-haiku`},
		{"a model on email", estimate.Line{Type: "email", Model: "gpt-4o", Count: 1, Quantity: 1}, "model", `Email takes no model (got "gpt-4o")`},
		{"negative count", emails(-1), "count", "can't be negative"},
		{"negative quantity", sonnet(1, -5), "quantity", "can't be negative"},
		{"absurd count", emails(estimate.MaxCount + 1), "count", "1,000,000,001 is more than the 1,000,000,000 an estimate takes"},
		{"absurd quantity", sonnet(1, estimate.MaxQuantity+1), "quantity", "is more than the 1,000,000,000,000 an estimate takes"},
		{"absurd product", estimate.Line{Type: "ai", Model: "claude-opus", Count: estimate.MaxCount, Quantity: estimate.MaxQuantity}, "", "this line would cost over 1,000,000,000,000 credits a month"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			est, err := estimate.Compute(pricing("free"), []estimate.Line{emails(1), c.line})
			if est != nil {
				t.Fatalf("an estimate with a total for bad input: %+v", est)
			}
			inv := estimate.AsInvalid(err)
			if inv == nil {
				t.Fatalf("error %v is not an InvalidError", err)
			}
			if got := inv.For(1, c.field); !strings.Contains(got, c.msg) {
				t.Errorf("lines[1].%s: %q, want %q", c.field, got, c.msg)
			}
			if inv.For(0, c.field) != "" {
				t.Errorf("the good line got a message: %q", inv.For(0, c.field))
			}
			prefix := "lines[1]." + c.field + ": "
			if c.field == "" {
				prefix = "lines[1]: "
			}
			if billing.ErrorCode(err) != billing.EINVALID || !strings.HasPrefix(billing.ErrorMessage(err), prefix) {
				t.Errorf("as a billing error: %s %q", billing.ErrorCode(err), billing.ErrorMessage(err))
			}
		})
	}
}

func TestCompute_ReportsEveryBadFieldAtOnce(t *testing.T) {
	t.Parallel()
	_, err := estimate.Compute(pricing("free"), []estimate.Line{
		{Type: "ai", Model: "nope", Count: -1, Quantity: -1}, emails(1), {Type: "sms", Count: -3, Quantity: 1},
	})
	want := `lines[0].model: unknown model "nope": choose one of claude-haiku, claude-opus, claude-sonnet, gpt-4o, gpt-4o-mini; ` +
		`lines[0].count: can't be negative; lines[0].quantity: can't be negative; lines[2].count: can't be negative`
	if got := billing.ErrorMessage(err); got != want {
		t.Fatalf("message\n%s\nwant\n%s", got, want)
	}
}

func TestCompute_TooManyLines(t *testing.T) {
	t.Parallel()
	lines := make([]estimate.Line, estimate.MaxLines+1)
	for i := range lines {
		lines[i] = emails(1)
	}
	_, err := estimate.Compute(pricing("free"), lines)
	if !strings.Contains(billing.ErrorMessage(err), "at most 50 lines (got 51)") {
		t.Fatalf("got %v", err)
	}
	if _, err := estimate.Compute(pricing("free"), lines[:estimate.MaxLines]); err != nil {
		t.Fatalf("50 lines: %v", err)
	}
}

func TestCompute_LargestLinesDoNotOverflow(t *testing.T) {
	t.Parallel()
	// The most credits a line may cost, 50 times over, priced at $10 a credit.
	p := pricing("pro")
	p.CreditPriceCents = 1000
	line := estimate.Line{Type: "email", Count: estimate.MaxCount, Quantity: 1_000}
	lines := make([]estimate.Line, estimate.MaxLines)
	for i := range lines {
		lines[i] = line
	}
	est, err := estimate.Compute(p, lines)
	if err != nil {
		t.Fatal(err)
	}
	if est.Total != 50*estimate.MaxLineCredits || est.Cents != billing.Cents(50*1_000_000_000_000*1000) || est.Recommended.Code != "enterprise" {
		t.Fatalf("total %s, %d cents, %s", est.Total, est.Cents, est.Recommended.Code)
	}
}

func TestParseNumber(t *testing.T) {
	t.Parallel()
	ok := map[string]int64{"0": 0, "2000": 2000, " 10,000 ": 10000, "10 000": 10000, "1_500": 1500, "+5": 5, "007": 7, "12.0": 12, "-0": 0}
	for in, want := range ok {
		if got, err := estimate.ParseNumber(in, estimate.MaxCount); err != nil || got != want {
			t.Errorf("ParseNumber(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":                        "enter a number",
		"  ":                      "enter a number",
		"abc":                     `"abc" is not a number: enter a whole number, like 2000`,
		"1e6":                     `"1e6" is not a number`,
		"--5":                     "is not a number",
		"1.5":                     "enter a whole number (got 1.5)",
		"-3":                      "can't be negative",
		"1000000001":              "1,000,000,001 is more than the 1,000,000,000 an estimate takes",
		"99999999999999999999999": "99999999999999999999999 is more than the 1,000,000,000",
	}
	for in, want := range bad {
		_, err := estimate.ParseNumber(in, estimate.MaxCount)
		var be *billing.Error
		if !errors.As(err, &be) || be.Code != billing.EINVALID || !strings.Contains(be.Message, want) {
			t.Errorf("ParseNumber(%q): %v; want %q", in, err, want)
		}
	}
}
