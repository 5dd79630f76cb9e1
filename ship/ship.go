// Package ship forwards the records of a sidelog log database to an
// OpenTelemetry Collector (or any OTLP endpoint) over OTLP, with the
// OpenTelemetry Go SDK's own log exporters (HTTP/protobuf or gRPC).
//
// The log database stays the local buffer: a Shipper reads new records
// from it by a position saved in the database after each acknowledged
// batch, so a restart resumes where it stopped. Nothing is skipped, and the
// only duplicates after a crash are the records of the last batch sent but
// not yet acknowledged. Records of one database are sent in write order,
// one batch at a time; a failed batch is sent again, with backoff, until it
// is acknowledged. What the application's redaction removed never reached
// the database, and what purge or retention removed before it was shipped
// is never read. See docs/shipping.md.
package ship

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/sidelog/sidelog"
)

// Source is the log database a Shipper reads; *sqlite.DB implements it.
type Source interface {
	sidelog.PositionReader
	// LoadPosition returns the position saved under name, nil if none.
	LoadPosition(ctx context.Context, name string) (sidelog.Position, error)
	// SavePosition saves p under name, atomically.
	SavePosition(ctx context.Context, name string, p sidelog.Position) error
	// Lost returns how many records retention removed before the
	// follower name read them.
	Lost(ctx context.Context, name string) (int64, error)
}

// Options configure a Shipper. Endpoint is required; the rest has defaults.
type Options struct {
	// Endpoint is the OTLP endpoint's URL: "http://collector:4318" for
	// HTTP (the path /v1/logs is added when the URL has none),
	// "http://collector:4317" for gRPC. An https URL uses TLS.
	Endpoint string
	// Protocol is ProtocolHTTP (the default) or ProtocolGRPC.
	Protocol Protocol
	// Headers are sent with every request (an API key, a tenant).
	Headers map[string]string
	// TLS configures TLS for https endpoints (a private CA, a client
	// certificate); nil uses the system's roots.
	TLS *TLSConfig
	// Compression is "gzip" (the default; HTTP requests are compressed
	// at gzip's fastest level) or "none".
	Compression string

	// ServiceName, ServiceVersion, HostName and Environment become the
	// resource attributes service.name, service.version, host.name and
	// deployment.environment.name. HostName defaults to os.Hostname().
	ServiceName, ServiceVersion, HostName, Environment string
	// ResourceAttrs are further resource attributes.
	ResourceAttrs map[string]string

	// Name is the follower name the position is saved under; two
	// shippers of one database to different places need different
	// names. Default "otlp".
	Name string
	// BatchSize is the number of records per export request; default 1000.
	BatchSize int
	// Interval is how often the database is asked for new records when
	// the shipper has caught up; default 1s.
	Interval time.Duration
	// MinBackoff and MaxBackoff bound the wait before sending a failed
	// batch again, doubling from the first to the second with jitter;
	// defaults 250ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds one export request; default 10s.
	Timeout time.Duration
	// OnError, when set, is told about each failed export or database
	// read. Logging it through sidelog is fine but adds records to ship.
	OnError func(error)
}

// Protocol is an OTLP transport.
type Protocol string

// The OTLP transports, named as in OTEL_EXPORTER_OTLP_PROTOCOL.
const (
	ProtocolHTTP Protocol = "http/protobuf"
	ProtocolGRPC Protocol = "grpc"
)

// Stats are a Shipper's counters, for a metrics endpoint.
type Stats struct {
	Shipped    int64         // records acknowledged by the endpoint
	Batches    int64         // export requests acknowledged
	Retried    int64         // export requests sent again after a failure
	Failed     int64         // export requests that failed (each is retried)
	Lost       int64         // records retention removed before they were shipped
	LagRecords int64         // records written but not yet acknowledged
	Lag        time.Duration // age of the oldest record not yet acknowledged
	LastError  string        // the last failure, "" after a success
}

// Shipper ships one log database. Run it in a goroutine, or call Drain.
type Shipper struct {
	src      Source
	opts     Options
	exp      sdklog.Exporter
	lp       *sdklog.LoggerProvider
	template sdklog.Record // resource, scope and limits; no content

	shipped, batches, retried, failed atomic.Int64
	lagRecords, lagNanos, lost        atomic.Int64
	mu                                sync.Mutex // guards lastErr
	lastErr                           string
	exporting                         sync.Mutex // one request at a time
}

// New returns a Shipper of src configured by opts. It connects lazily: an
// unreachable endpoint is not an error here.
func New(src Source, opts Options) (*Shipper, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	exp, err := newExporter(opts)
	if err != nil {
		return nil, err
	}
	res, err := resource.Merge(resource.Empty(), resource.NewSchemaless(resourceAttrs(opts)...))
	if err != nil {
		return nil, fmt.Errorf("ship: resource: %w", err)
	}
	s := &Shipper{src: src, opts: opts, exp: exp}
	// The SDK's logger makes one record with the resource, the scope and
	// no limits; each record shipped starts as a copy of it. (Emitting
	// every record through the logger cost a copy per attribute.)
	coll := &collector{}
	s.lp = sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(coll),
		sdklog.WithAttributeCountLimit(-1), sdklog.WithAttributeValueLengthLimit(-1), sdklog.WithAllowKeyDuplication())
	s.lp.Logger("github.com/sidelog/sidelog/ship").Emit(context.Background(), otellog.Record{})
	if len(coll.recs) != 1 {
		return nil, errors.New("ship: the OpenTelemetry logger made no record")
	}
	s.template = coll.recs[0]
	return s, nil
}

func (o Options) withDefaults() (Options, error) {
	if o.Endpoint == "" {
		return o, sidelog.Errorf(sidelog.EINVALID, "ship: no OTLP endpoint")
	}
	if o.Protocol == "" {
		o.Protocol = ProtocolHTTP
	}
	if o.Protocol != ProtocolHTTP && o.Protocol != ProtocolGRPC {
		return o, sidelog.Errorf(sidelog.EINVALID, "ship: protocol %q (want %s or %s)", o.Protocol, ProtocolHTTP, ProtocolGRPC)
	}
	if o.Compression == "" {
		o.Compression = "gzip"
	}
	if o.Compression != "gzip" && o.Compression != "none" {
		return o, sidelog.Errorf(sidelog.EINVALID, "ship: compression %q (want gzip or none)", o.Compression)
	}
	if o.Name == "" {
		o.Name = "otlp"
	}
	if o.HostName == "" {
		o.HostName, _ = os.Hostname()
	}
	if o.ServiceName == "" {
		o.ServiceName = "unknown_service"
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Interval, time.Second)
	def(&o.MinBackoff, 250*time.Millisecond)
	def(&o.MaxBackoff, 30*time.Second)
	def(&o.Timeout, 10*time.Second)
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	return o, nil
}

func resourceAttrs(o Options) []attribute.KeyValue {
	kv := []attribute.KeyValue{attribute.String("service.name", o.ServiceName)}
	for k, v := range map[string]string{"service.version": o.ServiceVersion, "host.name": o.HostName, "deployment.environment.name": o.Environment} {
		if v != "" {
			kv = append(kv, attribute.String(k, v))
		}
	}
	for k, v := range o.ResourceAttrs {
		kv = append(kv, attribute.String(k, v))
	}
	return kv
}

// Run ships new records until ctx ends, then returns nil. Failed exports
// and database errors are retried with backoff and reported to OnError;
// Run returns an error only when the saved position cannot be read. When
// ctx ends during an export, that request is allowed to finish (within
// Timeout) and its position saved, so a clean shutdown sends no duplicate.
func (s *Shipper) Run(ctx context.Context) error {
	_, err := s.follow(ctx, 0, false)
	return err
}

// Drain ships every record written so far and returns how many it
// shipped. It gives up with the last error when no batch was acknowledged
// for giveUp (0: keep trying until ctx ends). The CLI's ship command uses
// it to backfill a database.
func (s *Shipper) Drain(ctx context.Context, giveUp time.Duration) (int64, error) {
	return s.follow(ctx, giveUp, true)
}

// batch is one read of the database, converted for the exporter.
type batch struct {
	n    int              // records read
	out  []sdklog.Record  // their OTLP form
	next sidelog.Position // the position after them
	err  error
}

// readAhead reads and converts the batch after pos in a goroutine of its
// own, so that it is ready when the batch before it was acknowledged: the
// database read and the conversion of one batch overlap the request of
// the one before, which is what keeps a shipper up with a busy
// application. Batches are still sent one at a time, in order.
func (s *Shipper) readAhead(ctx context.Context, pos sidelog.Position) <-chan batch {
	ch := make(chan batch, 1)
	go func() {
		recs, next, err := s.src.ReadAfter(ctx, pos, s.opts.BatchSize)
		if err != nil {
			ch <- batch{err: fmt.Errorf("ship: read: %w", err)}
			return
		}
		b := batch{n: len(recs), next: next}
		if len(recs) > 0 {
			b.out = s.prepare(recs)
		}
		ch <- b
	}()
	return ch
}

// follow ships from the saved position: until ctx ends (Run), or until
// every record written so far is shipped (Drain, drain set). It returns
// the number of records shipped.
func (s *Shipper) follow(ctx context.Context, giveUp time.Duration, drain bool) (int64, error) {
	pos, err := s.src.LoadPosition(ctx, s.opts.Name)
	if err != nil {
		return 0, fmt.Errorf("ship: %w", err)
	}
	var total int64
	var lastLag time.Time
	ahead := s.readAhead(ctx, pos)
	// retry handles an error of a read or of saving a position: Drain
	// returns it; Run reports it, waits and reads again from pos.
	retry := func(err error) bool {
		if drain || ctx.Err() != nil {
			return false
		}
		s.fail(err)
		sleep(ctx, s.opts.Interval)
		ahead = s.readAhead(ctx, pos)
		return true
	}
	for {
		b := <-ahead
		switch {
		case !drain && ctx.Err() != nil:
			return total, nil
		case b.err != nil:
			if retry(b.err) {
				continue
			}
			if drain {
				return total, b.err
			}
			return total, nil
		}
		if b.n > 0 {
			ahead = s.readAhead(ctx, b.next)
			retried := s.retried.Load()
			if err := s.send(ctx, b.out, b.n, pos, giveUp); err != nil {
				<-ahead
				if drain {
					return total, err
				}
				return total, nil // only when ctx ended
			}
			if s.retried.Load() != retried {
				// The endpoint was away a while: read the next batch
				// again, so that what a purge removed meanwhile stays.
				<-ahead
				ahead = s.readAhead(ctx, b.next)
			}
		}
		if b.n > 0 || !samePosition(pos, b.next) {
			if err := s.src.SavePosition(context.WithoutCancel(ctx), s.opts.Name, b.next); err != nil {
				// The batch stays unacknowledged: it is sent again, a duplicate.
				err = fmt.Errorf("ship: save position: %w", err)
				if b.n > 0 {
					<-ahead // read from a position that was not saved
				}
				if retry(err) {
					continue
				}
				if drain {
					return total, err
				}
				return total, nil
			}
		}
		total += int64(b.n)
		pos = b.next
		if b.n == 0 || time.Since(lastLag) >= s.opts.Interval {
			s.updateLag(ctx, pos)
			lastLag = time.Now()
		}
		if b.n == 0 {
			if drain {
				return total, nil
			}
			sleep(ctx, s.opts.Interval)
			ahead = s.readAhead(ctx, pos)
		}
	}
}

// prepare converts recs to the SDK's records: copies of the template,
// filled in by convert.
func (s *Shipper) prepare(recs []sidelog.Record) []sdklog.Record {
	out := make([]sdklog.Record, len(recs))
	kv := make([]attribute.KeyValue, 0, 32)
	for i := range recs {
		out[i] = s.template
		kv = convert(&out[i], &recs[i], kv)
	}
	return out
}

// Export sends recs as one OTLP request, once, and returns the endpoint's
// answer. Run and Drain send with retries; it is exported for tests and
// tools that ship records of their own choosing.
func (s *Shipper) Export(ctx context.Context, recs []sidelog.Record) error {
	return s.export(ctx, s.prepare(recs))
}

func (s *Shipper) export(ctx context.Context, out []sdklog.Record) error {
	s.exporting.Lock()
	defer s.exporting.Unlock()
	// A request under way finishes even when ctx ends: abandoning it
	// after the endpoint took it would only make a duplicate.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.Timeout)
	defer cancel()
	return s.exp.Export(ctx, out)
}

// send exports a batch of n records until it is acknowledged, backing off
// between attempts; it gives up when ctx ends or, with giveUp set, after
// that long without an acknowledgement.
func (s *Shipper) send(ctx context.Context, out []sdklog.Record, n int, pos sidelog.Position, giveUp time.Duration) error {
	start := time.Now()
	wait := s.opts.MinBackoff
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			s.retried.Add(1)
		}
		err := s.export(ctx, out)
		if err == nil {
			s.shipped.Add(int64(n))
			s.batches.Add(1)
			s.mu.Lock()
			s.lastErr = ""
			s.mu.Unlock()
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.failed.Add(1)
		s.fail(fmt.Errorf("ship: export %d records: %w", n, err))
		s.updateLag(ctx, pos) // the lag grows while the endpoint is away
		if giveUp > 0 && time.Since(start) >= giveUp {
			return fmt.Errorf("ship: gave up after %s: %w", giveUp, err)
		}
		if !sleep(ctx, jitter(wait)) {
			return ctx.Err()
		}
		wait = min(2*wait, s.opts.MaxBackoff)
	}
}

func (s *Shipper) fail(err error) {
	s.mu.Lock()
	s.lastErr = err.Error()
	s.mu.Unlock()
	if s.opts.OnError != nil {
		s.opts.OnError(err)
	}
}

// updateLag refreshes the lag and lost counters from the database.
func (s *Shipper) updateLag(ctx context.Context, pos sidelog.Position) {
	n, oldest, err := s.src.Backlog(ctx, pos)
	if err != nil {
		return
	}
	s.lagRecords.Store(n)
	if n == 0 {
		s.lagNanos.Store(0)
	} else {
		s.lagNanos.Store(int64(max(time.Since(oldest), 0)))
	}
	if lost, err := s.src.Lost(ctx, s.opts.Name); err == nil {
		s.lost.Store(lost)
	}
}

// Stats returns the shipper's counters. The lag is as of the last check:
// after each batch and at least every Interval.
func (s *Shipper) Stats() Stats {
	s.mu.Lock()
	last := s.lastErr
	s.mu.Unlock()
	return Stats{
		Shipped: s.shipped.Load(), Batches: s.batches.Load(), Retried: s.retried.Load(), Failed: s.failed.Load(),
		Lost: s.lost.Load(), LagRecords: s.lagRecords.Load(), Lag: time.Duration(s.lagNanos.Load()), LastError: last,
	}
}

// Close releases the exporter's connections. Stop Run (cancel its
// context) first.
func (s *Shipper) Close(ctx context.Context) error {
	return errors.Join(s.exp.Shutdown(ctx), s.lp.Shutdown(ctx))
}

// collector is the LoggerProvider's processor: it keeps the records
// emitted (New emits one, the template).
type collector struct{ recs []sdklog.Record }

func (c *collector) OnEmit(_ context.Context, r *sdklog.Record) error {
	c.recs = append(c.recs, r.Clone())
	return nil
}
func (c *collector) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (c *collector) Shutdown(context.Context) error                         { return nil }
func (c *collector) ForceFlush(context.Context) error                       { return nil }

func samePosition(a, b sidelog.Position) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// jitter spreads d over [d/2, d), so hosts that lost the same endpoint do
// not come back in step.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}
