package sqlite

import (
	"context"
	"time"
)

// Checkpoints of a file's WAL run off the writer's path. The writer's
// connection has wal_autocheckpoint off; after a commit, once enough rows
// or time have gone by, a goroutine runs a PASSIVE checkpoint on a
// connection of its own while the writer goes on with the next batch
// (WAL allows a checkpoint beside a writer). The checkpoint's fsyncs —
// which waited behind the filesystem's work when retention unlinked a
// large day file, stalling the writer's batch by 40–180 ms — now delay
// no batch. When a checkpoint has copied every frame, the writer's next
// transaction starts the WAL over from its beginning, so the WAL stays
// about one checkpoint interval long.
const (
	// ckptRows is how many rows committed to a file start a checkpoint
	// (about 1,000 WAL pages, SQLite's default autocheckpoint).
	ckptRows = 2000
	// ckptEvery starts a checkpoint after a quieter spell with some rows.
	ckptEvery = 2 * time.Second
)

// ckptInline puts checkpoints back on the writer's connection (SQLite's
// autocheckpoint after its commits), as before: only for measuring the
// difference (BenchmarkScaleRetention with SIDELOG_RETENTION_BEFORE=1).
var ckptInline bool

// walLimit is how many WAL frames (pages) make the writer checkpoint
// before its next transaction: SQLite's own autocheckpoint length, so the
// WAL is as long as it was when the writer checkpointed after its commits.
var walLimit int64 = 1000

// catchUp checkpoints s's WAL on the writer's connection, outside any
// transaction, when background checkpoints left it long. The caller holds
// DB.wmu; s.w is open.
func (s *segment) catchUp(ctx context.Context) {
	if ckptInline || s.walFrames.Load() <= walLimit || s.db.cleaning.Load() > 0 {
		return
	}
	// Wait for a background checkpoint that is running: with it, SQLite
	// would answer busy, and under a steady load one nearly always runs.
	s.ckRun.Lock()
	defer s.ckRun.Unlock()
	var busy, log, done int64
	if err := s.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err == nil && busy == 0 && log == done {
		s.walFrames.Store(0)
	}
}

// committed counts n rows committed to s and starts a checkpoint when due.
// The caller holds DB.wmu.
func (s *segment) committed(n int) {
	if ckptInline {
		return
	}
	s.ckRows += int64(n)
	now := time.Now()
	if s.ckRows < ckptRows && now.Sub(s.ckLast) < ckptEvery {
		return
	}
	if !s.ckBusy.CompareAndSwap(false, true) {
		return // one is running; the next commit tries again
	}
	s.ckRows, s.ckLast = 0, now
	go s.checkpoint()
}

// checkpoint runs a PASSIVE checkpoint of the file's WAL. It holds swap
// for reading, so retention never closes or swaps the file under it.
func (s *segment) checkpoint() {
	defer s.ckBusy.Store(false)
	s.swap.RLock()
	defer s.swap.RUnlock()
	s.mu.Lock()
	if s.w == nil { // closed meanwhile: closing checkpointed
		s.mu.Unlock()
		return
	}
	if s.ck == nil {
		ck, err := openDB(s.path, false, int(s.db.opts.BusyTimeout/time.Millisecond))
		if err != nil {
			s.mu.Unlock()
			return // best effort: the WAL grows until the next try
		}
		ck.SetMaxOpenConns(1)
		s.ck = ck
	}
	ck := s.ck
	s.mu.Unlock()
	// A failure (busy, the handle closed meanwhile) leaves the frames for
	// the next checkpoint or the file's close.
	s.ckRun.Lock()
	defer s.ckRun.Unlock()
	var busy, log, done int64
	if err := ck.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err == nil {
		s.walFrames.Store(log)
	}
}

// closeCheckpointer closes the checkpoint connection, after any running
// checkpoint ends. The caller holds mu.
func (s *segment) closeCheckpointer() {
	// A running checkpoint's connection would outlive ck.Close and lock
	// the file for whoever opens it next (SQLite checkpoints and deletes
	// the WAL when the last connection closes): wait for it.
	s.ckRun.Lock()
	defer s.ckRun.Unlock()
	if s.ck != nil {
		s.ck.Close()
		s.ck = nil
	}
}
