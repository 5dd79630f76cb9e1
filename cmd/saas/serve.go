package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/sidelog/sidelog/audit"
	"github.com/sidelog/sidelog/httplog"
	"github.com/sidelog/sidelog/saas"
	"github.com/sidelog/sidelog/saas/store"
	"github.com/sidelog/sidelog/saas/web"
)

// shutdownTimeout bounds the graceful shutdown: in-flight requests, then
// draining the log pipeline.
const shutdownTimeout = 20 * time.Second

// runServe logs through sidelog from its first line, migrates, seeds an
// empty database, and serves until ctx ends; then it shuts the HTTP server
// down, drains the log pipeline and closes the log database.
func runServe(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlags("serve", stderr)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address (default ADDR or :8080)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	trusted, err := parsePrefixes(cfg.TrustProxies)
	if err != nil {
		return err
	}
	lg, err := startLogging(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		err = errors.Join(err, lg.close(cctx))
	}()
	log := lg.logger
	prev, prevFlags := slog.Default(), stdlog.Flags()
	slog.SetDefault(log) // also sends the log package's output to sidelog
	defer func() {
		slog.SetDefault(prev)
		stdlog.SetOutput(stderr) // SetDefault does not undo the redirection
		stdlog.SetFlags(prevFlags)
	}()
	log.Info("starting", "log_db", cfg.LogDB, "business_db", describeDB(cfg.DatabaseURL))

	db, err := openBusiness(ctx, cfg, io.Discard)
	if err != nil {
		log.Error("business database unavailable", "error", err)
		return err
	}
	defer db.Close()
	// Bind before seeding: a first run that cannot serve (the port is
	// taken) must not print the generated password and then exit, or the
	// next run, finding a user, would print nothing.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		log.Error("listen failed", "addr", cfg.Addr, "error", err)
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	mln, err := listenMetrics(cfg)
	if err != nil {
		log.Error("listen failed", "addr", cfg.MetricsAddr, "error", err)
		return err
	}
	if mln != nil {
		defer mln.Close()
	}
	stopAudit := startAudit(ctx, db, lg)
	defer stopAudit()
	if err := seed(audit.WithActor(ctx, audit.Actor{Name: "seed"}), db, cfg, stdout, log); err != nil {
		return err
	}

	var app *web.Server
	metrics := newMetrics(lg, func(class int) int64 { return app.Requests(class) })
	app = web.New(web.Config{
		Users: db, Orgs: db, Sessions: db, Projects: db, LogAccess: db, Ping: db.Ping,
		Signups: db, Mail: devMailbox(stderr), BaseURL: baseURL(cfg, ln),
		Logger:         log,
		LogStats:       lg.handler.Stats,
		Metrics:        metrics.onAppAddr(cfg),
		OrgAudit:       orgAudit(lg),
		SecureCookies:  cfg.SecureCookies,
		TrustedProxies: trusted,
		DebugRoutes:    cfg.DebugRoutes,
		LogKey:         []byte(cfg.LogKey),
	})
	mountAdmin(app, lg)
	requests := httplog.New(log, httplog.Options{
		SkipPaths:      []string{"/healthz", "/metrics"},
		SlowThreshold:  time.Second,
		TrustedProxies: trusted,
		RouteFunc:      app.Route,
	})
	srv := &http.Server{
		Handler:           app.CountRequests(requests(auditClientIP(trusted)(app.Handler()))),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.Handler = metrics.instrument(app.Route, srv.Handler)
	url := "http://" + displayAddr(ln.Addr())
	fmt.Fprintf(stdout, "listening on %s\n", url)
	log.Info("listening", "url", url)
	stopMetrics := metrics.serve(mln, cfg, url, log)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		log.Error("server failed", "error", err)
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := errors.Join(srv.Shutdown(sctx), stopMetrics(sctx)); err != nil {
		log.Error("shutdown", "error", err)
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// seed makes a first run useful: on an empty business database it creates
// the superuser and a demo organisation with a few projects.
func seed(ctx context.Context, db *store.DB, cfg config, stdout io.Writer, log *slog.Logger) error {
	n, err := db.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	u, err := createSuperuser(ctx, db, cfg.AdminEmail, "Admin", cfg.AdminPassword, stdout)
	if err != nil {
		return err
	}
	org := &saas.Org{Name: "Acme Demo"}
	if err := db.CreateOrg(ctx, org, u.ID); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	actx := saas.NewContext(ctx, u)
	for _, p := range []saas.Project{
		{Name: "Website relaunch", Status: saas.StatusActive, BudgetCents: 15_000_00},
		{Name: "Mobile app", Status: saas.StatusPlanned, BudgetCents: 40_000_00},
		{Name: "Data warehouse", Status: saas.StatusDone, BudgetCents: 22_500_00},
	} {
		p.OrgID = org.ID
		if err := db.CreateProject(actx, &p); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	log.Info("seeded demo data", "org_id", org.ID, "admin", u.Email)
	return nil
}

// describeDB names the business database without its password.
func describeDB(dsn string) string {
	if store.IsPostgresURL(dsn) {
		return "postgresql"
	}
	return dsn
}

// displayAddr turns ":8080" into "localhost:8080" for the startup line.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// parsePrefixes reads TRUSTED_PROXIES: comma-separated CIDRs or addresses.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, usageError{fmt.Sprintf("TRUSTED_PROXIES: %v", err)}
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, usageError{fmt.Sprintf("TRUSTED_PROXIES: %v", err)}
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// devMailbox is the application's mail sender: it prints each message on
// standard error, between marker lines, for a developer to follow the
// sign-up link (the reference app sends no real mail; a deployment plugs
// in its mail service through web.Config.Mail). The links hold tokens:
// they never go to the log database.
func devMailbox(stderr io.Writer) func(context.Context, saas.Mail) error {
	var mu sync.Mutex
	return func(_ context.Context, m saas.Mail) error {
		mu.Lock()
		defer mu.Unlock()
		_, err := fmt.Fprintf(stderr, "--- mail to %s: %s\n%s--- end of mail\n", m.To, m.Subject, m.Body)
		return err
	}
}

// baseURL is where mailed links point: SAAS_BASE_URL, or the address the
// server listens on (never the request's Host header).
func baseURL(cfg config, ln net.Listener) string {
	if cfg.BaseURL != "" {
		return cfg.BaseURL
	}
	return "http://" + displayAddr(ln.Addr())
}
