// Command saas is sidelog's reference application: a small multi-tenant
// project tracker whose business data lives in PostgreSQL (or SQLite when
// DATABASE_URL is unset) and whose logs, requests and security events go
// to a separate sidelog database.
//
//	saas [serve]          migrate, seed a first run, and serve (default)
//	saas migrate          migrate the business and log databases
//	saas createsuperuser  create an administrator, or promote an account
//	saas changepassword   set a new password for an account
//	saas logs ...         run the sidelog operator commands on the log database
//	saas healthcheck      ask the running server's /healthz (for containers)
//
// Configuration is by environment; see docs/saas.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	var ee exitError
	var ue usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return
	case errors.As(err, &ee):
		fmt.Fprintln(os.Stderr, ee.line)
		os.Exit(ee.code)
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "saas:", err)
		os.Exit(2)
	}
	fmt.Fprintln(os.Stderr, "saas:", err)
	os.Exit(1)
}
