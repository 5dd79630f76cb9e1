package main

import (
	"context"
	"fmt"
	"io"
)

// runGrant grants (or revokes) the log viewer role: reading, searching and
// exporting the logs in the admin UI, without deleting or settings.
func runGrant(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	fs := newFlags("grant", stdout)
	email := fs.String("email", "", "the user's email (required)")
	revoke := fs.Bool("revoke", false, "revoke the grant instead")
	role := fs.String("role", "logviewer", "the role to grant; only logviewer exists")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *email == "" {
		return usageError{"grant: -email is required"}
	}
	if *role != "logviewer" {
		return usageError{fmt.Sprintf("grant: unknown role %q (want logviewer)", *role)}
	}
	db, err := openBusiness(ctx, cfg, io.Discard)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.FindUserByEmail(ctx, *email)
	if err != nil {
		return fmt.Errorf("grant: %w", err)
	}
	if err := db.SetLogViewer(ctx, u.ID, !*revoke); err != nil {
		return fmt.Errorf("grant: %w", err)
	}
	switch {
	case *revoke:
		fmt.Fprintf(stdout, "%s is no longer a log viewer\n", u.Email)
	case u.IsSuperuser:
		fmt.Fprintf(stdout, "%s is a superuser and reads the logs anyway; granted log viewer too\n", u.Email)
	default:
		fmt.Fprintf(stdout, "%s is now a log viewer: /admin/ shows them the logs\n", u.Email)
	}
	return nil
}
