package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/sentry"
	"github.com/sidelog/sidelog/sqlite"
)

// logging is the log pipeline: the sidelog handler over the log database,
// a compact echo on stderr, and the error tracker when configured. Only
// this file holds the log database; the application gets the logger.
type logging struct {
	logger        *slog.Logger
	store         *sqlite.DB
	handler       *handler.Handler
	sentry        *sentry.Handler // nil without SENTRY_DSN
	stopRetention func()
	ship          *shipping // nil without SIDELOG_OTLP_ENDPOINT
}

// startLogging opens (and so migrates) the log database and builds the
// logger.
func startLogging(ctx context.Context, cfg config, stderr io.Writer) (*logging, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, usageError{fmt.Sprintf("LOG_LEVEL: %v", err)}
	}
	st, err := sqlite.Open(ctx, cfg.LogDB, sqlite.Options{Warnings: stderr})
	if err != nil {
		return nil, fmt.Errorf("open log db: %w", err)
	}
	l := &logging{store: st}
	l.handler = handler.New(st, &handler.Options{Level: level, Logger: "saas", Fallback: stderr})
	echo := slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: compact})
	var root slog.Handler = slog.NewMultiHandler(l.handler, echo)
	if cfg.SentryDSN != "" {
		l.sentry, err = sentry.New(root, cfg.SentryDSN, sentry.Options{Environment: cfg.Environment, Skip: plainRequest})
		if err != nil {
			l.close(ctx)
			return nil, err
		}
		root = l.sentry
	}
	l.logger = slog.New(root)
	if cfg.Ship.On { // before retention starts: it may save the policy
		if l.ship, err = startShipping(ctx, st, cfg.Ship.Options, cfg.Ship.KeepMiB, func() *slog.Logger { return l.logger }); err != nil {
			l.close(ctx)
			return nil, err
		}
	}
	l.stopRetention = st.StartRetention(time.Hour, func(rep sqlite.CleanupReport, err error) {
		if err != nil {
			l.logger.Error("log retention failed", "error", err)
		}
	})
	return l, nil
}

// plainRequest reports whether r is a request record without an error:
// a 5xx answer whose cause, if any, was logged (and forwarded) on its own
// line. Request records of recovered panics carry the panic as their error
// and are forwarded.
func plainRequest(r slog.Record) bool {
	request, hasErr := false, false
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case sidelog.KeyKind:
			request = a.Value.String() == sidelog.KindRequest.String()
		case sidelog.KeyError, sidelog.KeyErr:
			hasErr = true
		}
		return true
	})
	return request && !hasErr
}

// compact shortens the stderr echo: a clock time instead of a date, no
// stack traces, and no request attributes that the message ("GET /x 200")
// already says. The log database keeps everything.
func compact(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		return slog.String(slog.TimeKey, a.Value.Time().Format("15:04:05.000"))
	case "stack", sidelog.KeyUserAgent, sidelog.KeyMethod, sidelog.KeyPath, sidelog.KeyStatus, sidelog.KeyRoute, "http.response_bytes":
		return slog.Attr{}
	case sidelog.KeyKind:
		if a.Value.String() == sidelog.KindRequest.String() {
			return slog.Attr{}
		}
	case sidelog.KeyError:
		if s := a.Value.String(); strings.Contains(s, "\n") {
			return slog.String(a.Key, s[:strings.IndexByte(s, '\n')])
		}
	}
	return a
}

// close drains the pipeline in order: the tracker's queue, then the
// handler's queue into the log database, then the database.
func (l *logging) close(ctx context.Context) error {
	var errs []error
	if l.stopRetention != nil {
		l.stopRetention()
	}
	if l.sentry != nil {
		errs = append(errs, l.sentry.Close(ctx))
	}
	if l.handler != nil {
		errs = append(errs, l.handler.Close(ctx))
	}
	if l.ship != nil {
		errs = append(errs, l.ship.stop(ctx))
	}
	errs = append(errs, l.store.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close logging: %w", err)
	}
	return nil
}
