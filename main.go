// Command lux is the Lux billing service and its command-line client.
//
//	lux serve                      migrate, then serve on LUX_ADDR (default :8080)
//	lux migrate                    apply database migrations
//	lux seed demo [--if-empty]     create the demo organization
//	lux apikey create --email E    print a new API key for E (shown once)
//	lux credits [--json] [--check] [--watch]  balance, plan, cycle usage and limit, via the API
//	lux usage [--range 30d …]      usage by day, week or month and by type, flow or member
//	lux org set-plan --org ID --plan P [--credits N] [--now]   change a plan (operators)
//	lux login / lux logout         save (or forget) the server URL and API key for the commands above
//	lux estimate --ai M:CxT …      a month's credits, cost, plan and savings from lines of work
//	lux limits [--monthly-limit N] show the limits; admins set them with flags
//	lux completion bash|zsh        shell completion
//	lux check [--org ID]           verify the ledger invariants (exit 1 with a report)
//	lux partitions [detach --before YYYY-MM]   usage events' monthly partitions; detach old months
//
// Exit codes: 0 ok, 1 error, 2 wrong usage, 3 flows paused (lux credits --check).
//
//	lux refund --purchase ID       refund a purchase's unused credits (support)
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/demo"
	"github.com/luxstudio/lux-billing/billing/documents"
	"github.com/luxstudio/lux-billing/billing/estimate"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/handlers"
	"github.com/luxstudio/lux-billing/migrations"
	"github.com/luxstudio/lux-billing/web"
)

// Config is the whole configuration, read from the environment once and passed down.
type Config struct {
	DatabaseURL      string          `env:"DATABASE_URL" help:"PostgreSQL URL; the database is created if missing."`
	Addr             string          `env:"LUX_ADDR" default:":8080" help:"Address to serve on."`
	BaseURL          string          `env:"LUX_BASE_URL" default:"http://localhost:8080" help:"Public URL of the server."`
	SessionSecret    string          `env:"LUX_SESSION_SECRET" help:"Secret for session cookies (32+ characters). Generated and kept in .data/ when unset."`
	StripeSecretKey  string          `env:"STRIPE_SECRET_KEY" help:"Stripe secret key; without it the demo payment provider is used."`
	StripeWebhook    string          `env:"STRIPE_WEBHOOK_SECRET" help:"Stripe webhook signing secret."`
	StripeAPIBase    string          `env:"STRIPE_API_BASE" help:"Stripe API base URL (stripe-mock in tests)."`
	CreditPriceCents int64           `env:"LUX_CREDIT_PRICE_CENTS" default:"1" help:"Price of one credit in US cents."`
	PlanPrices       string          `env:"LUX_PLAN_PRICES" default:"starter=2900,pro=24900" help:"Monthly plan prices in US cents, as code=cents pairs."`
	StripePlanPrices string          `env:"STRIPE_PLAN_PRICES" help:"Stripe price ids of the paid plans, as code=price_id pairs (starter=price_…,pro=price_…)."`
	APIURL           string          `env:"LUX_API_URL" help:"Server the client commands talk to (default: the one lux login saved, else http://localhost:8080)."`
	APIKey           string          `env:"LUX_API_KEY" help:"API key the client commands use (default: the one lux login saved)."`
	LogLevel         string          `env:"LUX_LOG_LEVEL" default:"info" enum:"debug,info,warn,error" help:"Log level."`
	TrustedProxies   string          `env:"LUX_TRUSTED_PROXIES" help:"Proxies (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For is believed; none by default."`
	MetricsToken     string          `env:"LUX_METRICS_TOKEN" help:"Bearer token that opens /metrics to other machines (loopback needs none)."`
	IngestLanes      int             `env:"LUX_INGEST_LANES" default:"0" help:"Usage transactions (and authorize reads) in flight at once per server; concurrent requests queue and share them. 0: one per CPU core, at least 2."`
	Documents        DocumentsConfig `embed:""`
	Notify           NotifyConfig    `embed:""`
}

type cli struct {
	Config

	Serve   serveCmd   `cmd:"" help:"Apply migrations, then serve the web app and the API."`
	Migrate migrateCmd `cmd:"" help:"Apply database migrations."`
	Seed    struct {
		Demo seedDemoCmd `cmd:"" help:"Create the demo organization (Acme Robotics): a year as a customer, 90 days of detailed usage."`
	} `cmd:"" help:"Create data."`
	Apikey struct {
		Create apikeyCreateCmd `cmd:"" help:"Create an API key for a user and print it once."`
	} `cmd:"" name:"apikey" help:"Manage API keys."`
	Credits creditsCmd `cmd:"" help:"Show the balance, plan, cycle usage and limit."`
	Usage   usageCmd   `cmd:"" help:"Show usage by day, week or month, split by type, flow or member."`
	Org     struct {
		SetPlan orgSetPlanCmd `cmd:"" name:"set-plan" help:"Change an organization's plan (Enterprise allotments): from the next cycle, or --now."`
	} `cmd:"" help:"Operator commands on organizations."`

	Login      loginCmd      `cmd:"" help:"Check a server URL and API key, and save them for the client commands."`
	Logout     logoutCmd     `cmd:"" help:"Forget the saved server URL and API key."`
	Estimate   estimateCmd   `cmd:"" help:"Estimate a month's credits, cost and plan from lines of work."`
	Limits     limitsCmd     `cmd:"" help:"Show the monthly limit, alert thresholds and member limits; admins set them with flags."`
	Completion completionCmd `cmd:"" help:"Print shell completion for bash or zsh: eval \"$(lux completion bash)\"."`
	Refund     refundCmd     `cmd:"" help:"Refund the unused credits of a purchase (support; within 30 days of payment)."`
	Check      checkCmd      `cmd:"" help:"Verify every ledger invariant for one organization or all; exit 1 with a report when any fails."`
	Partitions partitionsCmd `cmd:"" help:"List the monthly partitions of usage events; detach old months for archiving."`
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// run runs lux with args and returns its exit code: 0 ok, 1 error, 2 wrong usage (kong's
// parse errors included), 3 flows paused (`lux credits --check`).
func run(args []string) int {
	var c cli
	parser, err := kong.New(&c, kong.Name("lux"), kong.Description("Lux billing: credits, usage and the Settings → Billing pages."))
	if err != nil {
		fmt.Fprintln(os.Stderr, "lux:", err)
		return exitFailed
	}
	completeIfAsked(parser)
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lux:", err)
		fmt.Fprintln(os.Stderr, "Run `lux --help` (or `lux COMMAND --help`) for usage.")
		return exitUsage
	}
	log := newLogger(c.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	kctx.BindTo(ctx, (*context.Context)(nil))
	if err := kctx.Run(&c.Config, log); err != nil {
		fmt.Fprintln(os.Stderr, "lux:", billing.ErrorMessageOr(err))
		return exitCodeOf(err)
	}
	return exitOK
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

func (c *Config) databaseURL() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return billing.DefaultDatabaseURL
}

// openDB connects (creating the database if needed), applies migrations and makes sure usage
// events have their partitions of this month and the next ones (before the scheduler's first
// tick, and for the commands that write usage without it).
func (c *Config) openDB(ctx context.Context) (*sqlx.DB, error) {
	db, err := billing.OpenDB(ctx, c.databaseURL(), true)
	if err != nil {
		return nil, err
	}
	if err := migrations.Up(ctx, db.DB); err != nil {
		db.Close()
		return nil, err
	}
	if _, err := billing.EnsureUsagePartitions(ctx, db, time.Now(), billing.PartitionsAhead); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// openService opens the database (migrated) and the billing service on it.
func (c *Config) openService(ctx context.Context) (*sqlx.DB, *billing.Service, error) {
	db, err := c.openDB(ctx)
	if err != nil {
		return nil, nil, err
	}
	opts, err := c.planOptions()
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	docs, err := c.Documents.documentsOn(db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	svc, err := billing.New(ctx, db, append(opts, billing.WithPlanInvoicer(documents.PlanInvoicer{Docs: docs}))...)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, svc, nil
}

// sessionSecret returns LUX_SESSION_SECRET, or in development a random secret kept in
// .data/session-secret so that sessions survive restarts.
func (c *Config) sessionSecret(log *slog.Logger) ([]byte, error) {
	if c.SessionSecret != "" {
		if len(c.SessionSecret) < 32 {
			return nil, errors.New("LUX_SESSION_SECRET must be at least 32 characters")
		}
		return []byte(c.SessionSecret), nil
	}
	path := filepath.Join(".data", "session-secret")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	secret := []byte(hex.EncodeToString(b))
	if err := os.MkdirAll(".data", 0o755); err == nil {
		if err := os.WriteFile(path, secret, 0o600); err != nil {
			log.Warn("could not keep the generated session secret; sessions end on restart", "err", err)
		}
	}
	log.Info("LUX_SESSION_SECRET is not set: using a generated development secret", "file", path)
	return secret, nil
}

type serveCmd struct{}

func (serveCmd) Run(ctx context.Context, c *Config, log *slog.Logger) error {
	db, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	opts, err := c.planOptions()
	if err != nil {
		return err
	}
	docs, err := c.Documents.documentsOn(db)
	if err != nil {
		return err
	}
	svc, err := billing.New(ctx, db, append(opts, billing.WithLogger(log), billing.WithLanes(c.IngestLanes),
		billing.WithPlanInvoicer(documents.PlanInvoicer{Docs: docs}))...)
	if err != nil {
		return err
	}
	secret, err := c.sessionSecret(log)
	if err != nil {
		return err
	}
	d := handlers.NewDomain(svc) // before Watch: the parts register what they listen to
	d.Documents = docs
	if d.PlanChanges, err = c.planChanges(svc, log); err != nil {
		return err
	}
	d.Estimate = estimate.New(svc, d.Reports, billing.Cents(c.CreditPriceCents))
	if d.Payments, err = c.payments(svc, d.Identity, docs, log); err != nil {
		return err
	}
	if d.Payments.DemoMode() {
		log.Info("STRIPE_SECRET_KEY is not set: payments go through the demo checkout; no card is charged")
	}
	d.Notify = c.Notify.notifyOn(svc, c.BaseURL)
	if err := startSender(ctx, svc, d.Notify, log); err != nil {
		return err
	}
	go svc.Watch(ctx, c.databaseURL())
	go rollOverLoop(ctx, svc, d.Documents, log)
	proxies, err := web.ParseTrustedProxies(c.TrustedProxies)
	if err != nil {
		return err
	}
	srv := web.New(web.Config{Addr: c.Addr, BaseURL: c.BaseURL, SessionSecret: secret,
		TrustedProxies: proxies, MetricsToken: c.MetricsToken}, d, log)
	log.Info("serving", "addr", c.Addr, "url", c.BaseURL)
	return srv.Start(ctx)
}

// rollOverLoop renews allotments at cycle ends even for organizations with no traffic, then
// issues the statements of the cycles that closed (once per org and cycle, whichever server
// runs it, and every missed one after downtime), and keeps usage events partitioned ahead:
// this month and the next billing.PartitionsAhead, and a partition for any month whose rows
// wait in the default one (idempotent, under an advisory lock: safe from every replica).
func rollOverLoop(ctx context.Context, svc *billing.Service, docs *documents.Service, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if n, err := svc.RollOverDue(ctx, 500); err != nil && ctx.Err() == nil {
			log.Error("cycle rollover", "err", err)
		} else if n > 0 {
			log.Info("rolled over billing cycles", "orgs", n)
		}
		if ds, err := docs.IssueDueStatements(ctx, 500); err != nil && ctx.Err() == nil {
			log.Error("monthly statements", "err", err)
		} else if len(ds) > 0 {
			log.Info("issued monthly statements", "count", len(ds))
		}
		if ps, err := svc.EnsureUsagePartitions(ctx); err != nil && ctx.Err() == nil {
			log.Error("usage partitions", "err", err)
		} else if len(ps) > 0 {
			log.Info("created usage partitions", "partitions", ps)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type migrateCmd struct{}

func (migrateCmd) Run(ctx context.Context, c *Config, log *slog.Logger) error {
	db, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	log.Info("migrations applied")
	return nil
}

type seedDemoCmd struct {
	IfEmpty bool `help:"Only seed when the database has no organization yet."`
	Days    int  `default:"90" help:"Days of detailed (hourly) usage; the months before have daily usage."`
}

func (s seedDemoCmd) Run(ctx context.Context, c *Config, log *slog.Logger) error {
	db, svc, err := c.openService(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if n, err := svc.CountOrgs(ctx); err != nil {
		return err
	} else if n > 0 && s.IfEmpty {
		log.Info("database already has organizations; demo data not added")
		return nil
	}
	if _, err := identity.New(svc).FindUserByEmail(ctx, demo.AdminEmail); err == nil {
		return fmt.Errorf("the demo data exists already (%s)", demo.AdminEmail)
	}
	start := time.Now()
	res, err := demo.Seed(ctx, db, time.Now(), s.Days)
	if err != nil {
		return err
	}
	fmt.Printf("Demo organization %q created with %d usage events in %s.\n", demo.OrgName, res.Events, time.Since(start).Round(time.Millisecond))
	fmt.Printf("  Sign in:  %s / %s (admin), %s / %s (member)\n", demo.AdminEmail, demo.Password, demo.MemberEmail, demo.Password)
	fmt.Printf("  API key:  %s  (shown once)\n", res.APIKey)
	return nil
}

type apikeyCreateCmd struct {
	Email string `required:"" help:"Email of the user the key acts for."`
	Org   string `help:"Organization id, when the user belongs to several."`
	Name  string `default:"CLI key" help:"A name to recognise the key by."`
}

func (a apikeyCreateCmd) Run(ctx context.Context, c *Config, log *slog.Logger) error {
	db, svc, err := c.openService(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	ids := identity.New(svc)
	u, err := ids.FindUserByEmail(ctx, a.Email)
	if err != nil {
		return err
	}
	ms, err := ids.Memberships(ctx, u.ID)
	if err != nil {
		return err
	}
	org := a.Org
	if org == "" {
		switch len(ms) {
		case 0:
			return fmt.Errorf("%s belongs to no organization", a.Email)
		case 1:
			org = ms[0].OrgID
		default:
			var ids []string
			for _, m := range ms {
				ids = append(ids, fmt.Sprintf("%s (%s)", m.OrgID, m.OrgName))
			}
			return fmt.Errorf("%s belongs to several organizations; choose one with --org: %s", a.Email, strings.Join(ids, ", "))
		}
	}
	key, _, err := ids.CreateAPIKey(ctx, org, u.ID, a.Name)
	if err != nil {
		return err
	}
	fmt.Println(key)
	return nil
}
