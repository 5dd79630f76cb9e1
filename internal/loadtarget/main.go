// Command loadtarget is the server the HTTP middleware's load benchmark
// runs wrk against: a trivial handler, bare or behind httplog with the real
// sidelog handler and SQLite store. BENCHMARKS.md ("HTTP middleware") has
// the commands.
//
//	go run ./internal/loadtarget -mw=none
//	go run ./internal/loadtarget -mw=sidelog -db /tmp/load/logs.db
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/httplog"
	"github.com/sidelog/sidelog/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loadtarget:", err)
		os.Exit(1)
	}
}

// Run serves until ctx is done, then drains the log queue.
func Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("loadtarget", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8099", "listen address")
	mw := fs.String("mw", "none", "middleware: none, sidelog (real handler and store), or discard (JSON to io.Discard)")
	dbPath := fs.String("db", "", "log database for -mw=sidelog (default: a new temporary directory)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	switch *mw {
	case "none":
	case "discard":
		h = httplog.New(slog.New(slog.NewJSONHandler(io.Discard, nil)), httplog.Options{})(h)
	case "sidelog":
		if *dbPath == "" {
			dir, err := os.MkdirTemp("", "loadtarget")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			*dbPath = filepath.Join(dir, "logs.db")
		}
		db, err := sqlite.Open(ctx, *dbPath, sqlite.Options{})
		if err != nil {
			return err
		}
		defer db.Close()
		lh := handler.New(db, nil)
		defer func() {
			_ = lh.Close(context.Background())
			st := lh.Stats()
			fmt.Fprintf(os.Stderr, "loadtarget: written %d, dropped %d, failed %d, batches %d\n", st.Written, st.Dropped, st.Failed, st.Batches)
		}()
		h = httplog.New(slog.New(lh), httplog.Options{})(h)
	default:
		return fmt.Errorf("unknown -mw %q", *mw)
	}
	srv := &http.Server{Addr: *addr, Handler: h}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	fmt.Fprintf(os.Stderr, "loadtarget: -mw=%s on %s\n", *mw, *addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
