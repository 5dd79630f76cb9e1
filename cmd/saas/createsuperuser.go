package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"

	"github.com/sidelog/sidelog/saas"
	"github.com/sidelog/sidelog/saas/store"
)

// runCreateSuperuser creates an administrator, like Django's command of
// the same name.
func runCreateSuperuser(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	fs := newFlags("createsuperuser", stdout)
	email := fs.String("email", cfg.AdminEmail, "the administrator's email (default SAAS_ADMIN_EMAIL)")
	password := fs.String("password", cfg.AdminPassword, "the password (default SAAS_ADMIN_PASSWORD; generated and printed when empty)")
	name := fs.String("name", "", "display name")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, err := openBusiness(ctx, cfg, io.Discard)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = createSuperuser(ctx, db, *email, *name, *password, stdout)
	return err
}

// createSuperuser creates the user; with no password it generates one and
// prints it once, since it is stored only as a hash.
func createSuperuser(ctx context.Context, db *store.DB, email, name, password string, stdout io.Writer) (*saas.User, error) {
	generated := password == ""
	if generated {
		password = rand.Text()
	}
	u := &saas.User{Email: email, Name: name, IsSuperuser: true}
	if err := db.CreateUser(ctx, u, password); err != nil {
		return nil, fmt.Errorf("create superuser: %w", err)
	}
	fmt.Fprintf(stdout, "created superuser %s (#%d)\n", u.Email, u.ID)
	if generated {
		fmt.Fprintf(stdout, "generated password (shown only now): %s\n", password)
	}
	return u, nil
}
