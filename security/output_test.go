package security_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/cli"
	"github.com/sidelog/sidelog/sqlite"
)

// terminal is text a terminal would act on: ANSI sequences (7- and 8-bit),
// cursor movement, bidi overrides and isolates, NEL, DEL, BEL, backspace.
const terminal = "\x1b[31mred\x1b[0m\x1b]0;title\x07\u009b2J\u202egnp.exe\u2066\u0085\x7f\x08\r"

// formulas start cells a spreadsheet would evaluate.
var formulas = []string{"=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\n=1", " =1", "\uff1d1+1", "\u00a0=1"}

func hostileRecords() []sidelog.Record {
	now := time.Now()
	var recs []sidelog.Record
	for _, f := range append([]string{terminal}, formulas...) {
		attrs, _ := json.Marshal(map[string]any{f: f, "nested": map[string]string{f: f}})
		recs = append(recs, sidelog.Record{
			Time: now, Level: 8, Message: f, Error: f, UserID: f, TenantID: f, Path: "/" + f, Route: f,
			UserAgent: f, Logger: f, Method: "GET", RequestID: "r", Attrs: attrs,
		})
	}
	return recs
}

// rawTerminal returns the characters of out a terminal would act on, other
// than the newline that ends a line.
func rawTerminal(out string) []rune {
	var bad []rune
	for _, r := range out {
		if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) || r == utf8.RuneError {
			bad = append(bad, r)
		}
	}
	return bad
}

// TestOutputInjection runs every output format over records whose every
// text field, attribute key and value holds terminal escapes or formulas.
func TestOutputInjection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "logs.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.WriteBatch(ctx, hostileRecords()); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		var out, errOut bytes.Buffer
		if err := cli.Run(ctx, append(args, "--db", path), nil, &out, &errOut); err != nil {
			t.Fatalf("%v: %v %s", args, err, errOut.String())
		}
		if bad := rawTerminal(errOut.String()); len(bad) > 0 {
			t.Errorf("%v: stderr holds %q", args, bad)
		}
		return out.String()
	}
	for _, format := range []string{"text", "json", "logfmt"} {
		for _, cmd := range [][]string{{"query", "--limit", "100"}, {"tail", "-n", "100"}} {
			args := append(append([]string(nil), cmd...), "--format", format)
			if bad := rawTerminal(run(args...)); len(bad) > 0 {
				t.Errorf("%v: output holds %q", args, bad)
			}
		}
	}
	for _, format := range []string{"jsonl", "logfmt"} {
		if bad := rawTerminal(run("export", "--format", format)); len(bad) > 0 {
			t.Errorf("export %s: output holds %q", format, bad)
		}
	}
	out := run("export", "--format", "csv")
	r := csv.NewReader(strings.NewReader(out))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows[1:] {
		for i, cell := range row {
			if bad := rawTerminal(strings.NewReplacer("\n", "", "\r", "", "\t", "").Replace(cell)); len(bad) > 0 {
				t.Errorf("csv column %s holds %q", rows[0][i], bad)
			}
			if cell == "" || cell[0] == '\'' {
				continue
			}
			first, _ := utf8.DecodeRuneInString(cell)
			if strings.ContainsRune("=+-@\uff1d\uff0b\uff0d\uff20", first) || unicode.IsSpace(first) || unicode.IsControl(first) {
				t.Errorf("csv column %s: cell %q is not neutralised", rows[0][i], cell)
			}
		}
	}
	_ = io.Discard
}
