package sidelog_test

import (
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
)

var queryNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func lvl(l slog.Level) *slog.Level { return &l }

func TestParseQuery(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		q    string
		want sidelog.Filter
		fmt  string // the formatted form, when it differs from q
	}{
		{q: "", want: sidelog.Filter{}},
		{q: "   ", want: sidelog.Filter{}, fmt: ""},
		{q: "level:warn", want: sidelog.Filter{MinLevel: lvl(slog.LevelWarn), MaxLevel: lvl(slog.LevelWarn)}},
		{q: "level>=warn", want: sidelog.Filter{MinLevel: lvl(slog.LevelWarn)}},
		{q: "level<=info", want: sidelog.Filter{MaxLevel: lvl(slog.LevelInfo)}},
		{q: "LEVEL>=Warning", want: sidelog.Filter{MinLevel: lvl(slog.LevelWarn)}, fmt: "level>=warn"},
		{q: "level>=warn+2", want: sidelog.Filter{MinLevel: lvl(6)}, fmt: "level>=6"},
		{q: "level>=-4 level<=8", want: sidelog.Filter{MinLevel: lvl(-4), MaxLevel: lvl(8)}, fmt: "level>=debug level<=error"},
		{q: "kind:request", want: sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindRequest}}},
		{q: "kind:audit,security kind:audit kind:app", want: sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindAudit, sidelog.KindSecurity, sidelog.KindApp}}, fmt: "kind:audit,security,app"},
		{q: "logger:db.pool", want: sidelog.Filter{Logger: "db.pool"}},
		{q: "user:42 tenant:7", want: sidelog.Filter{UserID: "42", TenantID: "7"}},
		{q: "user_id:42 tenant_id:7 request_id:r1 trace_id:t1 client_ip:10.0.0.1", want: sidelog.Filter{UserID: "42", TenantID: "7", RequestID: "r1", TraceID: "t1", ClientIP: "10.0.0.1"}, fmt: "user:42 tenant:7 request:r1 trace:t1 ip:10.0.0.1"},
		{q: "request:01JD7 trace:4bf92f3577b34da6a3ce929d0e0e4736", want: sidelog.Filter{RequestID: "01JD7", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"}},
		{q: "method:get", want: sidelog.Filter{Method: "GET"}, fmt: "method:GET"},
		{q: "path:/api/*", want: sidelog.Filter{Path: "/api/*"}},
		{q: `path:"/a b"`, want: sidelog.Filter{Path: "/a b"}},
		{q: `path:"/a \"q\" \\ b"`, want: sidelog.Filter{Path: `/a "q" \ b`}},
		{q: `path:/a\b`, want: sidelog.Filter{Path: `/a\b`}},
		{q: "ip:1.2.3.4", want: sidelog.Filter{ClientIP: "1.2.3.4"}},
		{q: "ip:2001:DB8::1", want: sidelog.Filter{ClientIP: "2001:db8::1"}, fmt: "ip:2001:db8::1"},
		{q: "status:500", want: sidelog.Filter{MinStatus: 500, MaxStatus: 500}},
		{q: "status:5xx", want: sidelog.Filter{MinStatus: 500, MaxStatus: 599}},
		{q: "status:4XX", want: sidelog.Filter{MinStatus: 400, MaxStatus: 499}, fmt: "status:4xx"},
		{q: "status>=400", want: sidelog.Filter{MinStatus: 400}},
		{q: "status>=400 status<=451", want: sidelog.Filter{MinStatus: 400, MaxStatus: 451}},
		{q: "since:90m", want: sidelog.Filter{Since: queryNow.Add(-90 * time.Minute)}, fmt: "since:2026-11-20T10:30:00Z"},
		{q: "since:7d until:1d12h", want: sidelog.Filter{Since: queryNow.Add(-7 * 24 * time.Hour), Until: queryNow.Add(-36 * time.Hour)}, fmt: "since:2026-11-13T12:00:00Z until:2026-11-19T00:00:00Z"},
		{q: "since:2026-11-01T00:00:00Z", want: sidelog.Filter{Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}},
		{q: "since:2026-11-01T02:00:00.5+02:00", want: sidelog.Filter{Since: time.Date(2026, 11, 1, 0, 0, 0, 5e8, time.UTC)}, fmt: "since:2026-11-01T00:00:00.5Z"},
		{q: "since:2026-11-01 until:now", want: sidelog.Filter{Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Until: queryNow}, fmt: "since:2026-11-01T00:00:00Z until:2026-11-20T12:00:00Z"},
		{q: "timeout", want: sidelog.Filter{Text: "timeout"}},
		{q: `connection "refused by peer"  db*`, want: sidelog.Filter{Text: `connection "refused by peer" db*`}, fmt: `connection "refused by peer" db*`},
		{q: `"say \"hi\""`, want: sidelog.Filter{Text: `"say ""hi"""`}},
		{q: `"" "  " x`, want: sidelog.Filter{Text: `x`}, fmt: "x"},
		{q: "12:30 a=b x<y", want: sidelog.Filter{Text: "12:30 a=b x<y"}},
		{q: `"http://example.com"`, want: sidelog.Filter{Text: `"http://example.com"`}},
		{
			q: "level>=warn kind:request user:42 path:/api/* status:5xx since:1h oops",
			want: sidelog.Filter{
				MinLevel: lvl(slog.LevelWarn), Kinds: []sidelog.Kind{sidelog.KindRequest}, UserID: "42",
				Path: "/api/*", MinStatus: 500, MaxStatus: 599, Since: queryNow.Add(-time.Hour), Text: "oops",
			},
			fmt: "level>=warn kind:request user:42 path:/api/* status:5xx since:2026-11-20T11:00:00Z oops",
		},
	} {
		t.Run(tt.q, func(t *testing.T) {
			t.Parallel()
			got, err := sidelog.ParseQuery(tt.q, queryNow)
			if err != nil {
				t.Fatalf("ParseQuery(%q): %v", tt.q, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseQuery(%q)\n got %#v\nwant %#v", tt.q, got, tt.want)
			}
			wantFmt := tt.q
			if tt.fmt != "" || strings.TrimSpace(tt.q) == "" {
				wantFmt = tt.fmt
			}
			if s := sidelog.FormatQuery(got); s != wantFmt {
				t.Errorf("FormatQuery = %q, want %q", s, wantFmt)
			}
			if s := got.String(); s != wantFmt {
				t.Errorf("String = %q, want %q", s, wantFmt)
			}
		})
	}
}

func TestParseQuery_Errors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		q, want string // want: a part of the message
	}{
		{"level:loud", `"level:loud"`},
		{"level>=", `empty value in term "level>="`},
		{"lvl:warn", `unknown filter "lvl" in term "lvl:warn"`},
		{"http://x", `unknown filter "http"`},
		{"user:", `empty value in term "user:"`},
		{`user:""`, `empty value`},
		{"user>=4", `user takes ':' only`},
		{"kind:job", `unknown kind "job" in term "kind:job"`},
		{"kind>=app", `kind takes ':' only`},
		{"status:600x", `bad status in term "status:600x"`},
		{"status:0", `bad status`},
		{"status:99", `bad status`},
		{"status>=5xx", `bad status`},
		{"since:yesterday", `bad time in term "since:yesterday"`},
		{"since:-5m", `bad time`},
		{"since:90", `bad time`},
		{"since:99999999d", `bad time`},
		{"since:0000-01-01T00:00:00+01:00", `bad time`},
		{"since>=1h", `since takes ':' only`},
		{"ip:1.2.3", `bad IP address in term "ip:1.2.3"`},
		{`path:"/a b`, `unterminated quote`},
		{`path:/a"b"`, `unexpected quote in term "path:/a\"b\""`},
		{`"a"b`, `unexpected quote`},
		{"user:1 user:2", `term "user:2" repeats a filter`},
		{"level:warn level<=error", `term "level<=error" repeats`},
		{"status:5xx status>=500", `repeats`},
		{"since:1h since:2h", `repeats`},
		{"level>=error level<=info", `level range is empty: error is above info`},
		{"status>=500 status<=499", `status range is empty`},
		{"since:1h until:2h", `time range is empty`},
		{"\xff", `not valid UTF-8`},
		{strings.Repeat("a ", 3000), `query too long`},
	} {
		t.Run(tt.q, func(t *testing.T) {
			t.Parallel()
			_, err := sidelog.ParseQuery(tt.q, queryNow)
			var e *sidelog.Error
			if !errors.As(err, &e) || e.Code != sidelog.EINVALID {
				t.Fatalf("ParseQuery(%q) error = %v, want an EINVALID *Error", tt.q, err)
			}
			if !strings.Contains(e.Message, tt.want) {
				t.Errorf("message %q does not contain %q", e.Message, tt.want)
			}
		})
	}
}

func TestParseSince(t *testing.T) {
	t.Parallel()
	local := time.FixedZone("X", 3600)
	now := time.Date(2026, 11, 20, 13, 0, 0, 0, local) // 12:00 UTC
	for _, tt := range []struct {
		s    string
		want time.Time
	}{
		{"now", queryNow},
		{"0s", queryNow},
		{"45s", queryNow.Add(-45 * time.Second)},
		{"90m", queryNow.Add(-90 * time.Minute)},
		{"36h", queryNow.Add(-36 * time.Hour)},
		{"7d", queryNow.Add(-7 * 24 * time.Hour)},
		{"1d2h3m4s", queryNow.Add(-(26*time.Hour + 3*time.Minute + 4*time.Second))},
		{"36500d", queryNow.Add(-36500 * 24 * time.Hour)},
		{"2026-11-01T00:00:00Z", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{"2026-11-01T00:00:00.123456789-05:00", time.Date(2026, 11, 1, 5, 0, 0, 123456789, time.UTC)},
		{"2026-11-01", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
	} {
		got, err := sidelog.ParseSince(tt.s, now)
		if err != nil {
			t.Errorf("ParseSince(%q): %v", tt.s, err)
			continue
		}
		if got != tt.want { // == also checks UTC and no monotonic reading
			t.Errorf("ParseSince(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
	for _, s := range []string{"", "7", "d", "7w", "-1h", "1h-", "1.5h", "36501d", "2026-13-01", "tomorrow", "2026-11-01T00:00:00"} {
		if _, err := sidelog.ParseSince(s, now); sidelog.ErrorCode(err) != sidelog.EINVALID {
			t.Errorf("ParseSince(%q) error = %v, want EINVALID", s, err)
		}
	}
}

// TestFormatQuery_Filter formats filters that were not parsed (as the admin
// UI builds them) and checks that they parse back.
func TestFormatQuery_Filter(t *testing.T) {
	t.Parallel()
	for _, f := range []sidelog.Filter{
		{MinLevel: lvl(slog.LevelInfo), MaxLevel: lvl(slog.LevelError)},
		{Logger: "my app", Path: `/x"y`, RequestID: "a\\b"},
		{MinStatus: 200, MaxStatus: 299},
		{MinStatus: 900, MaxStatus: 999},
		{MaxStatus: 399},
		{Since: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Until: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
		{Text: `alpha "two words" beta*`},
	} {
		s := sidelog.FormatQuery(f)
		got, err := sidelog.ParseQuery(s, queryNow)
		if err != nil {
			t.Errorf("ParseQuery(FormatQuery(%#v) = %q): %v", f, s, err)
			continue
		}
		if !reflect.DeepEqual(got, f) {
			t.Errorf("round trip of %q\n got %#v\nwant %#v", s, got, f)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"", "level:warn", "level>=warn+2 level<=12", "kind:audit,security", `path:"/a b" user:42`,
		"status:5xx since:7d until:90m", `"say \"hi\"" word* x`, "ip:::1", "since:2026-11-01T00:00:00.5+02:00",
		"method:get tenant:7 request:r trace:t logger:l", `"a"b`, `path:"\`, "level:-9223372036854775808",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		f1, err := sidelog.ParseQuery(q, queryNow)
		if err != nil {
			if sidelog.ErrorCode(err) != sidelog.EINVALID {
				t.Fatalf("ParseQuery(%q): error %v is not EINVALID", q, err)
			}
			return
		}
		s := sidelog.FormatQuery(f1)
		f2, err := sidelog.ParseQuery(s, queryNow.Add(time.Hour))
		if err != nil {
			t.Fatalf("ParseQuery(%q) = %#v; its format %q does not parse: %v", q, f1, s, err)
		}
		if !reflect.DeepEqual(f1, f2) {
			t.Fatalf("round trip of %q through %q\n got %#v\nwant %#v", q, s, f2, f1)
		}
		if s2 := sidelog.FormatQuery(f2); s2 != s {
			t.Fatalf("format is not stable: %q then %q", s, s2)
		}
	})
}

func TestParseAge(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]time.Duration{"0s": 0, "90m": 90 * time.Minute, "7d": 7 * sidelog.Day, "1d12h": 36 * time.Hour} {
		if got, err := sidelog.ParseAge(s); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "7", "1w", "-1d", "36501d", "1.5h", "2026-11-01"} {
		if _, err := sidelog.ParseAge(s); sidelog.ErrorCode(err) != sidelog.EINVALID {
			t.Errorf("ParseAge(%q) error = %v, want EINVALID", s, err)
		}
	}
}
