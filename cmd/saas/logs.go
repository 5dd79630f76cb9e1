package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/sidelog/sidelog/cli"
	"github.com/sidelog/sidelog/saas"
	"github.com/sidelog/sidelog/saas/store"
)

// exitError is a failure that has already been described in one line and
// carries its own exit code: the sidelog commands' errors.
type exitError struct {
	line string
	code int
}

func (e exitError) Error() string { return e.line }

// runLogs runs sidelog's operator commands (package cli) against the
// application's log database, like `sidelog CMD --db $SIDELOG_DB …`. An
// explicit --db still wins.
func runLogs(ctx context.Context, cfg config, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	c := &cli.CLI{
		Name: "saas logs", Stdin: stdin, Stdout: stdout, Stderr: stderr,
		Getenv: func(k string) string {
			if k == cli.EnvDB {
				return cfg.LogDB
			}
			return getenv(k)
		},
	}
	args, err := withBusinessHead(ctx, cfg, args, stderr)
	if err != nil {
		return err
	}
	if err := c.Run(ctx, args); err != nil {
		return exitError{line: c.ErrorLine(err), code: cli.ExitCode(err)}
	}
	return nil
}

// withBusinessHead makes `saas logs audit verify` check the chain against
// the head the application keeps in the business database (see
// keepChainHead), unless --head names one: the newest audit records
// removed from the log files, or the chain rebuilt after an edit, are then
// reported instead of passing as a shorter chain.
func withBusinessHead(ctx context.Context, cfg config, args []string, stderr io.Writer) ([]string, error) {
	if len(args) < 2 || args[0] != "audit" || !slices.Contains(args[1:], "verify") ||
		slices.ContainsFunc(args, func(a string) bool {
			return strings.HasPrefix(strings.TrimLeft(a, "-"), "head") && strings.HasPrefix(a, "-")
		}) {
		return args, nil
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("read the audit chain head from the business database: %w", err)
	}
	defer db.Close()
	h, err := db.ChainHead(ctx)
	switch {
	case saas.ErrorCode(err) == saas.ENOTFOUND || err != nil && strings.Contains(err.Error(), "audit_chain_head"):
		fmt.Fprintln(stderr, "note: the business database keeps no audit chain head yet (run migrate and serve); a removed tail cannot be detected")
		return args, nil
	case err != nil:
		return nil, err
	}
	fmt.Fprintf(stderr, "checking against the head kept in the business database: position %d, saved %s\n", h.Seq, h.SavedAt.Format("2006-01-02 15:04:05Z"))
	return append([]string{"audit", "--head", h.String()}, args[1:]...), nil
}
