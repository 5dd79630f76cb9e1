package otelcol_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/ship"
	"github.com/sidelog/sidelog/sqlite"
)

const batchSize = 1000

// host is one application host: its log database and its shipper.
type host struct {
	name     string
	path     string
	protocol ship.Protocol
	endpoint string
	db       *sqlite.DB
	sh       *ship.Shipper
	cancel   context.CancelFunc
	done     chan error
}

func (h *host) open(t *testing.T) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), h.path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sh, err := ship.New(db, ship.Options{
		Endpoint: h.endpoint, Protocol: h.protocol, ServiceName: "saas", ServiceVersion: "1.0.0", HostName: h.name,
		BatchSize: batchSize, Interval: 50 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.db, h.sh, h.cancel, h.done = db, sh, cancel, make(chan error, 1)
	go func() { h.done <- sh.Run(ctx) }()
}

// close stops the shipper (a request under way finishes) and closes the
// database, as the application does on shutdown.
func (h *host) close(t *testing.T) {
	t.Helper()
	if h.db == nil {
		return
	}
	h.cancel()
	if err := <-h.done; err != nil {
		t.Error(err)
	}
	h.sh.Close(context.Background())
	h.db.Close()
	h.db = nil
}

// record returns the i-th record of a host: every column used, in
// combinations that vary with i.
func record(hostName string, i int, at time.Time) sidelog.Record {
	r := sidelog.Record{
		Time: at, Level: slog.Level(4*(i%4) - 4), Kind: sidelog.Kind(i % 4), Logger: []string{"saas", "http", "audit", "store"}[i%4],
		Message: fmt.Sprintf("%s event %d: %s", hostName, i, []string{"created", "updated", "listed", "failed ünïcode ✓"}[i%4]),
	}
	if i%3 != 0 {
		r.RequestID = fmt.Sprintf("req-%s-%d", hostName, i)
		r.TraceID = fmt.Sprintf("%032x", 1_000_000+i)
		r.SpanID = fmt.Sprintf("%016x", 7+i)
		r.UserID, r.TenantID = fmt.Sprint(i%97), fmt.Sprint(i%5)
	}
	if r.Kind == sidelog.KindRequest {
		r.Method = []string{"GET", "POST", "DELETE"}[i%3]
		r.Path = fmt.Sprintf("/projects/%d", i%500)
		r.Route = r.Method + " /projects/{id}"
		r.Status = []int{200, 201, 404, 500}[i%4/2*2+i%2]
		r.Duration = time.Duration(1000 + i*37)
		r.ClientIP = fmt.Sprintf("192.0.2.%d", i%250)
		r.UserAgent = "Mozilla/5.0 (test)"
	}
	if i%7 == 0 {
		r.Error = fmt.Sprintf("pq: duplicate key %d\n\tat store.go:42", i)
	}
	if i%2 == 0 {
		r.Attrs = json.RawMessage(fmt.Sprintf(`{"bytes":%d,"ratio":%g,"ok":%t,"org":{"id":%d,"name":"acme"},"tags":["a",%d],"big":1e300}`,
			i*3, float64(i)/8, i%4 == 0, i%11, i))
	}
	return r
}

// expectAttrs is the attribute set a record must arrive with, built here
// from the documented mapping, not by the shipper's code.
func expectAttrs(t *testing.T, r sidelog.Record) map[string]any {
	m := map[string]any{"sidelog.record.id": r.ID, "sidelog.kind": r.Kind.String()}
	for k, v := range map[string]string{
		"sidelog.logger": r.Logger, "sidelog.request_id": r.RequestID, "user.id": r.UserID, "sidelog.tenant_id": r.TenantID,
		"http.request.method": r.Method, "url.path": r.Path, "http.route": r.Route, "client.address": r.ClientIP,
		"user_agent.original": r.UserAgent, "exception.message": r.Error,
	} {
		if v != "" {
			m[k] = v
		}
	}
	if r.Status != 0 {
		m["http.response.status_code"] = int64(r.Status)
	}
	if r.Duration != 0 {
		m["sidelog.duration_ns"] = int64(r.Duration)
	}
	if len(r.Attrs) > 0 {
		d := json.NewDecoder(bytes.NewReader(r.Attrs))
		d.UseNumber()
		var obj map[string]any
		if err := d.Decode(&obj); err != nil {
			t.Fatal(err)
		}
		for k, v := range obj {
			m[k] = normalise(v)
		}
	}
	return m
}

func normalise(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = normalise(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = normalise(v[k])
		}
	}
	return v
}

// checkRecord compares one received record with the stored one.
func checkRecord(t *testing.T, res map[string]any, lr plog.LogRecord, r sidelog.Record, hostName string) {
	t.Helper()
	wantRes := map[string]any{"service.name": "saas", "service.version": "1.0.0", "host.name": hostName}
	if !reflect.DeepEqual(res, wantRes) {
		t.Fatalf("record %d: resource %v, want %v", r.ID, res, wantRes)
	}
	sev := min(max(int(r.Level)+9, 1), 24)
	if lr.Timestamp().AsTime() != r.Time || lr.ObservedTimestamp().AsTime() != r.Time || int(lr.SeverityNumber()) != sev ||
		lr.SeverityText() != r.Level.String() || lr.Body().Str() != r.Message {
		t.Fatalf("record %d: time %v severity %d %q body %q; stored %+v", r.ID, lr.Timestamp().AsTime(), lr.SeverityNumber(), lr.SeverityText(), lr.Body().Str(), r)
	}
	traceID, spanID := "", ""
	if !lr.TraceID().IsEmpty() {
		tid, sid := lr.TraceID(), lr.SpanID()
		traceID, spanID = hex.EncodeToString(tid[:]), hex.EncodeToString(sid[:])
	}
	if traceID != r.TraceID || spanID != r.SpanID {
		t.Fatalf("record %d: trace %q span %q, stored %q %q", r.ID, traceID, spanID, r.TraceID, r.SpanID)
	}
	if got, want := lr.Attributes().AsRaw(), expectAttrs(t, r); !reflect.DeepEqual(got, want) {
		t.Fatalf("record %d: attributes\n got %v\nwant %v", r.ID, got, want)
	}
}

// TestShip_TwoHostsThroughCollector ships 100,000 records from two hosts
// (one over HTTP, one over gRPC) through a real Collector that is stopped
// and restarted in the middle, while each host's application restarts
// once. Every record arrives with every field, in order per host, with at
// most one batch of duplicates per host.
func TestShip_TwoHostsThroughCollector(t *testing.T) {
	total := 100_000
	if raceEnabled {
		total /= 5
	}
	perHost, chunk := total/2, 1000
	col := newCollector(t)
	col.start()
	dir := t.TempDir()
	hosts := []*host{
		{name: "app-1", path: filepath.Join(dir, "app-1.db"), protocol: ship.ProtocolHTTP, endpoint: "http://" + col.httpAddr},
		{name: "app-2", path: filepath.Join(dir, "app-2.db"), protocol: ship.ProtocolGRPC, endpoint: "http://" + col.grpcAddr},
	}
	for _, h := range hosts {
		h.open(t)
		defer h.close(t)
	}
	chunks := perHost / chunk
	start := time.Now().UTC().Truncate(time.Second)
	for c := range chunks {
		switch c {
		case chunks * 3 / 10:
			col.stop()
		case chunks * 5 / 10:
			// Both shippers must have met the outage before it ends.
			waitFor(t, 60*time.Second, func() bool { return hosts[0].sh.Stats().Failed > 0 && hosts[1].sh.Stats().Failed > 0 })
			col.start()
		case chunks * 6 / 10:
			hosts[0].close(t)
			hosts[0].open(t)
		case chunks * 7 / 10:
			hosts[1].close(t)
			hosts[1].open(t)
		}
		for _, h := range hosts {
			recs := make([]sidelog.Record, chunk)
			for j := range recs {
				i := c*chunk + j
				recs[j] = record(h.name, i, start.Add(time.Duration(i)*time.Microsecond))
			}
			if err := h.db.WriteBatch(context.Background(), recs); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(10 * time.Millisecond) // the application's pace, so shipping runs beside writing
	}
	distinct := func() map[string]int {
		seen := map[string]map[int64]bool{}
		col.each(func(res map[string]any, lr plog.LogRecord) {
			h := fmt.Sprint(res["host.name"])
			if seen[h] == nil {
				seen[h] = map[int64]bool{}
			}
			id, _ := lr.Attributes().Get("sidelog.record.id")
			seen[h][id.Int()] = true
		})
		return map[string]int{"app-1": len(seen["app-1"]), "app-2": len(seen["app-2"])}
	}
	waitFor(t, 120*time.Second, func() bool { d := distinct(); return d["app-1"] >= perHost && d["app-2"] >= perHost })
	for _, h := range hosts {
		st := h.sh.Stats()
		t.Logf("%s (%s): %+v", h.name, h.protocol, st)
		h.close(t)
	}
	col.stop()

	for _, h := range hosts {
		db, err := sqlite.Open(context.Background(), h.path, sqlite.Options{MustExist: true})
		if err != nil {
			t.Fatal(err)
		}
		stored := map[int64]sidelog.Record{}
		for r, err := range db.Scan(context.Background(), sidelog.Filter{}) {
			if err != nil {
				t.Fatal(err)
			}
			stored[r.ID] = r
		}
		db.Close()
		if len(stored) != perHost {
			t.Fatalf("%s: %d records stored, want %d", h.name, len(stored), perHost)
		}
		seen := map[int64]int{}
		var order []int64
		col.each(func(res map[string]any, lr plog.LogRecord) {
			if res["host.name"] != h.name {
				return
			}
			v, _ := lr.Attributes().Get("sidelog.record.id")
			id := v.Int()
			if seen[id]++; seen[id] > 1 {
				return
			}
			r, ok := stored[id]
			if !ok {
				t.Fatalf("%s: record %d arrived but is not in the database", h.name, id)
			}
			checkRecord(t, res, lr, r, h.name)
			order = append(order, id)
		})
		dups := 0
		for _, n := range seen {
			if n > 1 {
				dups++
			}
		}
		if len(seen) != perHost {
			t.Fatalf("%s: %d distinct records arrived, want %d", h.name, len(seen), perHost)
		}
		if !slices.IsSorted(order) {
			t.Fatalf("%s: records arrived out of write order", h.name)
		}
		if dups > batchSize {
			t.Fatalf("%s: %d records arrived twice, more than one batch (%d)", h.name, dups, batchSize)
		}
		t.Logf("%s: %d records arrived, all fields match, in order, %d duplicated", h.name, len(seen), dups)
	}
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met in %s", limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
