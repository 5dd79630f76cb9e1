package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/sidelog/sidelog/audit"
	"github.com/sidelog/sidelog/saas"
	"github.com/sidelog/sidelog/saas/store"
)

// runCreateSuperuser creates an administrator, like Django's command of
// the same name. On an e-mail that already has an account it says so, and
// with -promote makes that account a superuser (its password unchanged).
func runCreateSuperuser(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("createsuperuser", stderr)
	email := fs.String("email", cfg.AdminEmail, "the administrator's email (default SAAS_ADMIN_EMAIL)")
	password := fs.String("password", cfg.AdminPassword, "the password (default SAAS_ADMIN_PASSWORD; generated and printed when empty)")
	name := fs.String("name", "", "display name")
	promote := fs.Bool("promote", false, "when the e-mail already has an account, make it a superuser (its password stays)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, err := openBusiness(ctx, cfg, io.Discard)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx = audit.WithActor(ctx, audit.Actor{Name: "cli:createsuperuser"})
	if u, err := db.FindUserByEmail(ctx, *email); err == nil {
		err = existingUser(ctx, db, u, *promote, stdout)
		return errors.Join(err, deliverAudit(ctx, cfg, db))
	} else if saas.ErrorCode(err) != saas.ENOTFOUND {
		return err
	}
	if _, err = createSuperuser(ctx, db, *email, *name, *password, stdout); err != nil {
		return err
	}
	return deliverAudit(ctx, cfg, db)
}

// existingUser answers createsuperuser for an e-mail that has an account.
func existingUser(ctx context.Context, db *store.DB, u *saas.User, promote bool, stdout io.Writer) error {
	switch {
	case u.IsSuperuser:
		return saas.Errorf(saas.ECONFLICT, "%s (#%d) is already a superuser; to set a new password: saas changepassword -email %s", u.Email, u.ID, u.Email)
	case !promote:
		return saas.Errorf(saas.ECONFLICT, "%s (#%d) already has an account; to make it a superuser: saas createsuperuser -promote -email %s", u.Email, u.ID, u.Email)
	}
	if err := db.SetSuperuser(ctx, u.ID, true); err != nil {
		return fmt.Errorf("promote: %w", err)
	}
	fmt.Fprintf(stdout, "%s (#%d) is now a superuser; the password is unchanged\n", u.Email, u.ID)
	return nil
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
		fmt.Fprintf(stdout, "lost it? saas changepassword -email %s\n", u.Email)
	}
	return u, nil
}

// runChangePassword sets a new password for an existing account, generated
// and printed once unless given, and ends the account's sessions.
func runChangePassword(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("changepassword", stderr)
	email := fs.String("email", cfg.AdminEmail, "the account's email (default SAAS_ADMIN_EMAIL)")
	password := fs.String("password", "", "the new password (generated and printed when empty)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, err := openBusiness(ctx, cfg, io.Discard)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.FindUserByEmail(ctx, *email)
	if saas.ErrorCode(err) == saas.ENOTFOUND {
		return saas.Errorf(saas.ENOTFOUND, "no account with the email %s; to create one: saas createsuperuser -email %s", *email, *email)
	} else if err != nil {
		return err
	}
	pw, generated := *password, *password == ""
	if generated {
		pw = rand.Text()
	}
	ctx = audit.WithActor(ctx, audit.Actor{Name: "cli:changepassword"})
	if err := db.SetPassword(ctx, u.ID, pw); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	fmt.Fprintf(stdout, "changed the password of %s (#%d); their sessions have ended\n", u.Email, u.ID)
	if generated {
		fmt.Fprintf(stdout, "generated password (shown only now): %s\n", pw)
	}
	return deliverAudit(ctx, cfg, db)
}
