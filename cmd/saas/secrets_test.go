package main

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServe_PlantedSecrets is the reference application's part of the
// scan test: secrets typed, sent and stored through the running app must
// not be found in any byte of the log database's files (while it runs:
// WAL and shm too; and after shutdown). Credentials must not be in the
// business database either (it keeps only hashes).
func TestServe_PlantedSecrets(t *testing.T) {
	s := startServer(t, nil)
	dataDir := s.Env["SAAS_DATA_DIR"]
	const (
		signupPassword = "Sg7SignupPasswordPlanted"
		typedAsEmail   = "Pw8TypedInEmailField"
		wrongPassword  = "Lf9WrongPasswordPlanted"
		queryToken     = "Qt1QueryTokenPlanted"
		bearer         = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJQbGFudCJ9.Bt2BearerSigPlanted"
		card           = "4539148803436467"
	)
	c := s.client(t)
	c.Signup("carol@example.com", signupPassword, "Carol Co")
	// Failed logins: a password typed into the e-mail field, a wrong one.
	other := s.client(t)
	other.Submit("/login", "/login", url.Values{"email": {typedAsEmail}, "password": {wrongPassword}})
	other.Submit("/login", "/login", url.Values{"email": {"carol@example.com"}, "password": {wrongPassword}})
	other.Do("GET", "/projects?access_token="+queryToken, nil, map[string]string{"Authorization": "Bearer " + bearer})
	// A card number pasted into business data: the app may log it, the log
	// must not keep it (the business database does, as the user typed it).
	me := c.Me()
	if st := c.JSON("POST", "/api/projects", map[string]any{"org_id": me.Memberships[0].OrgID, "name": "pay " + card}, nil); st != 201 {
		t.Fatalf("create the project with a card number in its name: %d", st)
	}
	u, _ := url.Parse(s.URL)
	var session string
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == "saas_session" {
			session = ck.Value
		}
	}
	if session == "" {
		t.Fatal("no session cookie")
	}

	// The sign-up link's token travelled in a URL (GET /signup/confirm).
	m := regexp.MustCompile(`token=([A-Za-z0-9]+)`).FindStringSubmatch(mailTo(s.Stderr.String(), "carol@example.com"))
	if m == nil {
		t.Fatal("no sign-up token in the mail")
	}
	credentials := []string{signupPassword, typedAsEmail, wrongPassword, queryToken, bearer, session, m[1]}
	logOnly := []string{card}
	scan := func(stage string) {
		files := 0
		err := filepath.WalkDir(dataDir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			raw, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files++
			low := bytes.ToLower(raw)
			// The catalog, its WAL and the day files under logs.db.d/.
			isLog := strings.Contains(filepath.ToSlash(p), "/logs.db")
			for _, sec := range append(append([]string(nil), credentials...), logOnly...) {
				if !isLog && strings.Contains(strings.Join(logOnly, " "), sec) {
					continue
				}
				if bytes.Contains(low, bytes.ToLower([]byte(sec))) {
					t.Errorf("%s: %q found in %s", stage, sec, p)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: scanned %d files", stage, files)
	}
	time.Sleep(500 * time.Millisecond) // two flush intervals
	scan("running")
	s.Stop(t)
	scan("stopped")
}
