package main

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sidelog/sidelog/saas"
	"github.com/sidelog/sidelog/saas/store"
)

var generatedPassword = regexp.MustCompile(`generated password \(shown only now\): (\S+)`)

// A first run that cannot bind its port fails before it seeds: it prints
// no password and creates no user, so the next run prints one that works.
func TestFirstRun_PortBusy(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"ADDR": busy.Addr().String(), "SAAS_DATA_DIR": data}
	var out strings.Builder
	err = Run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, nil, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("serve on a busy port: %v, want a listen error", err)
	}
	if strings.Contains(out.String(), "password") {
		t.Errorf("the failed run printed a password it then lost:\n%s", out.String())
	}

	s := startServer(t, map[string]string{"SAAS_DATA_DIR": data, "SAAS_ADMIN_PASSWORD": ""})
	m := generatedPassword.FindStringSubmatch(s.Stdout.String())
	if m == nil {
		t.Fatalf("the second run printed no password:\n%s", s.Stdout)
	}
	s.client(t).Login(adminEmail, m[1])
}

// createsuperuser on an e-mail with an account says so, and -promote makes
// it a superuser; changepassword recovers a lost password.
func TestAccountCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"SAAS_DATA_DIR": dir}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	run := func(args ...string) (string, error) {
		var out strings.Builder
		err := Run(ctx, args, getenv, nil, &out, io.Discard)
		return out.String(), err
	}
	if _, err := run("migrate"); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(dir, "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u := &saas.User{Email: "ann@example.com"}
	if err := db.CreateUser(ctx, u, password); err != nil {
		t.Fatal(err)
	}

	_, err = run("createsuperuser", "-email", "Ann@example.com")
	if saas.ErrorCode(err) != saas.ECONFLICT || !strings.Contains(err.Error(), "-promote") {
		t.Errorf("createsuperuser on an existing account: %v, want a conflict that names -promote", err)
	}
	out, err := run("createsuperuser", "-promote", "-email", "ann@example.com")
	if err != nil || !strings.Contains(out, "now a superuser") {
		t.Fatalf("createsuperuser -promote: %v %s", err, out)
	}
	if got, err := db.Authenticate(ctx, "ann@example.com", password); err != nil || !got.IsSuperuser {
		t.Errorf("after -promote: %+v %v, want a superuser with the old password", got, err)
	}
	_, err = run("createsuperuser", "-promote", "-email", "ann@example.com")
	if saas.ErrorCode(err) != saas.ECONFLICT || !strings.Contains(err.Error(), "changepassword") {
		t.Errorf("createsuperuser on a superuser: %v, want a conflict that names changepassword", err)
	}

	tok, _, err := db.CreateSession(ctx, u.ID, 3600e9)
	if err != nil {
		t.Fatal(err)
	}
	out, err = run("changepassword", "-email", "ann@example.com")
	m := generatedPassword.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("changepassword: %v %s", err, out)
	}
	if _, err := db.Authenticate(ctx, "ann@example.com", m[1]); err != nil {
		t.Errorf("the new password does not log in: %v", err)
	}
	if _, err := db.Authenticate(ctx, "ann@example.com", password); err == nil {
		t.Error("the old password still logs in")
	}
	if _, err := db.FindSession(ctx, tok); err == nil {
		t.Error("a session from before the password change survived it")
	}
	if _, err := run("changepassword", "-email", "ann@example.com", "-password", "a chosen one"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Authenticate(ctx, "ann@example.com", "a chosen one"); err != nil {
		t.Errorf("-password: %v", err)
	}
	if _, err := run("changepassword", "-email", "nobody@example.com"); saas.ErrorCode(err) != saas.ENOTFOUND {
		t.Errorf("changepassword of nobody: %v, want not found", err)
	}
	if _, err := run("changepassword", "-email", "ann@example.com", "-password", "short"); saas.ErrorCode(err) != saas.EINVALID {
		t.Errorf("a too short password: %v, want invalid", err)
	}
}

// saas --help lists the commands and exits 0; a command's -h shows its
// flags and exits 0 too.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		var out strings.Builder
		if err := Run(context.Background(), args, func(string) string { return "" }, nil, &out, io.Discard); err != nil {
			t.Errorf("saas %s: %v", args[0], err)
		}
		for _, cmd := range []string{"serve", "migrate", "createsuperuser", "changepassword", "logs", "healthcheck"} {
			if !strings.Contains(out.String(), "\n  "+cmd+" ") {
				t.Errorf("saas %s does not list %s:\n%s", args[0], cmd, out.String())
			}
		}
	}
	var flags strings.Builder
	err := Run(context.Background(), []string{"changepassword", "-h"}, func(string) string { return "" }, nil, io.Discard, &flags)
	if !errors.Is(err, errHelp) || !strings.Contains(flags.String(), "-email") {
		t.Errorf("changepassword -h: %v %s", err, flags.String())
	}
}
