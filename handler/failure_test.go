package handler_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
)

var errLocked = sidelog.Errorf(sidelog.EUNAVAILABLE, "database is locked")

func TestHandler_retryUnavailable(t *testing.T) {
	t.Parallel()
	w := &memWriter{}
	w.setFail(func(call int, _ []sidelog.Record) error {
		if call <= 3 {
			return errLocked
		}
		return nil
	})
	h := MustNew(t, w, nil)
	l := slog.New(h)
	for i := range 100 {
		l.Info("m", "i", i)
	}
	MustFlush(t, h)
	if st := h.Stats(); st.Written != 100 || st.Failed != 0 || st.Retries != 3 {
		t.Errorf("stats %+v, want 100 written after 3 retries", st)
	}
}

func TestHandler_unavailableThenRecovers(t *testing.T) {
	t.Parallel()
	var failing atomic.Bool
	failing.Store(true)
	w := &memWriter{}
	w.setFail(func(int, []sidelog.Record) error {
		if failing.Load() {
			return errLocked
		}
		return nil
	})
	fb := &syncBuffer{}
	const retry = 300 * time.Millisecond
	h := MustNew(t, w, &handler.Options{
		MaxRetryTime: retry, Fallback: fb, QueueSize: 1000, BatchSize: 100,
		BlockTimeout: 10 * time.Millisecond, FlushInterval: 10 * time.Millisecond,
	})
	l := slog.New(h)

	// While the store fails, callers never wait past the block timeout.
	var longest time.Duration
	logged := 0
	for end := time.Now().Add(2 * retry); time.Now().Before(end); {
		t0 := time.Now()
		l.Info("while down", "i", logged)
		longest = max(longest, time.Since(t0))
		logged++
	}
	if longest > 2*time.Second {
		t.Errorf("a caller waited %v while the store was down", longest)
	}
	ctx := context.Background()
	if err := h.Flush(ctx); sidelog.ErrorCode(err) != sidelog.EUNAVAILABLE {
		t.Errorf("Flush while down = %v, want EUNAVAILABLE", err)
	}
	down := h.Stats()
	if down.Failed == 0 || down.Written != 0 || down.Failed+down.Dropped != int64(logged) {
		t.Errorf("stats while down %+v, logged %d", down, logged)
	}
	if n := strings.Count(fb.String(), "\n"); int64(n) != down.Failed {
		t.Errorf("fallback has %d lines, Failed = %d", n, down.Failed)
	}
	if !strings.Contains(fb.String(), `"msg":"while down"`) {
		t.Errorf("fallback lacks the records: %.200s", fb.String())
	}

	failing.Store(false)
	time.Sleep(retry) // the writer probes a down store every MaxRetryTime
	for i := range 50 {
		l.Info("after", "i", i)
	}
	MustFlush(t, h)
	if st := h.Stats(); st.Written != 50 || st.Failed != down.Failed {
		t.Errorf("stats after recovery %+v, want 50 written", st)
	}
}

func TestHandler_invalidRecords(t *testing.T) {
	t.Parallel()
	w := &memWriter{}
	w.setFail(func(_ int, recs []sidelog.Record) error {
		for _, r := range recs {
			if r.Message == "bad" {
				return sidelog.Errorf(sidelog.EINVALID, "bad record")
			}
		}
		return nil
	})
	fb := &syncBuffer{}
	h := MustNew(t, w, &handler.Options{Fallback: fb})
	l := slog.New(h)
	for i := range 1000 {
		if i == 123 || i == 777 {
			l.Info("bad")
		} else {
			l.Info("good")
		}
	}
	if err := h.Flush(context.Background()); err == nil {
		t.Error("Flush = nil, want an error for the records in the fallback")
	}
	if st := h.Stats(); st.Written != 998 || st.Failed != 2 {
		t.Errorf("stats %+v, want 998 written and 2 failed", st)
	}
	if got := strings.Count(fb.String(), `"msg":"bad"`); got != 2 {
		t.Errorf("fallback has %d bad records, want 2", got)
	}
}

// hangWriter never returns until its context ends.
type hangWriter struct{}

func (hangWriter) WriteBatch(ctx context.Context, _ []sidelog.Record) error {
	<-ctx.Done()
	return sidelog.Errorf(sidelog.EUNAVAILABLE, "gave up: %v", ctx.Err())
}

func TestHandler_closeDeadline(t *testing.T) {
	t.Parallel()
	fb := &syncBuffer{}
	h := handler.New(hangWriter{}, &handler.Options{Fallback: fb})
	l := slog.New(h)
	for range 3000 {
		l.Info("m")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := h.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want the deadline", err)
	}
	if st := h.Stats(); st.Failed != 3000 || st.QueueDepth != 0 {
		t.Errorf("stats %+v, want all 3000 in the fallback", st)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

// partialWriter commits the first half of a batch and then fails, as a
// store writing one transaction per day segment may.
type partialWriter struct {
	memWriter
	failed atomic.Bool
}

func (w *partialWriter) WriteBatch(ctx context.Context, recs []sidelog.Record) error {
	if len(recs) > 1 && w.failed.CompareAndSwap(false, true) {
		w.memWriter.WriteBatch(ctx, recs[:len(recs)/2])
		return errLocked
	}
	return w.memWriter.WriteBatch(ctx, recs)
}

func TestHandler_partialCommitNotRepeated(t *testing.T) {
	t.Parallel()
	w := &partialWriter{}
	h := MustNew(t, w, nil)
	l := slog.New(h)
	for i := range 100 {
		l.Info("m", "i", i)
	}
	MustFlush(t, h)
	seen := map[string]bool{}
	for _, r := range w.records() {
		if seen[string(r.Attrs)] {
			t.Fatalf("record %s written twice", r.Attrs)
		}
		seen[string(r.Attrs)] = true
	}
	if st := h.Stats(); len(seen) != 100 || st.Written != 100 {
		t.Errorf("%d distinct records, stats %+v; want 100", len(seen), st)
	}
}
