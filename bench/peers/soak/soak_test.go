package main

import (
	"context"
	"testing"
	"time"
)

// A few seconds of the soak: everything logged is stored, nothing is
// dropped, the reader's queries and the cleanups run without errors, and
// the cleanups remove the prefilled days.
func TestSoakShort(t *testing.T) {
	r, err := Run(context.Background(), Config{
		Dir:          t.TempDir(),
		Duration:     3 * time.Second,
		Rate:         2000,
		Producers:    4,
		QPS:          10,
		Prefill:      20_000,
		PrefillDays:  20,
		CleanupEvery: time.Second,
		ShrinkDays:   5,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Logged == 0 || r.Lost != 0 || r.Dropped != 0 || r.Failed != 0 {
		t.Errorf("logged %d, stored %d, lost %d, dropped %d, failed %d", r.Logged, r.Stored, r.Lost, r.Dropped, r.Failed)
	}
	if r.Queries == 0 || r.QueryErrors != 0 {
		t.Errorf("%d queries, %d errors", r.Queries, r.QueryErrors)
	}
	var removed int64
	for _, c := range r.Cleanups {
		removed += c.Removed
	}
	if len(r.Cleanups) == 0 || r.CleanupErrors != 0 || removed == 0 {
		t.Errorf("%d cleanups removed %d records; %d errors", len(r.Cleanups), removed, r.CleanupErrors)
	}
	if len(r.RSS) == 0 || r.RSS[0] <= 0 {
		t.Errorf("no memory samples: %v", r.RSS)
	}
}
