package sqlite_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
)

func TestDB_Delete(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	var recs []sidelog.Record
	// Three days, with matching and other records in every file class.
	for d := range 3 {
		for i := range 20 {
			r := sidelog.Record{Time: t0.Add(time.Duration(d)*24*time.Hour + time.Duration(i)*time.Minute), Level: slog.Level(4 * (i % 3)),
				Message: fmt.Sprintf("keep %d", i), UserID: "u1"}
			if i%4 == 0 {
				r.Message, r.UserID = fmt.Sprintf("secret payment %d", i), "u2"
			}
			if i%5 == 0 {
				r.Kind = sidelog.KindAudit
			}
			recs = append(recs, r)
		}
	}
	MustWrite(t, db, recs)
	f := sidelog.Filter{Text: "secret"}
	want, _ := db.Count(ctx, f)
	if want != 15 {
		t.Fatalf("setup: %d matches", want)
	}
	if _, err := db.Delete(ctx, sidelog.Filter{}, "admin"); sidelog.ErrorCode(err) != sidelog.EINVALID {
		t.Errorf("empty filter: %v", err)
	}
	n, err := db.Delete(ctx, f, "admin")
	if err != nil || n != want {
		t.Fatalf("Delete = %d, %v; want %d", n, err, want)
	}
	if left, _ := db.Count(ctx, f); left != 0 {
		t.Errorf("%d matching left", left)
	}
	// The rollup (used by Count without text) and the rows agree.
	if all, _ := db.Count(ctx, sidelog.Filter{UserID: "u2"}); all != 0 {
		t.Errorf("user u2 still has %d records", all)
	}
	st, _ := db.Stats(ctx)
	if st.Records != 60-15+1 { // the deletion's own security event
		t.Errorf("stats count %d records", st.Records)
	}
	res, _ := db.Query(ctx, sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindSecurity}}, sidelog.Page{})
	if len(res.Records) != 1 || res.Records[0].UserID != "admin" || res.Records[0].Message != "deleted 15 records by query" {
		t.Errorf("security event: %+v", res.Records)
	}
	probs, err := db.Check(ctx)
	if err != nil || len(probs) > 0 {
		t.Errorf("check after delete: %v %v", probs, err)
	}
}

func TestDB_Settings(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	if _, ok, err := db.Setting(ctx, "admin.views"); ok || err != nil {
		t.Fatalf("missing setting: %v %v", ok, err)
	}
	if err := db.SetSetting(ctx, "admin.views", `[1]`); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := db.Setting(ctx, "admin.views"); !ok || v != `[1]` {
		t.Errorf("got %q %v", v, ok)
	}
	if err := db.SetSetting(ctx, "retention", `{}`); sidelog.ErrorCode(err) != sidelog.EINVALID {
		t.Errorf("the retention key is reserved: %v", err)
	}
	db.SetSetting(ctx, "admin.views", "")
	if _, ok, _ := db.Setting(ctx, "admin.views"); ok {
		t.Error("an empty value did not remove the key")
	}
	sz := db.Sizes()
	if sz.Catalog == 0 {
		t.Errorf("sizes: %+v", sz)
	}
}
