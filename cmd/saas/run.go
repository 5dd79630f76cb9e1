package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sidelog/sidelog/ship"
)

// usageError is a mistake on the command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `usage: saas [command] [flags]

commands:
  serve            migrate, seed on first run, serve HTTP (default)
  migrate          migrate the business and the log database
  createsuperuser  create an administrator (-email, -password, -promote)
  changepassword   set a new password for an account (-email, -password)
  grant            make a user a log viewer (-email, -revoke)
  logs ...         sidelog operator commands on the log database
  healthcheck      ask the running server's /healthz (for containers)

"saas COMMAND -h" shows a command's flags.

environment: DATABASE_URL, SIDELOG_DB, ADDR, METRICS_ADDR, SAAS_ADMIN_EMAIL,
SAAS_ADMIN_PASSWORD, SENTRY_DSN, LOG_LEVEL, SIDELOG_OTLP_* (see docs/saas.md,
docs/shipping.md)
`

// Run runs the saas command with args (without the program name), reading
// the environment through getenv and input from stdin. It returns when the command is done or,
// for serve, when ctx ends and the server has shut down.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	cmd, rest := "serve", args
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || isHelp(args[0])) {
		cmd, rest = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, cfg, rest, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, cfg, rest, stdout)
	case "createsuperuser":
		return runCreateSuperuser(ctx, cfg, rest, stdout, stderr)
	case "changepassword":
		return runChangePassword(ctx, cfg, rest, stdout, stderr)
	case "grant":
		return runGrant(ctx, cfg, rest, stdout)
	case "healthcheck":
		return runHealthcheck(ctx, cfg, rest, stdout)
	case "logs":
		return runLogs(ctx, cfg, rest, getenv, stdin, stdout, stderr)
	case "help", "-h", "-help", "--help":
		io.WriteString(stdout, usage)
		return nil
	}
	io.WriteString(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

// errHelp is returned after a command printed its flags on request (exit 0).
var errHelp = errors.New("help requested")

func isHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

// config is the application's configuration, from the environment.
type config struct {
	DatabaseURL   string // postgres://… or a SQLite file path
	LogDB         string // the sidelog catalog file
	Addr          string
	MetricsAddr   string // a separate, private address for /metrics
	MetricsToken  string // a bearer token for /metrics (also on Addr)
	AdminEmail    string
	AdminPassword string
	SentryDSN     string
	Environment   string
	LogLevel      string
	SecureCookies bool
	TrustProxies  string // comma-separated CIDRs whose X-Forwarded-For is believed
	DebugRoutes   bool
	LogKey        string // keys the hash of identifiers in failed-login records
	BaseURL       string // where mailed links point (SAAS_BASE_URL)
	Ship          shipConfig
}

// shipConfig is the OTLP shipping configuration (cmd/saas/shipping.go).
type shipConfig struct {
	On      bool
	Options ship.Options
	KeepMiB int64
}

func loadConfig(getenv func(string) string) (config, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	dataDir := get("SAAS_DATA_DIR", "data")
	c := config{
		DatabaseURL:   get("DATABASE_URL", filepath.Join(dataDir, "app.db")),
		LogDB:         get("SIDELOG_DB", filepath.Join(dataDir, "logs.db")),
		Addr:          get("ADDR", ":8080"),
		MetricsAddr:   get("METRICS_ADDR", ""),
		MetricsToken:  getenv("METRICS_TOKEN"),
		AdminEmail:    get("SAAS_ADMIN_EMAIL", "admin@example.com"),
		AdminPassword: getenv("SAAS_ADMIN_PASSWORD"),
		SentryDSN:     get("SENTRY_DSN", ""),
		Environment:   get("SAAS_ENV", "development"),
		LogLevel:      get("LOG_LEVEL", "info"),
		SecureCookies: get("SAAS_SECURE_COOKIES", "") == "1" || get("SAAS_SECURE_COOKIES", "") == "true",
		TrustProxies:  get("TRUSTED_PROXIES", ""),
		DebugRoutes:   get("SAAS_DEBUG_ROUTES", "") == "1",
		LogKey:        getenv("SAAS_LOG_KEY"),
		BaseURL:       get("SAAS_BASE_URL", ""),
	}
	var err error
	if c.Ship.Options, c.Ship.KeepMiB, c.Ship.On, err = shippingConfig(getenv, c.Environment); err != nil {
		return c, usageError{err.Error()}
	}
	if sameFile(c.DatabaseURL, c.LogDB) {
		return c, fmt.Errorf("DATABASE_URL and SIDELOG_DB name the same file %s: the business and log databases must be apart", c.LogDB)
	}
	return c, nil
}

// sameFile reports whether the paths name one file, through symbolic
// links and hard links too: a log database that is a link to the business
// database must be refused like the same path.
func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	return canonical(a) == canonical(b)
}

// canonical returns p absolute with every symbolic link resolved, also a
// dangling last one and those of directories that exist.
func canonical(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	for range 40 { // like the kernel's limit on links followed
		if r, err := filepath.EvalSymlinks(abs); err == nil {
			return r
		}
		dir, base := filepath.Split(abs)
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			dir = r
		}
		target, err := os.Readlink(filepath.Join(dir, base))
		if err != nil {
			return filepath.Join(dir, base)
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(dir, target)
		}
		abs = filepath.Clean(target)
	}
	return abs
}

// newFlags returns a flag set that reports errors as usage errors.
func newFlags(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected arguments %q", fs.Name(), fs.Args())}
	}
	return nil
}
