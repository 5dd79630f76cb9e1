package cli_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/cli"
	"github.com/sidelog/sidelog/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// clock is the fixed now of every test; the generated records end half an
// hour before it.
var clock = time.Date(2026, 11, 20, 12, 30, 0, 0, time.UTC)

const genEnd = "2026-11-20T12:00:00Z"

// sharedDB is a generated database that tests only read.
var sharedDB string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "sidelog-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedDB = filepath.Join(dir, "logs.db")
	if err := generate(sharedDB); err != nil {
		fmt.Fprintln(os.Stderr, "generate test database:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func generate(path string) error {
	res := runCLI(nil, nil, "gen", "--db", path, "--rows", "1000", "--days", "45d", "--end", genEnd, "--seed", "1", "--users", "50")
	if res.code != 0 {
		return fmt.Errorf("gen: %s", res.stderr)
	}
	return nil
}

// newDB returns a copy of the shared database for the test to change.
// Copying the closed files is much cheaper than generating them again.
func newDB(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "logs.db")
	src := os.DirFS(filepath.Dir(sharedDB))
	if err := os.CopyFS(filepath.Dir(dst), src); err != nil {
		t.Fatal(err)
	}
	return dst
}

type result struct {
	stdout, stderr string
	code           int
}

// opts change how runCLI runs the tool.
type opts struct {
	env      map[string]string
	terminal bool
	stdin    io.Reader
	ctx      context.Context
	stdout   io.Writer // also receives stdout, for tail -f
}

// runCLI runs the tool like its main does: the error as one line on
// stderr, and the exit code.
func runCLI(t *testing.T, o *opts, args ...string) result {
	if o == nil {
		o = &opts{}
	}
	var stdout, stderr bytes.Buffer
	c := &cli.CLI{
		Stdin: o.stdin, Stdout: &stdout, Stderr: &stderr,
		Getenv:       func(k string) string { return o.env[k] },
		Now:          func() time.Time { return clock },
		IsTerminal:   func(io.Writer) bool { return o.terminal },
		PollInterval: 10 * time.Millisecond,
	}
	if o.stdout != nil {
		c.Stdout = io.MultiWriter(&stdout, o.stdout)
	}
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	err := c.Run(ctx, args)
	if err != nil {
		fmt.Fprintln(&stderr, c.ErrorLine(err))
	}
	return result{stdout.String(), stderr.String(), cli.ExitCode(err)}
}

var (
	sizeRE    = regexp.MustCompile(`\d+(\.\d+)? (B|KiB|MiB|GiB)\b`)
	bytesRE   = regexp.MustCompile(`"(bytes|tables|indexes|search|free|wal)": \d+`)
	versionRE = regexp.MustCompile(`(sqlite\s+|"sqlite_version": ")3\.\d+\.\d+`)
	tmpRE     = regexp.MustCompile(regexp.QuoteMeta(os.TempDir()) + `/[^\s"',)]*`)
)

// normalise removes what differs between runs: paths, sizes, the SQLite
// version.
func normalise(s string) string {
	s = sizeRE.ReplaceAllString(s, "SIZE")
	s = bytesRE.ReplaceAllString(s, `"$1": SIZE`)
	s = versionRE.ReplaceAllString(s, "${1}VERSION")
	return tmpRE.ReplaceAllStringFunc(s, func(p string) string { return "$TMP/" + filepath.Base(p) })
}

// golden compares a run with testdata/name.golden.
func golden(t *testing.T, name string, args []string, res result) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "$ sidelog %s\n%s", strings.Join(args, " "), res.stdout)
	if res.stderr != "" {
		fmt.Fprintf(&b, "--- stderr\n%s", res.stderr)
	}
	fmt.Fprintf(&b, "--- exit %d\n", res.code)
	got := normalise(b.String())
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n%s", name, path, diffLines(string(want), got))
	}
}

// diffLines shows the first lines that differ.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\nwant %q\n got %q", i+1, a, b)
		}
	}
	return ""
}

// goldenCase is one run compared with a golden file.
type goldenCase struct {
	name string
	args []string
	o    *opts
}

func runGolden(t *testing.T, db string, cases []goldenCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			if o == nil {
				o = &opts{}
			}
			if o.env == nil {
				o.env = map[string]string{cli.EnvDB: db, "USER": "operator"}
			}
			res := runCLI(t, o, tc.args...)
			golden(t, tc.name, tc.args, res)
		})
	}
}

// TestCLI_Read runs the commands that only read on the shared database.
func TestCLI_Read(t *testing.T) {
	runGolden(t, sharedDB, []goldenCase{
		{name: "query", args: []string{"query", "--limit", "10"}},
		{name: "query-filters", args: []string{"query", "level>=warn", "kind:request", "--limit", "5"}},
		{name: "query-json", args: []string{"query", "--format", "json", "status:5xx", "--limit", "3"}},
		{name: "query-logfmt", args: []string{"query", "kind:audit", "--format", "logfmt", "--limit", "3"}},
		{name: "query-since", args: []string{"query", "--since", "2h", "--until", "45m"}},
		{name: "query-text", args: []string{"query", "reset", "--limit", "3"}},
		{name: "query-user", args: []string{"query", "user:7", "path:/api/*", "--limit", "4"}},
		{name: "query-none", args: []string{"query", "user:nobody"}},
		{name: "query-misspelt", args: []string{"query", "lvl:warn", "OR", "stauts:500"}},
		{name: "query-expr", args: []string{"query", "-status:200", "(kind:request OR kind:security)", "--limit", "4"}},
		{name: "query-more", args: []string{"query", "kind:audit", "--limit", "2"}},
		{name: "top-route", args: []string{"top", "--by", "route"}},
		{name: "top-status-json", args: []string{"top", "--by", "status", "--json", "--since", "7d"}},
		{name: "top-user-filtered", args: []string{"top", "--by", "user", "method:DELETE", "--limit", "3"}},
		{name: "top-none", args: []string{"top", "--since", "1m"}},
		{name: "query-db-flag", args: []string{"query", "--db", sharedDB, "--limit", "2"}, o: &opts{env: map[string]string{}}},
		{name: "tail", args: []string{"tail", "-n", "5"}},
		{name: "tail-filter", args: []string{"tail", "-n", "3", "kind:security"}},
		{name: "stats", args: []string{"stats"}},
		{name: "stats-json", args: []string{"stats", "--json"}},
		{name: "check", args: []string{"check"}},
		{name: "cleanup-dry-run", args: []string{"cleanup", "--dry-run"}},
		{name: "cleanup-dry-run-policy", args: []string{"cleanup", "--dry-run", "--keep-debug", "1d", "--keep-info", "0", "--keep-warn", "2d"}},
		{name: "purge-dry-run", args: []string{"purge", "--user", "7", "--dry-run"}},
	})
}

func TestCLI_Help(t *testing.T) {
	cases := []goldenCase{
		{name: "help", args: []string{"help"}},
		{name: "help-flag", args: []string{"--help"}},
		{name: "help-query-via-help", args: []string{"help", "query"}},
	}
	for _, c := range []string{"tail", "query", "show", "top", "stats", "cleanup", "vacuum", "check", "export", "import", "purge", "audit", "gen", "help"} {
		cases = append(cases, goldenCase{name: "help-" + c, args: []string{c, "--help"}})
	}
	runGolden(t, sharedDB, cases)
}

// TestCLI_Errors checks every way a command refuses to run: one line on
// stderr and exit code 2.
func TestCLI_Errors(t *testing.T) {
	dir := t.TempDir()
	notSQLite := filepath.Join(dir, "notes.db")
	if err := os.WriteFile(notSQLite, []byte("not a database\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badJSONL := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(badJSONL, []byte(`{"time":"2026-11-20T12:00:00Z","msg":"ok"}`+"\n"+`{"time":"yesterday"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	newer := newerSchemaDB(t)
	missing := filepath.Join(dir, "missing.db")
	cases := []goldenCase{
		{name: "err-no-command", args: []string{}},
		{name: "err-unknown-command", args: []string{"frobnicate"}},
		{name: "err-unknown-flag", args: []string{"query", "--colour"}},
		{name: "err-bad-since", args: []string{"query", "--since", "5x"}},
		{name: "err-bad-until", args: []string{"tail", "--until", "yesterday"}},
		{name: "err-since-twice", args: []string{"query", "since:1h", "--since", "2h"}},
		{name: "err-bad-term", args: []string{"query", "level:loud"}},
		{name: "err-unknown-key", args: []string{"query", "status~500"}},
		{name: "err-top-by", args: []string{"top", "--by", "colour"}},
		{name: "err-show-bad-id", args: []string{"show", "12x"}},
		{name: "err-show-missing", args: []string{"show", "1"}},
		{name: "err-bad-limit", args: []string{"query", "--limit", "0"}},
		{name: "err-bad-format", args: []string{"query", "--format", "xml"}},
		{name: "err-bad-export-format", args: []string{"export", "--format", "xlsx"}},
		{name: "err-no-db", args: []string{"stats"}, o: &opts{env: map[string]string{}}},
		{name: "err-missing-db", args: []string{"stats", "--db", missing}},
		{name: "err-not-sqlite", args: []string{"check", "--db", notSQLite}},
		{name: "err-directory", args: []string{"query", "--db", dir}},
		{name: "err-newer-schema", args: []string{"stats", "--db", newer}},
		{name: "err-extra-arg", args: []string{"vacuum", "now"}},
		{name: "err-bad-keep", args: []string{"cleanup", "--keep-info", "1w"}},
		{name: "err-bad-max-size", args: []string{"cleanup", "--max-size", "lots"}},
		{name: "err-purge-nobody", args: []string{"purge"}},
		{name: "err-purge-both", args: []string{"purge", "--user", "1", "--tenant", "2"}},
		{name: "err-gen-rows", args: []string{"gen"}},
		{name: "err-import-no-file", args: []string{"import"}},
		{name: "err-import-missing-file", args: []string{"import", filepath.Join(dir, "none.jsonl")}},
		{name: "err-help-unknown", args: []string{"help", "frobnicate"}},
	}
	runGolden(t, sharedDB, cases)
	for _, p := range []string{missing, notSQLite} {
		if st, err := os.Stat(p); p == missing && err == nil || p == notSQLite && st.Size() != 15 {
			t.Errorf("%s was created or changed", p)
		}
	}
	if _, err := os.Stat(missing + ".d"); err == nil {
		t.Errorf("a segment directory was created for the missing database")
	}

	// A bad line anywhere: nothing is imported.
	db := filepath.Join(dir, "import.db")
	args := []string{"import", "--db", db, badJSONL}
	res := runCLI(t, nil, args...)
	golden(t, "err-import-bad-line", args, res)
	if _, err := os.Stat(db); err == nil {
		t.Errorf("import of a bad file created %s", db)
	}
}

// newerSchemaDB returns a database whose catalog claims a schema version
// from the future.
func newerSchemaDB(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "future.db")
	db, err := sqlite.Open(context.Background(), p, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	h := mustSQL(t, p)
	if _, err := h.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	h.Close()
	return p
}

// count returns the number of records matching the query in db.
func count(t *testing.T, db, query string) int64 {
	t.Helper()
	s, err := sqlite.Open(context.Background(), db, sqlite.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f, err := sidelog.ParseQuery(query, clock)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Count(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCLI_QueryPaging follows the next-page hint of query and shows a
// record whole.
func TestCLI_QueryPaging(t *testing.T) {
	env := &opts{env: map[string]string{cli.EnvDB: sharedDB}}
	all := runCLI(t, env, "query", "--limit", "6")
	first := runCLI(t, env, "query", "--limit", "3")
	m := regexp.MustCompile(`--after (\d+)`).FindStringSubmatch(first.stderr)
	if m == nil {
		t.Fatalf("no next-page hint in %q", first.stderr)
	}
	second := runCLI(t, env, "query", "--limit", "3", "--after", m[1])
	if first.stdout+second.stdout != all.stdout {
		t.Errorf("two pages:\n%s%s\nwant:\n%s", first.stdout, second.stdout, all.stdout)
	}
	id := regexp.MustCompile(` id=(\d+)`).FindStringSubmatch(first.stdout)
	if id == nil {
		t.Fatalf("no id in %q", first.stdout)
	}
	res := runCLI(t, env, "show", id[1])
	if res.code != 0 || !strings.Contains(res.stdout, "id          "+id[1]+"\n") && !strings.Contains(res.stdout, "id  ") {
		t.Errorf("show %s: %+v", id[1], res)
	}
	if !strings.HasPrefix(res.stdout, "id") || !strings.Contains(res.stdout, id[1]) {
		t.Errorf("show %s printed %q", id[1], res.stdout)
	}
}
