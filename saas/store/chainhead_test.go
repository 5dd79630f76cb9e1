package store_test

import (
	"context"
	"testing"

	"github.com/sidelog/sidelog/saas"
	"github.com/sidelog/sidelog/saas/store/storetest"
)

// TestDB_ChainHead: the head kept in the business database only moves
// forward, so a truncated or restored log database cannot pull it back.
func TestDB_ChainHead(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			r := newAuditRig(t, dialect)
			ctx := context.Background()
			if _, err := r.db.ChainHead(ctx); saas.ErrorCode(err) != saas.ENOTFOUND {
				t.Fatalf("before the first save: %v, want ENOTFOUND", err)
			}
			steps := []struct {
				seq   int64
				hash  string
				moved bool
				want  string
			}{
				{5, "aa", true, "5:aa"},
				{9, "bb", true, "9:bb"},
				{7, "cc", false, "9:bb"}, // older: a truncated log database
				{9, "dd", false, "9:bb"}, // same position, other hash: a rebuilt chain
				{0, "", false, "9:bb"},
				{12, "ee", true, "12:ee"},
			}
			for _, st := range steps {
				moved, err := r.db.SaveChainHead(ctx, st.seq, st.hash)
				if err != nil || moved != st.moved {
					t.Fatalf("save %d:%s: moved %v, %v; want %v", st.seq, st.hash, moved, err, st.moved)
				}
				h, err := r.db.ChainHead(ctx)
				if err != nil || h.String() != st.want || h.SavedAt.IsZero() {
					t.Fatalf("after saving %d:%s: %v (%v), want %s", st.seq, st.hash, h, err, st.want)
				}
			}
		})
	}
}
