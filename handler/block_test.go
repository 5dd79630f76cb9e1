package handler_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/sqlite"
)

// slowWriter is a real store that takes at least delay per batch: a
// writer that keeps making progress, only slowly.
type slowWriter struct {
	db    *sqlite.DB
	delay time.Duration
}

func (w slowWriter) WriteBatch(ctx context.Context, recs []sidelog.Record) error {
	time.Sleep(w.delay)
	return w.db.WriteBatch(ctx, recs)
}

// TestHandler_blockSlowWriter has 8 producers log into real files through
// a queue of 2 and a writer that needs over 150 ms a record, with a block
// timeout of 1 s: each caller waits behind the others for about eight
// batches, longer than the timeout, while the writer never stops. Nothing
// may be dropped.
func TestHandler_blockSlowWriter(t *testing.T) {
	t.Parallel()
	db, _ := MustOpenDB(t, sqlite.Options{})
	const producers, each = 8, 4
	h := MustNew(t, slowWriter{db, 150 * time.Millisecond}, &handler.Options{QueueSize: 2, BatchSize: 1, BlockTimeout: time.Second})
	l := slog.New(h)
	l.Info("warm up") // the first batch creates the day's files
	MustFlush(t, h)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				l.Info("slow writer", "producer", p, "i", i)
			}
		})
	}
	wg.Wait()
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := h.Stats()
	if st.Dropped != 0 || st.Failed != 0 || st.Written != producers*each+1 {
		t.Errorf("stats %+v: want %d written, 0 dropped, 0 failed", st, producers*each+1)
	}
	if st.Blocked == 0 || st.Blocked > producers*each || st.BlockedTime <= 0 || st.Waiting != 0 {
		t.Errorf("Blocked = %d, BlockedTime = %v, Waiting = %d: want some blocked calls and time, none waiting now",
			st.Blocked, st.BlockedTime, st.Waiting)
	}
	n, err := db.Count(context.Background(), sidelog.Filter{Text: "slow writer"})
	if err != nil {
		t.Fatal(err)
	}
	if n != producers*each {
		t.Errorf("%d records in the database, want %d", n, producers*each)
	}
}

// TestHandler_blockFIFO: callers blocked on a full queue get in in the
// order they came.
func TestHandler_blockFIFO(t *testing.T) {
	t.Parallel()
	g := newGateWriter()
	h := MustNew(t, g, &handler.Options{QueueSize: 10, BatchSize: 5, BlockTimeout: time.Minute})
	fillQueue(t, h, g)
	const waiters = 6
	errs := make(chan error, waiters)
	for i := range waiters {
		go func() { errs <- h.Handle(context.Background(), record(fmt.Sprint("waiter ", i))) }()
		waitFor(t, func() bool { return h.Stats().Waiting == i+1 })
	}
	close(g.open)
	for range waiters {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	MustFlush(t, h)
	var got []string
	for _, r := range g.records() {
		if len(r.Message) > 7 && r.Message[:7] == "waiter " {
			got = append(got, r.Message)
		}
	}
	for i := range waiters {
		if i >= len(got) || got[i] != fmt.Sprint("waiter ", i) {
			t.Fatalf("waiters stored in the order %q, want the order they came", got)
		}
	}
	if st := h.Stats(); st.Blocked != waiters || st.Dropped != 0 {
		t.Errorf("Blocked = %d, Dropped = %d, want %d and 0", st.Blocked, st.Dropped, waiters)
	}
}

// TestHandler_blockStall: a writer that stops freeing room makes a waiter
// give up after BlockTimeout; later callers are dropped at once while it
// stays stalled, and wait again once it moves.
func TestHandler_blockStall(t *testing.T) {
	t.Parallel()
	g := newGateWriter()
	h := MustNew(t, g, &handler.Options{QueueSize: 10, BatchSize: 5, BlockTimeout: 50 * time.Millisecond})
	fillQueue(t, h, g)
	start := time.Now()
	if err := h.Handle(context.Background(), record("first over")); !errors.Is(err, handler.ErrDropped) {
		t.Fatalf("Handle on a stalled writer = %v, want ErrDropped", err)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Errorf("first caller waited %v, want the block timeout", waited)
	}
	for range 20 {
		if err := h.Handle(context.Background(), record("later")); !errors.Is(err, handler.ErrDropped) {
			t.Fatalf("Handle while stalled = %v, want ErrDropped", err)
		}
	}
	if st := h.Stats(); st.Dropped != 21 || st.Blocked != 1 || st.BlockedTime < 50*time.Millisecond {
		t.Errorf("stats %+v: want 21 dropped, 1 blocked for the timeout", st)
	}
	close(g.open)
	MustFlush(t, h)
	if err := h.Handle(context.Background(), record("after")); err != nil {
		t.Errorf("Handle after the writer moved = %v", err)
	}
	MustFlush(t, h)
	if st := h.Stats(); st.Written != 16 {
		t.Errorf("Written = %d, want 16", st.Written)
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
	}
}

// sizesWriter blocks its first batch until open is closed and records
// every batch's size.
type sizesWriter struct {
	mu    sync.Mutex
	sizes []int
	first chan struct{}
	open  chan struct{}
}

func (w *sizesWriter) WriteBatch(ctx context.Context, recs []sidelog.Record) error {
	w.mu.Lock()
	w.sizes = append(w.sizes, len(recs))
	first := len(w.sizes) == 1
	w.mu.Unlock()
	if first {
		close(w.first)
		<-w.open
	}
	return nil
}

// TestHandler_batchGrowsWithBacklog: a writer that falls behind takes
// what is queued, up to MaxBatchSize, in one batch instead of BatchSize
// at a time.
func TestHandler_batchGrowsWithBacklog(t *testing.T) {
	t.Parallel()
	w := &sizesWriter{first: make(chan struct{}), open: make(chan struct{})}
	// A long block timeout: the first batch's wait at the gate would
	// otherwise make the store look slow and cap the batches.
	h := MustNew(t, w, &handler.Options{QueueSize: 5000, BatchSize: 10, MaxBatchSize: 1000, BlockTimeout: time.Hour})
	ctx := context.Background()
	for range 10 {
		h.Handle(ctx, record("first"))
	}
	<-w.first
	for range 2500 {
		if err := h.Handle(ctx, record("backlog")); err != nil {
			t.Fatal(err)
		}
	}
	close(w.open)
	MustFlush(t, h)
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.sizes) < 2 || w.sizes[1] != 1000 || slices.Max(w.sizes) > 1000 {
		t.Errorf("batch sizes %v: want the backlog in batches of up to 1000", w.sizes)
	}
	if st := h.Stats(); st.Written != 2510 {
		t.Errorf("Written = %d, want 2510", st.Written)
	}
}

// TestHandler_blockBatchLongerThanTimeout: each batch takes three times
// BlockTimeout (a loaded machine), yet the writer keeps answering: no
// caller may give up.
func TestHandler_blockBatchLongerThanTimeout(t *testing.T) {
	t.Parallel()
	db, _ := MustOpenDB(t, sqlite.Options{})
	h := MustNew(t, slowWriter{db, 300 * time.Millisecond}, &handler.Options{QueueSize: 2, BatchSize: 1, BlockTimeout: 100 * time.Millisecond})
	l := slog.New(h)
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			for i := range 3 {
				l.Info("slow batch", "producer", p, "i", i)
			}
		})
	}
	wg.Wait()
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := h.Stats(); st.Dropped != 0 || st.Written != 12 || st.Blocked == 0 {
		t.Errorf("stats %+v: want 12 written, 0 dropped, some blocked", st)
	}
}
