package main

import (
	"context"
	"fmt"
	"io"

	"github.com/sidelog/sidelog/saas/store"
	"github.com/sidelog/sidelog/sqlite"
)

// runMigrate migrates both databases, each with its own migration set: the
// business one with package store's, the log one by opening it (package
// sqlite migrates its catalog and segments itself).
func runMigrate(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	if err := parseFlags(newFlags("migrate", stdout), args); err != nil {
		return err
	}
	db, err := openBusiness(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	defer db.Close()
	logs, err := sqlite.Open(ctx, cfg.LogDB, sqlite.Options{})
	if err != nil {
		return fmt.Errorf("migrate log db: %w", err)
	}
	if err := logs.Close(); err != nil {
		return fmt.Errorf("migrate log db: %w", err)
	}
	if err := deliverAudit(ctx, cfg, db); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "log database %s: up to date\n", cfg.LogDB)
	return nil
}

// openBusiness opens and migrates the business database.
func openBusiness(ctx context.Context, cfg config, stdout io.Writer) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	where := cfg.DatabaseURL
	if db.Dialect() == store.Postgres {
		where = "PostgreSQL"
	}
	if len(applied) > 0 {
		fmt.Fprintf(stdout, "business database %s: applied migrations %v\n", where, applied)
	} else {
		fmt.Fprintf(stdout, "business database %s: up to date\n", where)
	}
	return db, nil
}
