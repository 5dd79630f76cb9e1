package handler_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
)

// gateWriter blocks every WriteBatch until open is closed, and reports on
// entered when a call starts.
type gateWriter struct {
	memWriter
	entered chan struct{}
	open    chan struct{}
}

func newGateWriter() *gateWriter {
	return &gateWriter{entered: make(chan struct{}, 100), open: make(chan struct{})}
}

func (g *gateWriter) WriteBatch(ctx context.Context, recs []sidelog.Record) error {
	g.entered <- struct{}{}
	select {
	case <-g.open:
	case <-ctx.Done():
		return sidelog.Errorf(sidelog.EUNAVAILABLE, "cancelled")
	}
	return g.memWriter.WriteBatch(ctx, recs)
}

func record(msg string) slog.Record {
	return slog.NewRecord(time.Now(), slog.LevelInfo, msg, 0)
}

// fillQueue makes the writer block in WriteBatch with one batch of 5 and
// fills the queue of 10 behind it.
func fillQueue(t *testing.T, h *handler.Handler, g *gateWriter) {
	t.Helper()
	ctx := context.Background()
	for range 5 {
		if err := h.Handle(ctx, record("first")); err != nil {
			t.Fatal(err)
		}
	}
	<-g.entered
	for range 10 {
		if err := h.Handle(ctx, record("queued")); err != nil {
			t.Fatal(err)
		}
	}
	if st := h.Stats(); st.QueueDepth != 15 {
		t.Fatalf("QueueDepth = %d, want 15", st.QueueDepth)
	}
}

func TestHandler_overflowBlock(t *testing.T) {
	t.Parallel()
	g := newGateWriter()
	h := MustNew(t, g, &handler.Options{QueueSize: 10, BatchSize: 5, BlockTimeout: 50 * time.Millisecond})
	fillQueue(t, h, g)

	start := time.Now()
	err := h.Handle(context.Background(), record("over"))
	waited := time.Since(start)
	if !errors.Is(err, handler.ErrDropped) {
		t.Fatalf("Handle on a full queue = %v, want ErrDropped", err)
	}
	if waited < 50*time.Millisecond || waited > 5*time.Second {
		t.Errorf("Handle waited %v, want the block timeout of 50ms", waited)
	}
	if st := h.Stats(); st.Dropped != 1 {
		t.Errorf("Dropped = %d, want 1", st.Dropped)
	}

	// A caller that waits gets in once the writer frees room.
	g2 := newGateWriter()
	h2 := MustNew(t, g2, &handler.Options{QueueSize: 10, BatchSize: 5, BlockTimeout: time.Minute})
	fillQueue(t, h2, g2)
	done := make(chan error)
	go func() { done <- h2.Handle(context.Background(), record("waits")) }()
	time.Sleep(20 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Handle returned %v before room freed", err)
	default:
	}
	close(g2.open)
	close(g.open)
	if err := <-done; err != nil {
		t.Errorf("blocked Handle = %v, want nil once room freed", err)
	}

	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := h.Stats(); st.Written != 15 || st.Dropped != 1 || st.Failed != 0 {
		t.Errorf("stats %+v, want 15 written, 1 dropped", st)
	}
}

func TestHandler_overflowDropNewest(t *testing.T) {
	t.Parallel()
	g := newGateWriter()
	h := MustNew(t, g, &handler.Options{QueueSize: 10, BatchSize: 5, Overflow: handler.DropNewest, BlockTimeout: time.Hour})
	fillQueue(t, h, g)
	for range 100 {
		if err := h.Handle(context.Background(), record("over")); !errors.Is(err, handler.ErrDropped) {
			t.Fatalf("Handle = %v, want ErrDropped", err)
		}
	}
	close(g.open)
	MustFlush(t, h)
	if st := h.Stats(); st.Written != 15 || st.Dropped != 100 {
		t.Errorf("stats %+v, want 15 written, 100 dropped", st)
	}
}

// TestHandler_overflowConcurrent has many callers meet a stuck store:
// none waits past the block timeout by much, nothing is lost uncounted.
func TestHandler_overflowConcurrent(t *testing.T) {
	t.Parallel()
	g := newGateWriter()
	h := MustNew(t, g, &handler.Options{QueueSize: 100, BatchSize: 10, BlockTimeout: 20 * time.Millisecond})
	go func() { // let the writer through now and then
		for range g.entered {
		}
	}()
	l := slog.New(h)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var longest time.Duration
	for range 8 {
		wg.Go(func() {
			for i := range 200 {
				t0 := time.Now()
				l.Info("m", "i", i)
				mu.Lock()
				longest = max(longest, time.Since(t0))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if longest > 5*time.Second {
		t.Errorf("a caller waited %v", longest)
	}
	close(g.open)
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := h.Stats(); st.Written+st.Dropped+st.Failed != 1600 || st.Dropped == 0 {
		t.Errorf("stats %+v: want 1600 accounted for, some dropped", st)
	}
}

func TestHandler_queueBytes(t *testing.T) {
	t.Parallel()
	g := newGateWriter()
	h := MustNew(t, g, &handler.Options{QueueBytes: 1 << 20, BatchSize: 1, Overflow: handler.DropNewest})
	big := string(make([]byte, 300<<10))
	ctx := context.Background()
	h.Handle(ctx, record("first")) // the writer holds this one
	<-g.entered
	var queued int
	for range 10 {
		if h.Handle(ctx, record(big)) == nil {
			queued++
		}
	}
	if queued != 3 {
		t.Errorf("queued %d records of 300 KiB under a 1 MiB bound, want 3", queued)
	}
	if st := h.Stats(); st.QueueBytes > 1<<20 {
		t.Errorf("QueueBytes = %d", st.QueueBytes)
	}
	close(g.open)
}
