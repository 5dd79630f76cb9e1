package handler_test

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/redact"
)

const testJWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"

type loginForm struct {
	User     string `json:"user"`
	Password string `json:"password"`
	Note     string `json:"note"`
}

func TestHandler_redactsByDefault(t *testing.T) {
	t.Parallel()
	w := &memWriter{}
	h := MustNew(t, w, nil)
	rec := logOne(t, h.WithAttrs([]slog.Attr{slog.String("api_key", "with-attrs-key")}), w, func(l *slog.Logger) {
		l.Info("call with Authorization: Bearer msg-bearer-token",
			slog.String("password", "pw-top"),
			slog.Group("req", slog.Group("headers", slog.String("Cookie", "sid=cookie-deep"), slog.String("X-Trace", "keep-me"))),
			slog.Group("credentials", slog.String("user", "group-user")),
			slog.Any("form", loginForm{User: "bob", Password: "pw-struct", Note: "card 4242 4242 4242 4242"}),
			slog.Any("m", map[string]any{"token": map[string]int{"n": 1}}),
			slog.String("url", "https://api.example.com/cb?state=1&access_token=query-token"),
			slog.String("jwt", testJWT),
			slog.Any(sidelog.KeyError, fmt.Errorf("dial postgres://app:err-dbpass@db/app: %w", errors.New("refused"))),
			slog.String(sidelog.KeyPath, "/reset/path-token-123"),
			slog.Int64("amount_ref", 4539148803436467),
			slog.Int64("big", 1764620000000000000),
		)
	})
	all := fmt.Sprintf("%s %s %s %s", rec.Message, rec.Attrs, rec.Error, rec.Path)
	for _, secret := range []string{"msg-bearer-token", "pw-top", "cookie-deep", "group-user", "pw-struct", "4242 4242",
		`"n":1`, "query-token", testJWT, "err-dbpass", "path-token-123", "with-attrs-key", "4539148803436467"} {
		if strings.Contains(all, secret) {
			t.Errorf("%q was stored: %s", secret, all)
		}
	}
	for _, keep := range []string{"keep-me", `"user":"bob"`, "state=1", "refused", "/reset/", `"big":1764620000000000000`} {
		if !strings.Contains(all, keep) {
			t.Errorf("%q was lost: %s", keep, all)
		}
	}
	if !strings.Contains(all, "[REDACTED:key]") || !strings.Contains(all, "[REDACTED:jwt]") || !strings.Contains(all, "[REDACTED:url-query]") {
		t.Errorf("markers missing: %s", all)
	}
	if got := h.Stats().Redacted; got[redact.RuleKey] == 0 || got[redact.RuleJWT] == 0 {
		t.Errorf("Stats.Redacted = %v", got)
	}
}

func TestHandler_redactionOff(t *testing.T) {
	t.Parallel()
	w := &memWriter{}
	h := MustNew(t, w, &handler.Options{Redactor: redact.Disabled()})
	rec := logOne(t, h, w, func(l *slog.Logger) { l.Info("x", "password", "pw-clear") })
	if !strings.Contains(string(rec.Attrs), "pw-clear") {
		t.Errorf("redact.Disabled() still redacted: %s", rec.Attrs)
	}
}

func TestHandler_privacySwitches(t *testing.T) {
	t.Parallel()
	w := &memWriter{}
	red := redact.New(redact.Options{TruncateIPs: true, Emails: true})
	h := MustNew(t, w, &handler.Options{Redactor: red})
	ctx := sidelog.WithUser(t.Context(), "42", "7")
	logOne(t, h, w, func(l *slog.Logger) {
		l.InfoContext(ctx, "mail from bob@example.com", sidelog.KeyClientIP, "203.0.113.77", sidelog.KeyUserAgent, "curl/8")
	})
	h2 := MustNew(t, w, &handler.Options{OmitClientIP: true, OmitUserAgent: true, OmitUserID: true})
	logOne(t, h2, w, func(l *slog.Logger) {
		l.InfoContext(ctx, "x", sidelog.KeyClientIP, "203.0.113.77", sidelog.KeyUserAgent, "curl/8")
	})
	recs := w.records()
	if r := recs[0]; r.ClientIP != "203.0.113.0" || r.Message != "mail from [REDACTED:email]" || r.UserID != "42" {
		t.Errorf("truncation: %+v", r)
	}
	if r := recs[1]; r.ClientIP != "" || r.UserAgent != "" || r.UserID != "" || r.TenantID != "7" {
		t.Errorf("switches: %+v", r)
	}
}
