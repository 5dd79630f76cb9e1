package main

import (
	"context"
	"io"

	"github.com/sidelog/sidelog/cli"
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
	if err := c.Run(ctx, args); err != nil {
		return exitError{line: c.ErrorLine(err), code: cli.ExitCode(err)}
	}
	return nil
}
