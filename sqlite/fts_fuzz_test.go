package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
)

// FuzzQueryText feeds arbitrary text to full-text search: the store must
// answer it or refuse it as EINVALID, never pass SQLite a broken FTS query.
func FuzzQueryText(f *testing.F) {
	for _, s := range []string{`hello`, `"a phrase"`, `pre*`, `a AND b`, `"unclosed`, `NEAR(a b)`, `col:x`, `^x`, `*`, `"" ""`, `a -b`, `(x`, "\x00", `🙂 é`} {
		f.Add(s)
	}
	db := MustOpen(f)
	MustWrite(f, db, []sidelog.Record{{Time: time.Now(), Message: "hello a phrase prefix NEAR col x"}})
	f.Fuzz(func(t *testing.T, text string) {
		_, err := db.Query(context.Background(), sidelog.Filter{Text: text}, sidelog.Page{Limit: 5})
		if err != nil && sidelog.ErrorCode(err) != sidelog.EINVALID {
			t.Fatalf("Text %q: %v", text, err)
		}
	})
}
