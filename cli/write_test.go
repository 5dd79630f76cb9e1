package cli_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/cli"
	"github.com/sidelog/sidelog/sqlite"
)

func envFor(db string) *opts {
	return &opts{env: map[string]string{cli.EnvDB: db, "USER": "operator"}}
}

func TestCLI_Gen(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "logs.db")
	args := []string{"gen", "--db", db, "--rows", "1200", "--days", "2d", "--end", "1h", "--seed", "3"}
	golden(t, "gen", args, runCLI(t, nil, args...))
	if got := count(t, db, ""); got != 1200 {
		t.Errorf("%d records, want 1200", got)
	}
}

func TestCLI_Cleanup(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	before := count(t, db, "")
	args := []string{"cleanup"}
	golden(t, "cleanup", args, runCLI(t, envFor(db), args...))
	// Debug is kept 7 days, info 30, warn 90: the rows left are exactly
	// those the policy keeps.
	want := before - count(t, db, "")
	if want <= 0 {
		t.Fatalf("cleanup removed nothing")
	}
	for q, n := range map[string]int64{
		"level<=-1 kind:app,request until:" + clock.Add(-7*sidelog.Day).Format(time.RFC3339):                0,
		"level>=info level<=info kind:app,request until:" + clock.Add(-30*sidelog.Day).Format(time.RFC3339): 0,
		"level>=warn level<=warn kind:app until:" + clock.Add(-90*sidelog.Day).Format(time.RFC3339):         0,
	} {
		if got := count(t, db, q); got != n {
			t.Errorf("after cleanup, %q matches %d records, want %d", q, got, n)
		}
	}
	res := runCLI(t, envFor(db), "cleanup", "--dry-run")
	if !strings.Contains(res.stdout, "would remove 0 records") {
		t.Errorf("a second cleanup would still remove records:\n%s", res.stdout)
	}
}

func TestCLI_Vacuum(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	args := []string{"vacuum"}
	golden(t, "vacuum", args, runCLI(t, envFor(db), args...))
	if got := count(t, db, ""); got != 1000 {
		t.Errorf("%d records after vacuum, want 1000", got)
	}
}

func TestCLI_Purge(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	n := count(t, db, "user:7")
	args := []string{"purge", "--user", "7"}
	golden(t, "purge", args, runCLI(t, envFor(db), args...))
	if got := count(t, db, "user:7"); got != 0 {
		t.Errorf("%d records of user 7 left, want 0", got)
	}
	if got := count(t, db, "kind:security user:cli:operator"); got != 2 {
		t.Errorf("%d purge events by cli:operator, want 2 (started, done)", got)
	}
	if n == 0 {
		t.Error("the generated database has no records of user 7")
	}
	args = []string{"purge", "--tenant", "2", "--actor", "ticket-9"}
	golden(t, "purge-tenant", args, runCLI(t, envFor(db), args...))
}

func TestCLI_Export(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	runGolden(t, db, []goldenCase{
		{name: "export-jsonl", args: []string{"export", "kind:audit", "--since", "20d"}},
		{name: "export-csv", args: []string{"export", "--format", "csv", "kind:security"}},
		{name: "export-logfmt", args: []string{"export", "--format", "logfmt", "level>=error", "--since", "14d"}},
	})
	// Each export is recorded as a security event.
	if got := count(t, db, "kind:security logger:sidelog"); got != 3 {
		t.Errorf("%d export events, want 3", got)
	}
}

func TestCLI_ExportFile(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "errors.csv")
	args := []string{"export", "--format", "csv", "-o", out, "level>=warn"}
	res := runCLI(t, envFor(db), args...)
	golden(t, "export-file", args, res)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := int64(len(rows)), 1+count(t, db, "level>=warn"); got != want {
		t.Errorf("the CSV file has %d rows, want a header and %d records", got, want-1)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the output directory holds %d files, want only %s", len(entries), out)
	}
}

// TestCLI_ExportFailure checks that a failed export leaves nothing behind.
func TestCLI_ExportFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := runCLI(t, envFor(sharedDB), "export", "-o", filepath.Join(dir, "no", "such", "dir.jsonl"))
	if res.code != 2 || !strings.Contains(res.stderr, "cannot create the output file") {
		t.Errorf("export into a missing directory: exit %d, %q", res.code, res.stderr)
	}
	// A cancelled export stops in the middle of the scan: no file.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(dir, "all.jsonl")
	o := envFor(sharedDB)
	o.ctx = ctx
	res = runCLI(t, o, "export", "-o", out)
	if res.code == 0 {
		t.Errorf("cancelled export succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed export left %d files", len(entries))
	}
}

func scanAll(t *testing.T, path string) []sidelog.Record {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var recs []sidelog.Record
	for r, err := range db.Scan(context.Background(), sidelog.Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestCLI_ExportImport checks the round trip: every record comes back
// equal, field by field, except for its ID.
func TestCLI_ExportImport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := newDB(t)
	want := scanAll(t, src)
	file := filepath.Join(dir, "all.jsonl")
	if res := runCLI(t, envFor(src), "export", "-o", file); res.code != 0 {
		t.Fatalf("export: %s", res.stderr)
	}
	dst := filepath.Join(dir, "copy.db")
	args := []string{"import", "--db", dst, file}
	res := runCLI(t, nil, args...)
	golden(t, "import", args, res)
	got := scanAll(t, dst)
	if len(got) != len(want) {
		t.Fatalf("imported %d records, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		w.ID, g.ID = 0, 0
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("record %d:\n got %#v\nwant %#v", i, g, w)
		}
	}

	// From standard input, into an existing database.
	data, _ := os.ReadFile(file)
	o := envFor(dst)
	o.stdin = bytes.NewReader(data)
	if res := runCLI(t, o, "import", "-"); res.code != 0 {
		t.Fatalf("import -: %s", res.stderr)
	}
	if n := len(scanAll(t, dst)); n != len(want) {
		t.Errorf("%d records after a second import, want %d (import is idempotent)", n, len(want))
	}
}

// parquetRow is how an outside reader sees the Parquet export.
type parquetRow struct {
	ID         int64     `parquet:"id"`
	Time       time.Time `parquet:"time,timestamp(nanosecond)"`
	Level      int64     `parquet:"level"`
	Kind       string    `parquet:"kind"`
	Message    string    `parquet:"msg"`
	UserID     string    `parquet:"user_id"`
	Path       string    `parquet:"path"`
	Status     *int32    `parquet:"status,optional"`
	DurationNS *int64    `parquet:"duration_ns,optional"`
	Attrs      *string   `parquet:"attrs,optional"`
}

func TestCLI_ExportParquet(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	want := scanAll(t, db)
	out := filepath.Join(t.TempDir(), "all.parquet")
	if res := runCLI(t, envFor(db), "export", "--format", "parquet", "-o", out); res.code != 0 {
		t.Fatalf("export: %s", res.stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	rows, err := parquet.Read[parquetRow](f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, r := range want {
		g := rows[i]
		ok := g.ID == r.ID && g.Time.Equal(r.Time) && g.Level == int64(r.Level) && g.Kind == r.Kind.String() &&
			g.Message == r.Message && g.UserID == r.UserID && g.Path == r.Path &&
			(g.Status == nil) == (r.Status == 0) && (g.Status == nil || int(*g.Status) == r.Status) &&
			(g.DurationNS == nil || time.Duration(*g.DurationNS) == r.Duration) &&
			(g.Attrs == nil) == (len(r.Attrs) == 0) && (g.Attrs == nil || *g.Attrs == string(r.Attrs))
		if !ok {
			t.Fatalf("row %d: %+v, want %+v", i, g, r)
		}
	}
	res := runCLI(t, &opts{env: map[string]string{cli.EnvDB: db}, terminal: true}, "export", "--format", "parquet")
	if res.code != 2 || !strings.Contains(res.stderr, "will not write Parquet to a terminal") {
		t.Errorf("parquet to a terminal: exit %d, %q", res.code, res.stderr)
	}
}

// hostile is a record whose values try to take over a terminal.
var hostile = sidelog.Record{
	Time: time.Date(2026, 11, 20, 12, 0, 0, 5e8, time.UTC), Level: slog.LevelWarn, Kind: sidelog.KindApp,
	Message: "evil \x1b[2J\x1b]0;pwned\x07 line\r\nnext \u202egnp.exe \xff", Logger: "x\x1b[31m",
	UserID: "=cmd|' /C calc'!A0", Error: "+SUM(1)", Attrs: json.RawMessage(`{"k\u001b":"\u001b[5m","@x":"-2"}`),
}

func hostileDB(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "logs.db")
	db, err := sqlite.Open(context.Background(), p, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.WriteBatch(context.Background(), []sidelog.Record{hostile}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCLI_Neutralise checks that no log value reaches a terminal with its
// control characters, in any output, coloured or not.
func TestCLI_Neutralise(t *testing.T) {
	t.Parallel()
	db := hostileDB(t)
	for _, terminal := range []bool{false, true} {
		for _, format := range []string{"text", "logfmt"} {
			o := &opts{env: map[string]string{cli.EnvDB: db}, terminal: terminal}
			res := runCLI(t, o, "query", "--format", format)
			name := fmt.Sprintf("neutralise-%s", format)
			if terminal {
				name += "-terminal"
			}
			golden(t, name, []string{"query", "--format", format}, res)
			out := res.stdout
			for _, c := range []string{"\x1b[0m", "\x1b[2m", "\x1b[33m"} {
				out = strings.ReplaceAll(out, c, "")
			}
			if strings.ContainsAny(out, "\x1b\r\x07\u202e") || strings.Contains(out, "\xff") || strings.Count(out, "\n") != 1 {
				t.Errorf("%s: raw control characters reach the terminal: %q", name, res.stdout)
			}
			if terminal && format == "text" && !strings.Contains(res.stdout, "\x1b[33mWARN ") {
				t.Errorf("%s: the level is not coloured: %q", name, res.stdout)
			}
		}
	}
	o := &opts{env: map[string]string{cli.EnvDB: db, "NO_COLOR": "1"}, terminal: true}
	if res := runCLI(t, o, "query"); strings.Contains(res.stdout, "\x1b[") {
		t.Errorf("NO_COLOR output has colour: %q", res.stdout)
	}
	// CSV: the cells that start like a formula are neutralised.
	res := runCLI(t, envFor(db), "export", "--format", "csv")
	golden(t, "neutralise-csv", []string{"export", "--format", "csv"}, res)
	for _, cell := range []string{`'=cmd|`, `'+SUM(1)`} {
		if !strings.Contains(res.stdout, cell) {
			t.Errorf("CSV lacks the neutralised cell %q:\n%s", cell, res.stdout)
		}
	}
	// An error message quoting a hostile term is neutralised too.
	res = runCLI(t, envFor(db), "query", "level:\x1b[2J")
	if strings.Contains(res.stderr, "\x1b") || res.code != 2 {
		t.Errorf("error line: exit %d, %q", res.code, res.stderr)
	}
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain text": "plain text", "a\x1b[31mb": `a\x1b[31mb`, "a\nb\rc\td": `a\nb\rc\td`,
		"\x07\x7f": `\x07\x7f`, "\u0085": `\u0085`, "\u202eabc": `\u202eabc`, "bad\xffutf8": `bad\xffutf8`,
		"ünïcødé ☃ \uFFFD": "ünïcødé ☃ \uFFFD", "": "",
	} {
		if got := cli.Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestCLI_TailFollow(t *testing.T) {
	t.Parallel()
	path := newDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	live := &syncBuffer{}
	o := envFor(path)
	o.ctx, o.stdout = ctx, live
	done := make(chan result, 1)
	go func() { done <- runCLI(t, o, "tail", "-f", "-n", "1", "kind:app", "--format", "logfmt") }()

	waitFor(t, live, 1)
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2026, 11, 20, 12, 0, 1, 0, time.UTC) // the newest day file
	for i := range 3 {
		recs := []sidelog.Record{
			{Time: at.Add(time.Duration(i) * time.Second), Kind: sidelog.KindApp, Message: fmt.Sprintf("live %d", i)},
			{Time: at.Add(time.Duration(i) * time.Second), Kind: sidelog.KindRequest, Message: "not shown"},
		}
		if err := db.WriteBatch(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
		waitFor(t, live, 2+i)
	}
	cancel()
	res := <-done
	if res.code != 0 {
		t.Fatalf("tail -f ended with %d: %s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	for i, want := range []string{"live 0", "live 1", "live 2"} {
		if !strings.Contains(lines[i+1], `msg="`+want+`"`) {
			t.Errorf("line %d = %q, want %q", i+2, lines[i+1], want)
		}
	}
	if strings.Contains(res.stdout, "not shown") {
		t.Errorf("tail -f printed a record its filter excludes")
	}
}

func waitFor(t *testing.T, b *syncBuffer, lines int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(b.String(), "\n") < lines {
		if time.Now().After(deadline) {
			t.Fatalf("waited for %d lines, have:\n%s", lines, b.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCLI_Progress checks that the progress bar goes to stderr on a
// terminal only, and never into the exported data.
func TestCLI_Progress(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	out := filepath.Join(t.TempDir(), "all.jsonl")
	res := runCLI(t, &opts{env: map[string]string{cli.EnvDB: db}, terminal: true}, "export", "-o", out)
	if res.code != 0 || !strings.Contains(res.stderr, "exporting") || !strings.Contains(res.stderr, "exported 1,000 records") {
		t.Errorf("on a terminal: exit %d, stderr %q", res.code, res.stderr)
	}
	data, _ := os.ReadFile(out)
	if n := bytes.Count(data, []byte("\n")); n != 1000 || bytes.Contains(data, []byte("exporting")) {
		t.Errorf("the export has %d lines or holds the progress bar", n)
	}
	res = runCLI(t, envFor(db), "export", "-o", out)
	if strings.Contains(res.stderr, "exporting") {
		t.Errorf("progress bar without a terminal: %q", res.stderr)
	}
}

// TestCLI_Embedded runs the tool as an application embeds it: its own name
// and its own database.
func TestCLI_Embedded(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	c := &cli.CLI{Name: "saas logs", DB: sharedDB, Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	if err := c.Run(context.Background(), []string{"query", "--limit", "1", "--format", "json"}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), `{"id":`) {
		t.Errorf("query printed %q", out.String())
	}
	out.Reset()
	if err := c.Run(context.Background(), []string{"tail", "--help"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "usage: saas logs tail") {
		t.Errorf("help does not use the application's name:\n%s", out.String())
	}
	err := c.Run(context.Background(), []string{"query", "--bogus"})
	if got := c.ErrorLine(err); !strings.HasPrefix(got, "saas logs query: flag provided but not defined") || cli.ExitCode(err) != 2 {
		t.Errorf("error line %q, exit %d", got, cli.ExitCode(err))
	}
}

// TestCLI_CleanupSave checks that --save stores the policy that later runs
// and stats start from.
func TestCLI_CleanupSave(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	res := runCLI(t, envFor(db), "cleanup", "--keep-debug", "1d", "--max-size", "1GiB", "--save")
	if res.code != 0 || !strings.Contains(res.stdout, "saved the policy") {
		t.Fatalf("cleanup --save: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	want := "debug 1d, info 30d, warn 90d, error 365d, audit/security 365d, at most 1024 MiB"
	for _, args := range [][]string{{"stats"}, {"cleanup", "--dry-run"}} {
		if res := runCLI(t, envFor(db), args...); !strings.Contains(res.stdout, want) {
			t.Errorf("%v does not start from the saved policy:\n%s", args, res.stdout)
		}
	}
	res = runCLI(t, envFor(db), "cleanup", "--dry-run", "--save")
	if res.code != 2 {
		t.Errorf("--save --dry-run: exit %d, want 2", res.code)
	}
}
