package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_ImportTimesOutOfRange imports records dated in years a 64-bit
// nanosecond time cannot hold: the import is refused with the line and the
// range, and nothing is imported; the representable ends import exactly.
// Time bounds past the range select nothing instead of wrapping.
func TestCLI_ImportTimesOutOfRange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	line := func(ts string) string {
		return `{"time":"` + ts + `","level":"INFO","kind":"app","msg":"at ` + ts + `"}` + "\n"
	}
	good := line("1677-09-22T00:00:00Z") + line("2262-04-11T00:00:00Z")
	for _, bad := range []string{"0001-01-02T00:00:00Z", "1677-01-01T00:00:00Z", "2262-04-12T00:00:00Z", "3000-01-01T00:00:00Z"} {
		in := filepath.Join(dir, "in.jsonl")
		os.WriteFile(in, []byte(good+line(bad)), 0o644)
		db := filepath.Join(dir, "bad-"+bad[:4]+".db")
		res := runCLI(t, nil, "import", "--db", db, in)
		if res.code != 2 || !strings.Contains(res.stderr, "line 3") || !strings.Contains(res.stderr, "outside the times a log database can store") {
			t.Errorf("import of a record at %s: exit %d, %q", bad, res.code, res.stderr)
		}
		if _, err := os.Stat(db); err == nil {
			t.Errorf("import of a record at %s created the database", bad)
		}
	}
	in := filepath.Join(dir, "good.jsonl")
	os.WriteFile(in, []byte(good), 0o644)
	db := filepath.Join(dir, "good.db")
	if res := runCLI(t, nil, "import", "--db", db, in); res.code != 0 {
		t.Fatalf("import: %+v", res)
	}
	res := runCLI(t, nil, "query", "--db", db, "--format", "json")
	for _, ts := range []string{"1677-09-22T00:00:00Z", "2262-04-11T00:00:00Z"} {
		if !strings.Contains(res.stdout, `"time":"`+ts+`"`) {
			t.Errorf("the record at %s is not found as it was imported:\n%s", ts, res.stdout)
		}
	}
	for _, q := range [][]string{{"--since", "3000-01-01"}, {"--until", "1600-01-01"}} {
		res := runCLI(t, nil, append([]string{"query", "--db", db}, q...)...)
		if res.code != 0 || strings.Contains(res.stdout, "at ") {
			t.Errorf("query %v: exit %d, printed:\n%s", q, res.code, res.stdout)
		}
	}
	if res := runCLI(t, nil, "query", "--db", db, "--since", "1600-01-01", "--until", "3000-01-01"); strings.Count(res.stdout, "at ") != 2 {
		t.Errorf("query over every representable time: %+v", res)
	}
}
