// Package sentry forwards error records of log/slog to a Sentry-compatible
// error tracker (Sentry itself, Bugsink, GlitchTip) without the Sentry SDK.
//
// Handler wraps another slog.Handler: every record goes to the wrapped
// handler as before, and records at or above a level (error by default)
// are also turned into Sentry events and posted as envelopes to the DSN's
// envelope endpoint by one background goroutine. The queue is bounded: when
// the tracker is slow or down, events are dropped and counted, and logging
// never waits for the network.
package sentry

import (
	"fmt"
	"net/url"
	"strings"
)

// DSN is a parsed Sentry DSN: https://KEY@host/PATH/PROJECT.
type DSN struct {
	raw       string
	PublicKey string
	ProjectID string
	base      string // scheme://host[:port][/path]
}

// ParseDSN parses a Sentry DSN.
func ParseDSN(s string) (*DSN, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("parse sentry dsn: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("parse sentry dsn: scheme must be http or https")
	}
	if u.User == nil || u.User.Username() == "" {
		return nil, fmt.Errorf("parse sentry dsn: no public key")
	}
	path := strings.TrimSuffix(u.Path, "/")
	i := strings.LastIndex(path, "/")
	if i < 0 || path[i+1:] == "" {
		return nil, fmt.Errorf("parse sentry dsn: no project id")
	}
	return &DSN{
		raw:       s,
		PublicKey: u.User.Username(),
		ProjectID: path[i+1:],
		base:      u.Scheme + "://" + u.Host + path[:i],
	}, nil
}

// EnvelopeURL returns the project's envelope endpoint.
func (d *DSN) EnvelopeURL() string {
	return d.base + "/api/" + d.ProjectID + "/envelope/"
}

// String returns the DSN as given.
func (d *DSN) String() string { return d.raw }

// authHeader is the X-Sentry-Auth header of every post.
func (d *DSN) authHeader() string {
	return "Sentry sentry_version=7, sentry_client=sidelog-sentry/1.0, sentry_key=" + d.PublicKey
}
