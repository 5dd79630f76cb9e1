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
		{q: "12:30 x-y", want: sidelog.Filter{Text: "12:30 x-y"}},
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
		{"msg:hello", `msg is not a filter in term "msg:hello"`},
		{"error:x", `error is not a filter`},
		{"attrs:x", `name the attribute`},
		{"status~500", `unknown operator in term "status~500"`},
		{"project_id!4", `unknown operator in term "project_id!4"`},
		{"level=>warn", `bad level in term "level=>warn"`},
		{"duration>100", `bad duration in term "duration>100"`},
		{"duration>fast", `bad duration`},
		{"duration>-5ms", `bad duration`},
		{"status>400,500", `a list of values needs ':'`},
		{"route>x", `route takes ':' only`},
		{"has>x", `has takes ':' only`},
		{"has:a,b", `has: takes one key`},
		{"-since:1h", `since: cannot be negated`},
		{"since:1h OR x", `since: cannot be negated`},
		{"a OR", `OR needs a term on each side`},
		{"OR a", `OR needs a term on each side`},
		{"a OR OR b", `OR needs a term`},
		{"a AND", `AND needs a term on each side`},
		{"AND a", `AND needs a term on each side`},
		{"NOT", `NOT needs a term after it`},
		{"a NOT", `NOT needs a term after it`},
		{"(a", `a ( is not closed`},
		{"(a))", `has no opening (`},
		{"()", `empty parentheses`},
		{"user:a,", `empty value in term "user:a,"`},
		{strings.Repeat("(", 60) + "a" + strings.Repeat(")", 60), `nests too deep`},
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
		"project_id:4 -status:404,410 (a OR b*) NOT has:x.y", `order.total>1.5 duration<=2m route:"GET /x" -(user:1 OR "p q")`,
		"attrs.level:x has:user level>warn kind!=app x=1", "a AND b OR c", "-(-(a))",
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

// TestParseQuery_Expr checks the forms that go to Filter.Expr: each parses,
// formats to the canonical form, and that form parses to the same Filter.
func TestParseQuery_Expr(t *testing.T) {
	t.Parallel()
	attr := func(path, op string, vals ...string) *sidelog.Expr {
		return &sidelog.Expr{Op: sidelog.OpTerm, Term: &sidelog.Term{Field: sidelog.FieldAttr, Path: path, Op: op, Values: vals}}
	}
	col := func(field, op string, vals ...string) sidelog.Expr {
		return sidelog.Expr{Op: sidelog.OpTerm, Term: &sidelog.Term{Field: field, Op: op, Values: vals}}
	}
	not := func(e sidelog.Expr) *sidelog.Expr { return &sidelog.Expr{Op: sidelog.OpNot, Args: []sidelog.Expr{e}} }
	for _, tt := range []struct {
		q, fmt string
		want   *sidelog.Expr // nil: not checked
	}{
		{q: "project_id:4", want: attr("project_id", ":", "4")},
		{q: "project_id=4", fmt: "project_id:4", want: attr("project_id", ":", "4")},
		{q: "attrs.http.client.os:linux", fmt: "http.client.os:linux", want: attr("http.client.os", ":", "linux")},
		{q: "Attrs.user:5", fmt: "attrs.user:5", want: attr("user", ":", "5")},
		{q: "order.total>100", want: attr("order.total", ">", "100")},
		{q: "order.total<=9.5 order.total>=1", want: &sidelog.Expr{Op: sidelog.OpAnd, Args: []sidelog.Expr{*attr("order.total", "<=", "9.5"), *attr("order.total", ">=", "1")}}},
		{q: `email:"a b",c@x.io`, want: attr("email", ":", "a b", "c@x.io")},
		{q: "has:order.id", want: &sidelog.Expr{Op: sidelog.OpTerm, Term: &sidelog.Term{Field: sidelog.FieldHas, Path: "order.id", Op: ":"}}},
		{q: "has:User_ID", fmt: "has:user", want: &sidelog.Expr{Op: sidelog.OpTerm, Term: &sidelog.Term{Field: sidelog.FieldHas, Op: ":", Values: []string{"user"}}}},
		{q: "has:attrs.level", want: &sidelog.Expr{Op: sidelog.OpTerm, Term: &sidelog.Term{Field: sidelog.FieldHas, Path: "level", Op: ":"}}},
		{q: "-has:error"},
		{q: "-status:404", want: not(col("status", ":", "404"))},
		{q: "status!=404", fmt: "-status:404", want: not(col("status", ":", "404"))},
		{q: "NOT level:debug", fmt: "-level:debug", want: not(col("level", ":", "debug"))},
		{q: "status:404,410", want: &[]sidelog.Expr{col("status", ":", "404", "410")}[0]},
		{q: "status:4XX,500", fmt: "status:4xx,500"},
		{q: "status>400", want: &[]sidelog.Expr{col("status", ">", "400")}[0]},
		{q: "level>warn", want: &[]sidelog.Expr{col("level", ">", "warn")}[0]},
		{q: "level:warn,error", want: &[]sidelog.Expr{col("level", ":", "warn", "error")}[0]},
		{q: "kind!=app", fmt: "-kind:app"},
		{q: "user:1,2", want: &[]sidelog.Expr{col("user", ":", "1", "2")}[0]},
		{q: "method!=get", fmt: "-method:GET"},
		{q: `route:"GET /projects/{id}"`, want: &[]sidelog.Expr{col("route", ":", "GET /projects/{id}")}[0]},
		{q: "route:/api/*"},
		{q: "span:00f067aa0ba902b7"},
		{q: "duration>250ms", want: &[]sidelog.Expr{col("duration", ">", "250ms")}[0]},
		{q: "duration>=1.5s duration<1000ms", fmt: "duration>=1.5s duration<1s"},
		{q: "level:warn OR level:error", want: &sidelog.Expr{Op: sidelog.OpOr, Args: []sidelog.Expr{col("level", ":", "warn"), col("level", ":", "error")}}},
		{q: "a OR b", want: &sidelog.Expr{Op: sidelog.OpOr, Args: []sidelog.Expr{col(sidelog.FieldText, "", "a"), col(sidelog.FieldText, "", "b")}}},
		{q: "a or b"}, // lower-case "or" is a word
		{q: "(user:1 OR user:2) level:warn", fmt: "level:warn (user:1 OR user:2)"},
		{q: "user:1 (a OR b) -c", fmt: "user:1 (a OR b) -c"},
		{q: "(a OR b) (c OR d)"},
		{q: "a b OR c", fmt: "a b OR c"},
		{q: "-(a b)"},
		{q: "-(a OR -b)"},
		{q: "--a", fmt: "a"},
		{q: "NOT -a", fmt: "a"},
		{q: "a AND b", fmt: "a b"},
		{q: `-"two words"`},
		{q: `-"" x`, fmt: "x"},
		{q: "((a))", fmt: "a"},
		{q: "(a OR (b OR c))", fmt: "a OR b OR c"},
		{q: `x "OR" y`, fmt: `x "OR" y`},
		{q: `"-x" "(y" "z)"`},
		{q: `note:"a,b" note:"x)"`},
		{q: "level:warn status:5xx OR user:1", fmt: "level:warn status:5xx OR user:1"},
	} {
		t.Run(tt.q, func(t *testing.T) {
			t.Parallel()
			f, err := sidelog.ParseQuery(tt.q, queryNow)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil && !reflect.DeepEqual(f.Expr, tt.want) {
				t.Errorf("Expr = %s, want %s", sidelog.FormatQuery(sidelog.Filter{Expr: f.Expr}), sidelog.FormatQuery(sidelog.Filter{Expr: tt.want}))
			}
			want := tt.fmt
			if want == "" {
				want = tt.q
			}
			s := sidelog.FormatQuery(f)
			if s != want {
				t.Errorf("FormatQuery = %q, want %q", s, want)
			}
			f2, err := sidelog.ParseQuery(s, queryNow)
			if err != nil || !reflect.DeepEqual(f2, f) {
				t.Errorf("ParseQuery(%q) = %#v, %v; want %#v", s, f2, err, f)
			}
		})
	}
}
