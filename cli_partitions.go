package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/luxstudio/lux-billing/billing"
)

// partitionsCmd is `lux partitions`: the monthly partitions of usage_events on the database
// (an operator command, like lux check; `lux usage` is the API client's report).
type partitionsCmd struct {
	List   partitionsListCmd   `cmd:"" default:"1" help:"List the monthly partitions of usage events with their row counts, and the detached months (the default)."`
	Detach partitionsDetachCmd `cmd:"" help:"Detach (never drop) the months before --before: each stays a plain table for archiving."`
}

type partitionsListCmd struct{}

func (partitionsListCmd) Run(ctx context.Context, c *Config, log *slog.Logger) error {
	db, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	ps, err := billing.UsagePartitions(ctx, db)
	if err != nil {
		return err
	}
	return printPartitions(os.Stdout, ps)
}

func printPartitions(w io.Writer, ps []billing.UsagePartition) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "MONTH\tEVENTS\tTABLE\tSTATE\t")
	for _, p := range ps {
		month, state := p.Month.Format("2006-01"), "attached"
		if p.Month.IsZero() {
			month = "other"
		}
		if p.Detached {
			state = "detached " + p.DetachedAt.UTC().Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t\n", month, p.Events, p.Name, state)
	}
	return tw.Flush()
}

type partitionsDetachCmd struct {
	Before string `required:"" placeholder:"YYYY-MM" help:"Detach every month before this one (YYYY-MM, UTC months). Months an open billing cycle or a statement not yet issued still reads are refused, and then nothing is detached."`
}

func (cmd partitionsDetachCmd) Run(ctx context.Context, c *Config, log *slog.Logger) error {
	before, err := time.Parse("2006-01", cmd.Before)
	if err != nil {
		return billing.Errorf(billing.EINVALID, "--before %q is not a month (YYYY-MM)", cmd.Before)
	}
	db, err := c.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	ps, err := billing.DetachUsageMonths(ctx, db, before, time.Now())
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		fmt.Printf("No attached month before %s.\n", before.Format("2006-01"))
		return nil
	}
	for _, p := range ps {
		fmt.Printf("Detached %s: %d events, now the plain table %s.\n", p.Month.Format("2006-01"), p.Events, p.Name)
	}
	return nil
}
