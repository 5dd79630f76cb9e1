package handler

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sidelog/sidelog"
)

// maxBackoff caps the wait between retries of a failing batch, and is how
// often a store that stayed unavailable is probed (MaxRetryTime if less).
const maxBackoff = 2 * time.Second

// pipeline is the queue and the writer goroutine shared by a Handler and
// the handlers derived from it.
//
// The queue is a ring of items under a mutex: a producer copies its item
// into the slot after the last one; the writer converts items in place,
// without the lock, from the slots before that, and frees the slots once
// converted, so a batch that is being retried is outside the queue's
// bounds (at most one batch of it). BenchmarkQueue compares it with a
// channel.
type pipeline struct {
	w     sidelog.BatchWriter
	o     Options
	level slog.Leveler

	mu      sync.Mutex
	ring    []item
	head, n int
	bytes   int64
	enq     int64     // items ever queued
	line    []*waiter // producers blocked for room, first come first
	closed  bool
	// progress is when the writer last freed room; stalled is set when a
	// waiter gave up (no progress for BlockTimeout) and cleared by the
	// next progress.
	progress time.Time
	stalled  bool

	wake      chan struct{} // a full batch or a blocked producer
	flushReq  chan *flushWaiter
	closing   chan struct{} // closed by Close
	abort     chan struct{} // closed when Close's ctx ends
	done      chan struct{} // closed when the writer returns
	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	abortOnce sync.Once

	// Writer-goroutine state.
	conv      *converter
	batch     []sidelog.Record
	processed int64 // items written or failed
	waiters   []*flushWaiter
	down      bool      // the store stayed unavailable past MaxRetryTime
	lastProbe time.Time // when a down store was last tried
	perRecord int64     // the store's recent nanoseconds per record written

	written, dropped, failed, retries, batches atomic.Int64
	blocked, blockedNs                         atomic.Int64
	inWrite                                    atomic.Int64 // UnixNano when the running WriteBatch began; 0 between calls
	failing                                    atomic.Bool  // the last WriteBatch call failed
	inflight                                   atomic.Int64
	lastLat, maxLat                            atomic.Int64
	latency                                    latencyCounts

	fbMu sync.Mutex // serialises writes to the fallback
}

type flushWaiter struct {
	target int64
	done   chan struct{}
}

func newPipeline(w sidelog.BatchWriter, o Options) *pipeline {
	o.BatchSize = min(o.BatchSize, o.QueueSize)
	o.MaxBatchSize = min(max(o.MaxBatchSize, o.BatchSize), o.QueueSize)
	ctx, cancel := context.WithCancel(context.Background())
	p := &pipeline{
		w: w, o: o, level: o.Level,
		ring:     make([]item, o.QueueSize),
		wake:     make(chan struct{}, 1),
		flushReq: make(chan *flushWaiter),
		closing:  make(chan struct{}),
		abort:    make(chan struct{}),
		done:     make(chan struct{}),
		ctx:      ctx, cancel: cancel,
	}
	p.conv = newConverter(&p.o)
	go p.run()
	return p
}

// enqueue copies it into the queue, applying the overflow policy.
//
// Under Block a caller that finds the queue full, or finds others already
// waiting, joins the end of the waiters' line; the writer moves waiting
// items into the queue in that order as it frees room (grant), so a
// caller is never overtaken by a later one and never races for room. A
// waiter gives up only when the writer has made no progress for
// BlockTimeout; once one has, the writer counts as stalled and later
// callers are dropped at once, until it frees room again.
func (p *pipeline) enqueue(it *item) error {
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		p.fallbackItem(it)
		return ErrDropped
	case len(p.line) == 0 && p.fits(it.size):
		p.push(it)
		wake := p.n == p.o.BatchSize || p.bytes >= p.o.QueueBytes/2 && p.bytes-it.size < p.o.QueueBytes/2
		p.mu.Unlock()
		if wake {
			p.signal()
		}
		return nil
	case p.o.Overflow != Block || p.stalled:
		p.mu.Unlock()
		p.dropped.Add(1)
		return ErrDropped
	}
	return p.wait(it)
}

// waiter is a caller blocked for room, in the line of pipeline.waiters.
type waiter struct {
	it      *item
	ready   chan struct{} // closed once it is queued, or the pipeline closed
	granted bool          // guarded by mu: the writer queued it
}

// wait queues it behind the earlier waiters and waits for the writer to
// grant it room; the caller holds mu.
func (p *pipeline) wait(it *item) error {
	start := time.Now()
	w := &waiter{it: it, ready: make(chan struct{})}
	p.line = append(p.line, w)
	p.mu.Unlock()
	p.signal()

	timer := time.NewTimer(p.o.BlockTimeout)
	defer timer.Stop()
	for {
		select {
		case <-w.ready:
		case <-timer.C:
		}
		p.mu.Lock()
		if w.granted {
			p.mu.Unlock()
			p.blockedDone(start)
			return nil
		}
		if p.closed {
			p.removeWaiter(w)
			p.mu.Unlock()
			p.blockedDone(start)
			p.fallbackItem(it)
			return ErrDropped
		}
		since := start
		if p.progress.After(since) {
			since = p.progress
		}
		idle := time.Since(since)
		if idle < p.o.BlockTimeout {
			p.mu.Unlock()
			timer.Reset(p.o.BlockTimeout - idle) // the writer moved: wait on
			continue
		}
		if left := p.working(); left > 0 {
			p.mu.Unlock()
			timer.Reset(min(left, p.o.BlockTimeout)) // a slow batch, not a stall
			continue
		}
		p.stalled = true
		p.removeWaiter(w)
		p.mu.Unlock()
		p.blockedDone(start)
		p.dropped.Add(1)
		return ErrDropped
	}
}

func (p *pipeline) blockedDone(start time.Time) {
	p.blocked.Add(1)
	p.blockedNs.Add(int64(time.Since(start)))
}

// removeWaiter takes w out of the line; the caller holds mu.
func (p *pipeline) removeWaiter(w *waiter) {
	for i, x := range p.line {
		if x == w {
			copy(p.line[i:], p.line[i+1:])
			p.line[len(p.line)-1] = nil
			p.line = p.line[:len(p.line)-1]
			return
		}
	}
}

// grant moves waiting items into the freed room in the order they came,
// stopping at the first that does not fit; the caller holds mu.
func (p *pipeline) grant() {
	k := 0
	for ; k < len(p.line); k++ {
		w := p.line[k]
		if !p.fits(w.it.size) {
			break
		}
		p.push(w.it)
		w.granted = true
		close(w.ready)
	}
	if k > 0 {
		rest := copy(p.line, p.line[k:])
		clear(p.line[rest:])
		p.line = p.line[:rest]
	}
}

// push copies it after the last queued item; the caller holds mu and has
// checked that it fits.
func (p *pipeline) push(it *item) {
	i := p.head + p.n
	if i >= len(p.ring) {
		i -= len(p.ring)
	}
	p.ring[i] = *it
	p.n++
	p.bytes += it.size
	p.enq++
}

// fits reports whether an item of size bytes can join the queue now. A
// lone item always fits, however large.
func (p *pipeline) fits(size int64) bool {
	return !p.closed && p.n < len(p.ring) && (p.n == 0 || p.bytes+size <= p.o.QueueBytes)
}

func (p *pipeline) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run is the writer goroutine.
func (p *pipeline) run() {
	defer close(p.done)
	defer p.cancel()
	tick := time.NewTicker(p.o.FlushInterval)
	defer tick.Stop()
	for {
		all := false
		select {
		case <-p.wake:
		case <-tick.C:
			all = true
		case w := <-p.flushReq:
			p.waiters = append(p.waiters, w)
			all = true
		case <-p.closing:
			p.drain(true)
			p.release()
			return
		}
		p.drain(all)
	}
}

// drain writes full batches, or everything queued when all is set or
// someone waits for room.
func (p *pipeline) drain(all bool) {
	for {
		p.mu.Lock()
		head, n := p.head, min(p.n, p.batchCap())
		urgent := all || len(p.line) > 0 || p.closed || p.bytes >= p.o.QueueBytes/2
		p.mu.Unlock()
		if n == 0 || n < p.o.BatchSize && !urgent {
			break
		}
		p.writeSlots(head, n)
	}
	p.notifyWaiters()
}

// stallFactor times BlockTimeout is how long one WriteBatch call may run
// and still count as progress: a store that answers, however slowly, is
// working; one that has not answered for that long is stalled.
const stallFactor = 10

// working returns how much longer the current WriteBatch call counts as
// progress: while the store has not failed its last call and the call has
// run less than stallFactor × BlockTimeout. Waiting callers do not give up
// meanwhile: a batch that takes longer than BlockTimeout on a loaded
// machine (seconds for 16,384 records at load average 20) is not a stall.
func (p *pipeline) working() time.Duration {
	start := p.inWrite.Load()
	if start == 0 || p.failing.Load() {
		return 0
	}
	return time.Duration(start) + stallFactor*p.o.BlockTimeout - time.Duration(time.Now().UnixNano())
}

// batchCap is how many records the next batch may take: MaxBatchSize, or
// fewer when the store is slow, so that a batch is expected to take at
// most a quarter of BlockTimeout. Waiting producers see progress once per
// batch; a batch grown with the backlog on a loaded machine (6 s for
// 16,384 records at load average 20 on 2 cores) must not look like a
// stall to them.
func (p *pipeline) batchCap() int {
	if p.perRecord <= 0 {
		return p.o.MaxBatchSize
	}
	n := int64(p.o.BlockTimeout/4) / p.perRecord
	return int(min(max(n, int64(p.o.BatchSize)), int64(p.o.MaxBatchSize)))
}

// writeSlots converts the n items from head, frees their slots and stores
// them.
func (p *pipeline) writeSlots(head, n int) {
	recs := p.batch[:0]
	var size int64
	for k := 0; k < n; k++ {
		i := head + k
		if i >= len(p.ring) {
			i -= len(p.ring)
		}
		it := &p.ring[i]
		size += it.size
		recs = append(recs, p.conv.convert(it))
		*it = item{}
	}
	p.inflight.Store(int64(n))
	p.mu.Lock()
	p.head = (head + n) % len(p.ring)
	p.n -= n
	p.bytes -= size
	p.compact()
	p.progress, p.stalled = time.Now(), false
	p.grant()
	p.mu.Unlock()

	p.store(recs)
	p.inflight.Store(0)
	p.processed += int64(n)
	clear(recs)
	p.batch = recs[:0]
	p.notifyWaiters()
}

// compactAt is the slot index past which the writer moves a short queue
// back to the start of the ring.
const compactAt = 4096

// compact keeps the used slots at the start of the ring, so that a queue
// that is never deep touches only its first pages: a ring used all the way
// round would keep QueueSize slots (416 bytes each) resident. The writer
// calls it holding the lock; producers only touch slots under the lock.
func (p *pipeline) compact() {
	switch {
	case p.n == 0:
		p.head = 0
	case p.head >= compactAt && p.n <= p.o.BatchSize/4 && p.head+p.n <= len(p.ring):
		moved := copy(p.ring, p.ring[p.head:p.head+p.n])
		clear(p.ring[max(moved, p.head) : p.head+p.n])
		p.head = 0
	}
}

// store writes recs, retrying while the store is unavailable, and gives
// them to the fallback when it stays so past MaxRetryTime.
func (p *pipeline) store(recs []sidelog.Record) {
	if p.down && time.Since(p.lastProbe) < min(maxBackoff, p.o.MaxRetryTime) && !p.aborted() {
		p.fallback(recs)
		return
	}
	start := time.Now()
	backoff := 10 * time.Millisecond
	for {
		if p.aborted() {
			p.fallback(recs)
			return
		}
		err := p.writeBatch(recs)
		if err != nil {
			recs = p.unwritten(recs)
		}
		switch {
		case err == nil || len(recs) == 0:
			p.down = false
			return
		case sidelog.ErrorCode(err) == sidelog.EINVALID:
			p.split(recs)
			return
		case p.down || time.Since(start)+backoff > p.o.MaxRetryTime:
			p.down, p.lastProbe = true, time.Now()
			p.fallback(recs)
			return
		}
		p.retries.Add(1)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-p.abort:
			t.Stop()
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// writeBatch calls the store once and counts a success.
func (p *pipeline) writeBatch(recs []sidelog.Record) error {
	t0 := time.Now()
	p.inWrite.Store(t0.UnixNano())
	err := p.w.WriteBatch(p.ctx, recs)
	p.inWrite.Store(0)
	p.failing.Store(err != nil)
	if err != nil {
		return err
	}
	lat := int64(time.Since(t0))
	// A moving average of the store's time per record, for batchCap.
	if per := lat / int64(len(recs)); p.perRecord == 0 {
		p.perRecord = per
	} else {
		p.perRecord += (per - p.perRecord) / 4
	}
	p.lastLat.Store(lat)
	p.latency.observe(lat)
	if lat > p.maxLat.Load() {
		p.maxLat.Store(lat)
	}
	p.batches.Add(1)
	p.written.Add(int64(len(recs)))
	return nil
}

// unwritten returns the records of a failed batch that the store did not
// commit. A store writing one transaction per day segment may have
// committed some; it sets a record's ID only once it is committed, so a
// retry must not write those again.
func (p *pipeline) unwritten(recs []sidelog.Record) []sidelog.Record {
	keep := recs[:0]
	for _, r := range recs {
		if r.ID == 0 {
			keep = append(keep, r)
		}
	}
	p.written.Add(int64(len(recs) - len(keep)))
	return keep
}

// split stores a batch the store called invalid in halves, to find the
// records that cannot be stored and keep the others.
func (p *pipeline) split(recs []sidelog.Record) {
	if len(recs) == 1 {
		p.fallback(recs)
		return
	}
	for _, half := range [][]sidelog.Record{recs[:len(recs)/2], recs[len(recs)/2:]} {
		switch err := p.writeBatch(half); {
		case err == nil:
		case sidelog.ErrorCode(err) == sidelog.EINVALID:
			p.split(half)
		default:
			p.fallback(half)
		}
	}
}

func (p *pipeline) aborted() bool {
	select {
	case <-p.abort:
		return true
	default:
		return false
	}
}

// fallback writes recs to Options.Fallback as JSON lines and counts them
// as failed.
func (p *pipeline) fallback(recs []sidelog.Record) {
	p.failed.Add(int64(len(recs)))
	p.fbMu.Lock()
	defer p.fbMu.Unlock()
	var line []byte
	for i := range recs {
		b, err := json.Marshal(&recs[i])
		if err != nil {
			continue
		}
		line = append(append(line[:0], b...), '\n')
		p.o.Fallback.Write(line) // nowhere left to report a failure
	}
}

// fallbackItem converts one item on the caller's goroutine, after Close.
func (p *pipeline) fallbackItem(it *item) {
	c := newConverter(&p.o)
	p.fallback([]sidelog.Record{c.convert(it)})
}

func (p *pipeline) notifyWaiters() {
	keep := p.waiters[:0]
	for _, w := range p.waiters {
		if w.target <= p.processed {
			close(w.done)
		} else {
			keep = append(keep, w)
		}
	}
	clear(p.waiters[len(keep):])
	p.waiters = keep
}

// release answers every flush waiter when the writer stops.
func (p *pipeline) release() {
	for _, w := range p.waiters {
		close(w.done)
	}
	p.waiters = nil
	for {
		select {
		case w := <-p.flushReq:
			close(w.done)
		default:
			return
		}
	}
}

func (p *pipeline) flush(ctx context.Context) error {
	failed := p.failed.Load()
	p.mu.Lock()
	w := &flushWaiter{target: p.enq, done: make(chan struct{})}
	p.mu.Unlock()
	select {
	case p.flushReq <- w:
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-w.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if n := p.failed.Load() - failed; n > 0 {
		return sidelog.Errorf(sidelog.EUNAVAILABLE, "%d log records could not be stored and went to the fallback", n)
	}
	return nil
}

func (p *pipeline) close(ctx context.Context) error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		for _, w := range p.line {
			close(w.ready)
		}
		p.line = nil
		p.mu.Unlock()
		close(p.closing)
	})
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
	}
	p.abortOnce.Do(func() {
		close(p.abort)
		p.cancel()
	})
	<-p.done
	return ctx.Err()
}

func (p *pipeline) stats() Stats {
	p.mu.Lock()
	depth, bytes, waiting := p.n, p.bytes, len(p.line)
	p.mu.Unlock()
	return Stats{
		Written:          p.written.Load(),
		Dropped:          p.dropped.Load(),
		Failed:           p.failed.Load(),
		Retries:          p.retries.Load(),
		QueueDepth:       depth + int(p.inflight.Load()),
		QueueBytes:       bytes,
		Batches:          p.batches.Load(),
		Blocked:          p.blocked.Load(),
		BlockedTime:      time.Duration(p.blockedNs.Load()),
		Waiting:          waiting,
		LastBatchLatency: time.Duration(p.lastLat.Load()),
		MaxBatchLatency:  time.Duration(p.maxLat.Load()),
		BatchLatency:     p.latency.snapshot(),
		Redacted:         p.o.Redactor.Counts(),
	}
}
