// Command sidelog is the operator's tool for a sidelog log database: tail,
// query, stats, cleanup, vacuum, check, export, import, purge and gen.
// The commands live in package cli; see docs/cli.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sidelog/sidelog/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
