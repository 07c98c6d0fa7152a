package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
)

// checkCmd verifies the ledger invariants on the database: `lux check [--org ID]`.
type checkCmd struct {
	Org string `help:"Check only this organization (default: every organization)."`
}

// errCheckFailed makes lux exit 1 after the report is printed.
type errCheckFailed int

func (e errCheckFailed) Error() string {
	return fmt.Sprintf("%d ledger invariant violation(s); see the report above", int(e))
}

func (cmd checkCmd) Run(ctx context.Context, c *Config, log *slog.Logger) error {
	db, svc, err := c.openService(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	violations, err := svc.CheckLedger(ctx, cmd.Org)
	if err != nil {
		return err
	}
	scope := "every organization"
	if cmd.Org != "" {
		scope = "organization " + cmd.Org
	}
	if len(violations) == 0 {
		fmt.Printf("Ledger OK: every invariant holds for %s.\n", scope)
		return nil
	}
	fmt.Fprintf(os.Stdout, "Ledger check FAILED for %s:\n", scope)
	for _, v := range violations {
		fmt.Fprintf(os.Stdout, "  %s\n", v)
	}
	return errCheckFailed(len(violations))
}
