package security_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/cli"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/httplog"
	"github.com/sidelog/sidelog/redact"
	"github.com/sidelog/sidelog/sqlite"
)

// secret is one planted secret: what is logged, and the byte strings
// that must not be found in any file (compared case-insensitively, since
// the full-text index keeps words in lower case).
type secret struct {
	name    string
	value   string
	needles []string
}

// Every kind of secret the default redactor handles. Each value is unique,
// and each needle is long enough not to occur by chance.
var secrets = []secret{
	{"password attribute", "Qx7PasswordAttr", nil},
	{"nested api_key", "Zr4NestedApiKeyValue", nil},
	{"struct password field", "Vb9StructPw", nil},
	{"bearer token", "Jk2BearerTokenValue", nil},
	{"basic credentials", base64.StdEncoding.EncodeToString([]byte("admin:Ty6BasicPw")), nil},
	{"jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJQbGFudGVkSnd0In0.Wm8JwtSignaturePlanted", []string{"Wm8JwtSignaturePlanted", "eyJzdWIiOiJQbGFudGVkSnd0In0"}},
	{"card number", "4539 1488 0343 6467", []string{"4539148803436467", "4539 1488 0343 6467", "1488 0343"}},
	{"aws access key", "AKIAQW3RPLANTEDKEY9X", nil},
	{"github token", "ghp_Pl4ntedGitHubTokenValue0123456789ab", nil},
	{"stripe key", "sk_live_Pl4ntedStripeKey12345", nil},
	{"slack token", "xoxb-4242-Pl4ntedSlackTok", []string{"Pl4ntedSlackTok"}},
	{"google api key", "AIzaPl4ntedGoogleKeyValue0123456789abcd", nil},
	{"private key", "-----BEGIN RSA PRIVATE KEY-----\nMIIPl4ntedPemBody\n-----END RSA PRIVATE KEY-----", []string{"MIIPl4ntedPemBody"}},
	{"access_token in a URL", "Hn3AccessTokenQuery", nil},
	{"password in a URL query", "Mp5QueryPassword", nil},
	{"password in userinfo", "Dc8UserinfoPass", nil},
	{"token in a path", "Rs1PathToken0042", nil},
	{"authorization header", "Gh6HeaderBearer", nil},
	{"cookie header", "Ck0CookieSession", nil},
	{"secret in an error", "Er2ErrorSecret", nil},
	{"key=value in a message", "Kv3MessagePassword", nil},
	{"with-attrs client_secret", "Wa4ClientSecret", nil},
}

func (s secret) find() []string {
	if s.needles != nil {
		return s.needles
	}
	return []string{s.value}
}

type form struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// workload logs every secret through the library's entry points.
func workload(t *testing.T, logger *slog.Logger, mw func(http.Handler) http.Handler) {
	v := map[string]string{}
	for _, s := range secrets {
		v[s.name] = s.value
	}
	l := logger.With("client_secret", v["with-attrs client_secret"])
	l.Info("signup", "password", v["password attribute"], "canary", "CanaryVisible0001")
	l.Info("config", slog.Group("db", slog.Group("vendor", slog.String("api_key", v["nested api_key"]))))
	l.Info("form", "form", form{User: "bob", Password: v["struct password field"]})
	l.Info("calling upstream with Authorization: Bearer " + v["bearer token"])
	l.Info("proxy auth", "header", "Basic "+v["basic credentials"])
	l.Info("session " + v["jwt"])
	l.Info("charged", "card", v["card number"])
	l.Info("aws", "note", "using "+v["aws access key"])
	l.Info("tokens", "gh", v["github token"], "stripe", v["stripe key"], "slack", v["slack token"], "google", v["google api key"])
	l.Info("loaded key", "pem", v["private key"])
	l.Info("connecting to postgres://app:" + v["password in userinfo"] + "@db:5432/app")
	l.Error("login failed", sidelog.KeyError, errors.New("bad form: password="+v["secret in an error"]))
	l.Warn("retry with password=" + v["key=value in a message"] + " later")

	srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "served "+r.URL.String())
	})))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/reset/"+v["token in a path"]+"?page=1&access_token="+v["access_token in a URL"]+"&password="+v["password in a URL query"], nil)
	req.Header.Set("Authorization", "Bearer "+v["authorization header"])
	req.Header.Set("Cookie", "sid="+v["cookie header"])
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// run logs the workload into a fresh data directory with redactor red,
// exports it in every format into the same directory, and returns the
// directory. The scan happens twice: with the database open (WAL and shm
// in use) and after everything is closed and exported.
func run(t *testing.T, red *redact.Redactor, scan func(stage, dir string)) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "logs.db")
	db, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := handler.New(db, &handler.Options{Redactor: red, Fallback: io.Discard})
	logger := slog.New(h)
	mw := httplog.New(logger, httplog.Options{LogQuery: true, LogHeaders: []string{"Authorization", "Cookie"}, Redactor: red})
	workload(t, logger, mw)
	if err := h.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	scan("open", dir)
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"jsonl", "csv", "logfmt", "parquet"} {
		out := filepath.Join(dir, "export."+format)
		var stderr bytes.Buffer
		if err := cli.Run(ctx, []string{"export", "--db", dbPath, "--format", format, "-o", out}, nil, io.Discard, &stderr); err != nil {
			t.Fatalf("export %s: %v %s", format, err, stderr.String())
		}
	}
	var stdout bytes.Buffer
	for _, format := range []string{"text", "json", "logfmt"} {
		if err := cli.Run(ctx, []string{"query", "--db", dbPath, "--format", format, "--limit", "1000"}, nil, &stdout, io.Discard); err != nil {
			t.Fatalf("query %s: %v", format, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "query-output.txt"), stdout.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	scan("closed", dir)
}

// findings returns, for each secret, the files (and stage) that hold it.
func findings(t *testing.T, dir string) (map[string][]string, []string) {
	found := map[string][]string{}
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files = append(files, rel)
		low := bytes.ToLower(raw)
		for _, s := range append(secrets, secret{name: "canary", value: "CanaryVisible0001"}) {
			for _, n := range s.find() {
				if bytes.Contains(low, bytes.ToLower([]byte(n))) {
					found[s.name] = append(found[s.name], rel)
					break
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found, files
}

// TestPlantedSecrets is the scan test: with default options no file under
// the data directory holds any planted secret, at any stage.
func TestPlantedSecrets(t *testing.T) {
	t.Parallel()
	run(t, nil, func(stage, dir string) {
		found, files := findings(t, dir)
		if len(found["canary"]) == 0 {
			t.Fatalf("%s: the canary is in no file: the scan sees nothing (files %v)", stage, files)
		}
		if stage == "open" && !hasWAL(files) {
			t.Errorf("open: no WAL file to scan among %v", files)
		}
		for _, s := range secrets {
			if f := found[s.name]; len(f) > 0 {
				t.Errorf("%s: %s found in %v", stage, s.name, f)
			}
		}
		t.Logf("%s: scanned %d files: %v", stage, len(files), files)
	})
}

// TestPlantedSecrets_scanSees runs the same workload with redaction off:
// every secret must then be found, or the scan could not see it either.
func TestPlantedSecrets_scanSees(t *testing.T) {
	t.Parallel()
	run(t, redact.Disabled(), func(stage, dir string) {
		if stage != "closed" {
			return
		}
		found, _ := findings(t, dir)
		for _, s := range secrets {
			if len(found[s.name]) == 0 {
				t.Errorf("with redaction off, %s is in no file: the scan cannot see it", s.name)
			}
		}
	})
}

func hasWAL(files []string) bool {
	for _, f := range files {
		if strings.HasSuffix(f, "-wal") {
			return true
		}
	}
	return false
}
