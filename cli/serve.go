package cli

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/admin"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/sqlite"
)

var serveCommand = &command{
	name:    "serve",
	summary: "serve the admin web UI over a log database",
	usage: `usage: sidelog serve [--db PATH] [--addr HOST:PORT]

Serves the admin web UI (list, chart, details, live tail, export, delete
by query, saved views, stats and retention settings) over the log database
until interrupted.

It listens on 127.0.0.1:8090 by default, where everyone who can reach the
port is a superuser. To listen on any other address it needs a password:
set SIDELOG_ADMIN_PASSWORD, and the browser asks for it (HTTP Basic
authentication, user "admin"); serve it behind TLS. Reads and deletions
are recorded in the database as security events.

Examples:
  sidelog serve --db logs.db
  SIDELOG_ADMIN_PASSWORD=... sidelog serve --db logs.db --addr 0.0.0.0:8090
`,
	run: (*CLI).runServe,
}

// EnvAdminPassword is the environment variable holding the password that
// `sidelog serve` asks for.
const EnvAdminPassword = "SIDELOG_ADMIN_PASSWORD"

func (c *CLI) runServe(ctx context.Context, args []string) (err error) {
	fs := c.newFlags("serve")
	addr := fs.String("addr", "127.0.0.1:8090", "listen on `HOST:PORT`")
	pos, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	password := c.Getenv(EnvAdminPassword)
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return usageError("--addr: %v", err)
	}
	if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" && password == "" {
		return usageError("--addr %s is not a loopback address: set %s to require a password", *addr, EnvAdminPassword)
	}
	db, err := c.open(ctx, fs, false)
	if err != nil {
		return err
	}
	defer closeDB(db, &err)
	events := handler.New(db, &handler.Options{Logger: "sidelog.serve"})
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = errors.Join(err, events.Close(cctx))
	}()
	auth := &standaloneAuth{password: password, csrf: rand.Text()}
	opts := AdminOptions(db)
	opts.Auth, opts.Logger = auth, slog.New(events)
	ui := admin.New(opts)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: auth.wrap(ui), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(c.Stdout, "serving %s on http://%s/\n", db.Path(), ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return nil
}

// standaloneAuth is the access control of `sidelog serve`: everyone is the
// superuser "admin", behind HTTP Basic authentication when a password is
// set. The CSRF token is the process's own.
type standaloneAuth struct {
	password string
	csrf     string
}

var standaloneUser = &admin.User{ID: "admin", Name: "admin", Role: admin.RoleSuperuser}

func (a *standaloneAuth) User(*http.Request) *admin.User  { return standaloneUser }
func (a *standaloneAuth) CSRFToken(*http.Request) string  { return a.csrf }
func (a *standaloneAuth) LoginURL(r *http.Request) string { return "/" }
func (a *standaloneAuth) wrap(next http.Handler) http.Handler {
	if a.password == "" {
		return next
	}
	want := sha256.Sum256([]byte("admin\x00" + a.password))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		got := sha256.Sum256([]byte(u + "\x00" + p))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="sidelog", charset="UTF-8"`)
			http.Error(w, "password required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// AdminOptions returns the admin UI's options over a log database: the
// store with its delete, settings and retention, and its statistics. The
// caller adds Auth, Logger and the rest.
func AdminOptions(db *sqlite.DB) admin.Options {
	return admin.Options{
		Store: db,
		Follow: func(ctx context.Context, f sidelog.Filter) (admin.Follower, error) {
			return db.Follow(ctx, f)
		},
		Stats: func(ctx context.Context, detailed bool) (admin.DBStats, error) {
			st, err := db.Stats(ctx)
			sz := db.Sizes()
			out := admin.DBStats{
				Path: st.Path, SQLiteVersion: st.SQLiteVersion, Bytes: st.Bytes,
				Segments: sz.Segments, Catalog: sz.Catalog, WAL: sz.WAL, Files: sz.Files,
				Records: st.Records, ByLevel: st.ByLevel, ByKind: st.ByKind, Oldest: st.Oldest, Newest: st.Newest,
			}
			if err == nil && detailed {
				var sp sqlite.Space
				if sp, err = db.Space(ctx); err == nil {
					out.Detailed = true
					out.Tables, out.Indexes, out.Search, out.Free, out.WAL = sp.Tables, sp.Indexes, sp.Search, sp.Free, sp.WAL
				}
			}
			return out, err
		},
	}
}
