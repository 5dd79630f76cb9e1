package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

type statsSpace struct {
	Bytes   int64 `json:"bytes"`
	Records int64 `json:"records"`
	Space   *struct {
		Files   int   `json:"files"`
		Tables  int64 `json:"tables"`
		Indexes int64 `json:"indexes"`
		Search  int64 `json:"search"`
		Free    int64 `json:"free"`
		WAL     int64 `json:"wal"`
	} `json:"space"`
}

func statsJSON(t *testing.T, db string) statsSpace {
	t.Helper()
	res := runCLI(t, envFor(db), "stats", "--json")
	if res.code != 0 {
		t.Fatalf("stats --json: %s", res.stderr)
	}
	var st statsSpace
	if err := json.Unmarshal([]byte(res.stdout), &st); err != nil || st.Space == nil {
		t.Fatalf("stats --json: %v\n%s", err, res.stdout)
	}
	return st
}

// stats shows the WAL of a database in use apart from the records and
// indexes, and the parts add up to what is on disk.
func TestCLI_StatsSpace(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	st := statsJSON(t, db)
	sp := st.Space
	if sp.Tables == 0 || sp.Indexes == 0 || sp.Search == 0 || sp.WAL != 0 {
		t.Errorf("a closed database: %+v, want records, indexes and search, and no WAL", *sp)
	}
	if sum := sp.Tables + sp.Indexes + sp.Search + sp.Free; sum != st.Bytes {
		t.Errorf("parts add up to %d, the files hold %d", sum, st.Bytes)
	}

	// An application that is writing keeps write-ahead logs: stats names
	// them, rather than counting them as records.
	s, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs := make([]sidelog.Record, 200)
	for i := range recs {
		recs[i] = sidelog.Record{Time: clock.Add(-time.Duration(i) * time.Second), Level: slogInfo, Message: fmt.Sprintf("written while stats runs %d", i)}
	}
	if err := s.WriteBatch(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	live := statsJSON(t, db)
	if live.Space.WAL == 0 {
		t.Errorf("a database being written: no WAL in %+v", *live.Space)
	}
	if live.Bytes < live.Space.WAL+live.Space.Tables {
		t.Errorf("size %d is less than WAL %d plus records %d", live.Bytes, live.Space.WAL, live.Space.Tables)
	}
	text := runCLI(t, envFor(db), "stats").stdout
	for _, part := range []string{"  records ", "  indexes ", "  search ", "  free ", "  WAL "} {
		if !strings.Contains(text, part) {
			t.Errorf("stats does not show %q:\n%s", part, text)
		}
	}
}

const slogInfo = 0

var givenBack = regexp.MustCompile(`vacuumed \d+ files: .* \((.*) given back\)`)

// vacuum gives back the pages a delete freed, and says why when there was
// nothing to give back.
func TestCLI_VacuumHonest(t *testing.T) {
	t.Parallel()
	// One day of records, half of them one user's: erasing that user
	// frees whole pages.
	db := filepath.Join(t.TempDir(), "logs.db")
	s, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]sidelog.Record, 4000)
	for i := range recs {
		recs[i] = sidelog.Record{Time: clock.Add(-sidelog.Day + time.Duration(i)*time.Second), Level: slogInfo,
			Message: fmt.Sprintf("record %d %s", i, strings.Repeat("x", i%200)), UserID: fmt.Sprint(i % 2)}
	}
	if err := s.WriteBatch(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	// Delete by query (the admin UI's) removes records in place.
	if _, err := s.Delete(context.Background(), sidelog.Filter{UserID: "1"}, "test"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := statsJSON(t, db)
	if before.Space.Free == 0 {
		t.Fatalf("no free pages after a delete: %+v", *before.Space)
	}
	res := runCLI(t, envFor(db), "vacuum")
	if res.code != 0 || !givenBack.MatchString(res.stdout) {
		t.Fatalf("vacuum after a delete: %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	after := statsJSON(t, db)
	if after.Bytes >= before.Bytes || after.Space.Free != 0 {
		t.Errorf("vacuum: %d -> %d bytes, %d free after; want smaller and none free", before.Bytes, after.Bytes, after.Space.Free)
	}
	if after.Records != before.Records {
		t.Errorf("vacuum changed the records: %d -> %d", before.Records, after.Records)
	}

	res = runCLI(t, envFor(db), "vacuum")
	if res.code != 0 || givenBack.MatchString(res.stdout) || !strings.Contains(res.stdout, "not smaller because the files had no free pages") {
		t.Errorf("vacuum of a compact database does not say why it is not smaller:\n%s", res.stdout)
	}
}

// cleanup with an age under a day says that today's files are kept.
func TestCLI_CleanupToday(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	res := runCLI(t, envFor(db), "cleanup", "--dry-run", "--keep-debug", "1h")
	if res.code != 0 || !strings.Contains(res.stdout, "keeps today's (UTC) files whole") || !strings.Contains(res.stdout, "debug 1h") ||
		!strings.Contains(res.stdout, "2026-11-21 00:00 UTC") {
		t.Errorf("cleanup --keep-debug 1h:\n%s%s", res.stdout, res.stderr)
	}
	if res := runCLI(t, envFor(db), "cleanup", "--dry-run", "--keep-debug", "2d"); strings.Contains(res.stdout, "today") {
		t.Errorf("cleanup with ages of days explains today's files:\n%s", res.stdout)
	}
}

// Importing a file twice adds its records once; copies inside one file are
// all kept; --keep-duplicates imports everything.
func TestCLI_ImportIdempotent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := newDB(t)
	file := filepath.Join(dir, "all.jsonl")
	if res := runCLI(t, envFor(src), "export", "-o", file); res.code != 0 {
		t.Fatalf("export: %s", res.stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(strings.Count(string(data), "\n")) // the export's own security event is not in it

	// Into the database it came from: everything is already there.
	inSrc := count(t, src, "")
	res := runCLI(t, envFor(src), "import", file)
	if res.code != 0 || !strings.Contains(res.stdout, fmt.Sprintf("imported 0 records into %s; skipped %s already there", src, formatN(n))) {
		t.Errorf("import into the source:\n%s%s", res.stdout, res.stderr)
	}
	if got := count(t, src, ""); got != inSrc {
		t.Errorf("import into the source: %d records, want %d", got, inSrc)
	}

	// A file that holds every record twice, imported twice into a new
	// database: both copies once.
	twice := filepath.Join(dir, "twice.jsonl")
	if err := os.WriteFile(twice, append(append([]byte{}, data...), data...), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "dst.db")
	for i, want := range []string{
		fmt.Sprintf("imported %s records into %s; skipped 0 already there", formatN(2*n), dst),
		fmt.Sprintf("imported 0 records into %s; skipped %s already there", dst, formatN(2*n)),
	} {
		res := runCLI(t, envFor(dst), "import", twice)
		if res.code != 0 || !strings.Contains(res.stdout, want) {
			t.Errorf("import %d: want %q\n%s%s", i+1, want, res.stdout, res.stderr)
		}
		if got := count(t, dst, ""); got != 2*n {
			t.Errorf("after import %d: %d records, want %d", i+1, got, 2*n)
		}
	}
	// The original file into it: its records are there (twice).
	if res := runCLI(t, envFor(dst), "import", file); !strings.Contains(res.stdout, "imported 0 records") {
		t.Errorf("import of the single file:\n%s", res.stdout)
	}
	if res := runCLI(t, envFor(dst), "import", "--keep-duplicates", file); res.code != 0 {
		t.Fatal(res.stderr)
	}
	if got := count(t, dst, ""); got != 3*n {
		t.Errorf("after --keep-duplicates: %d records, want %d", got, 3*n)
	}
}

func formatN(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Without $USER or $LOGNAME (containers, CI), the actor of a purge is the
// account of the process's user id.
func TestCLI_ActorWithoutUser(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	u, err := user.Current()
	if err != nil || u.Username == "" {
		t.Skip("no account name for this uid")
	}
	res := runCLI(t, &opts{env: map[string]string{"SIDELOG_DB": db}}, "purge", "--user", "7")
	if res.code != 0 || !strings.Contains(res.stdout, "by cli:"+u.Username+")") {
		t.Errorf("purge without $USER:\n%s%s", res.stdout, res.stderr)
	}
	if got := count(t, db, "kind:security user:cli:"+u.Username); got != 2 {
		t.Errorf("%d security events by cli:%s, want 2 (purge started, done)", got, u.Username)
	}
}
