package ship_test

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/ship"
	"github.com/sidelog/sidelog/sqlite"
)

// received is one log record as an OTLP endpoint got it.
type received struct {
	resource map[string]any
	scope    string
	rec      *logspb.LogRecord
}

// receiver is a minimal OTLP endpoint over HTTP and gRPC that keeps what
// it receives. mode 0 acknowledges, 1 refuses (503) without keeping, 2
// keeps but answers 500 (an acknowledgement lost on the way).
type receiver struct {
	collogspb.UnimplementedLogsServiceServer
	mu   sync.Mutex
	got  []received
	reqs int
	mode atomic.Int32
	// gzipped and plain count the HTTP requests by Content-Encoding.
	gzipped, plain atomic.Int32
}

func (rv *receiver) keep(req *collogspb.ExportLogsServiceRequest) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.reqs++
	for _, rl := range req.ResourceLogs {
		res := attrMap(rl.Resource.GetAttributes())
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				rv.got = append(rv.got, received{res, sl.GetScope().GetName(), lr})
			}
		}
	}
}

func (rv *receiver) records() []received {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]received(nil), rv.got...)
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/logs" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if rv.mode.Load() == 1 {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") != "gzip" {
		rv.plain.Add(1)
	} else {
		rv.gzipped.Add(1)
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	var req collogspb.ExportLogsServiceRequest
	if err == nil {
		err = proto.Unmarshal(b, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rv.keep(&req)
	if rv.mode.Load() == 2 {
		http.Error(w, "lost answer", http.StatusInternalServerError)
		return
	}
	out, _ := proto.Marshal(&collogspb.ExportLogsServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

func (rv *receiver) Export(_ context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	rv.keep(req)
	return &collogspb.ExportLogsServiceResponse{}, nil
}

func attrMap(kvs []*commonpb.KeyValue) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		m[kv.Key] = anyOf(kv.Value)
	}
	return m
}

func anyOf(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_KvlistValue:
		return attrMap(x.KvlistValue.Values)
	case *commonpb.AnyValue_ArrayValue:
		var out []any
		for _, e := range x.ArrayValue.Values {
			out = append(out, anyOf(e))
		}
		return out
	}
	return nil
}

func startHTTP(t *testing.T) (*receiver, string) {
	rv := &receiver{}
	srv := httptest.NewServer(rv)
	t.Cleanup(srv.Close)
	return rv, srv.URL
}

func mustOpen(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "logs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustShipper(t *testing.T, db ship.Source, o ship.Options) *ship.Shipper {
	t.Helper()
	o.MinBackoff, o.MaxBackoff = 10*time.Millisecond, 50*time.Millisecond
	o.OnError = func(err error) { t.Log(time.Now().Format("05.000"), err) }
	if o.Interval == 0 {
		o.Interval = 20 * time.Millisecond
	}
	s, err := ship.New(db, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func writeN(t *testing.T, db *sqlite.DB, from, n int) {
	t.Helper()
	recs := make([]sidelog.Record, n)
	base := time.Now().UTC()
	for i := range recs {
		recs[i] = sidelog.Record{Time: base.Add(time.Duration(i) * time.Microsecond), Level: slog.Level(4*(i%3) - 4), Message: fmt.Sprint("m", from+i),
			UserID: fmt.Sprint(i % 7)}
	}
	if err := db.WriteBatch(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

func recordID(r received) int64 {
	for _, kv := range r.rec.Attributes {
		if kv.Key == ship.AttrRecordID {
			return kv.Value.GetIntValue()
		}
	}
	return 0
}

func TestShipper_Fields(t *testing.T) {
	t.Parallel()
	for _, proto := range []ship.Protocol{ship.ProtocolHTTP, ship.ProtocolGRPC} {
		t.Run(string(proto), func(t *testing.T) {
			t.Parallel()
			rv := &receiver{}
			url := ""
			if proto == ship.ProtocolHTTP {
				srv := httptest.NewServer(rv)
				t.Cleanup(srv.Close)
				url = srv.URL
			} else {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				gs := grpc.NewServer()
				collogspb.RegisterLogsServiceServer(gs, rv)
				go gs.Serve(ln)
				t.Cleanup(gs.Stop)
				url = "http://" + ln.Addr().String()
			}
			db := mustOpen(t)
			in := sidelog.Record{
				Time: time.Date(2026, 11, 20, 12, 0, 0, 123456789, time.UTC), Level: slog.LevelWarn, Kind: sidelog.KindRequest, Logger: "http",
				Message: "GET /projects 404", RequestID: "req-1", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
				SpanID: "00f067aa0ba902b7", UserID: "42", TenantID: "7", Method: "GET", Path: "/projects/9",
				Route: "GET /projects/{id}", Status: 404, Duration: 1234567, ClientIP: "192.0.2.1",
				UserAgent: "curl/8.0", Error: "not found: project 9",
				Attrs: json.RawMessage(`{"bytes":17,"ratio":0.5,"ok":true,"q":{"a":"b"},"list":[1,"x"],"big":12345678901234567890}`),
			}
			recs := []sidelog.Record{in}
			if err := db.WriteBatch(context.Background(), recs); err != nil {
				t.Fatal(err)
			}
			s := mustShipper(t, db, ship.Options{Endpoint: url, Protocol: proto, ServiceName: "saas", ServiceVersion: "1.2.3",
				HostName: "host-a", Environment: "prod", ResourceAttrs: map[string]string{"cloud.region": "eu-1"}})
			if n, err := s.Drain(context.Background(), 10*time.Second); err != nil || n != 1 {
				t.Fatalf("Drain = %d, %v", n, err)
			}
			got := rv.records()
			if len(got) != 1 {
				t.Fatalf("received %d records, want 1", len(got))
			}
			r := got[0]
			wantRes := map[string]any{"service.name": "saas", "service.version": "1.2.3", "host.name": "host-a",
				"deployment.environment.name": "prod", "cloud.region": "eu-1"}
			if fmt.Sprint(r.resource) != fmt.Sprint(wantRes) {
				t.Errorf("resource = %v\nwant       %v", r.resource, wantRes)
			}
			lr := r.rec
			if lr.TimeUnixNano != uint64(in.Time.UnixNano()) || lr.SeverityNumber != logspb.SeverityNumber_SEVERITY_NUMBER_WARN ||
				lr.SeverityText != "WARN" || lr.Body.GetStringValue() != in.Message {
				t.Errorf("time/severity/body = %d %v %q %q", lr.TimeUnixNano, lr.SeverityNumber, lr.SeverityText, lr.Body.GetStringValue())
			}
			if r.scope != "github.com/sidelog/sidelog/ship" || lr.Flags != 0 {
				t.Errorf("scope %q, flags %d", r.scope, lr.Flags)
			}
			if hex.EncodeToString(lr.TraceId) != in.TraceID || hex.EncodeToString(lr.SpanId) != in.SpanID {
				t.Errorf("trace/span = %x %x", lr.TraceId, lr.SpanId)
			}
			want := map[string]any{
				ship.AttrRecordID: recs[0].ID, ship.AttrKind: "request", ship.AttrLogger: "http", ship.AttrRequestID: "req-1",
				ship.AttrUserID: "42", ship.AttrTenantID: "7", ship.AttrHTTPMethod: "GET", ship.AttrURLPath: "/projects/9",
				ship.AttrHTTPRoute: "GET /projects/{id}", ship.AttrHTTPStatus: int64(404), ship.AttrDurationNS: int64(1234567),
				ship.AttrClientAddr: "192.0.2.1", ship.AttrUserAgent: "curl/8.0", ship.AttrException: "not found: project 9",
				"bytes": int64(17), "ratio": 0.5, "ok": true, "q": map[string]any{"a": "b"}, "list": []any{int64(1), "x"},
				"big": 1.2345678901234567e19,
			}
			if g := attrMap(lr.Attributes); fmt.Sprint(g) != fmt.Sprint(want) {
				t.Errorf("attributes:\n got %v\nwant %v", g, want)
			}
		})
	}
}

// An acknowledgement lost on the way makes one batch arrive twice, and
// nothing else; a new shipper over the reopened database resumes after the
// last acknowledged batch.
func TestShipper_ResumeAndDuplicates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rv, url := startHTTP(t)
	path := filepath.Join(t.TempDir(), "logs.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, second, batch := scaled(2500), scaled(1500), scaled(1000)
	writeN(t, db, 0, first)
	s := mustShipper(t, db, ship.Options{Endpoint: url, BatchSize: batch})
	if n, err := s.Drain(ctx, 5*time.Second); err != nil || n != int64(first) {
		t.Fatalf("first Drain = %d, %v", n, err)
	}
	writeN(t, db, first, second)
	rv.mode.Store(2) // the next batch is kept but not acknowledged
	s2 := mustShipper(t, db, ship.Options{Endpoint: url, BatchSize: batch})
	if _, err := s2.Drain(ctx, 100*time.Millisecond); err == nil {
		t.Fatal("Drain succeeded without an acknowledgement")
	}
	db.Close() // the application restarts
	db, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rv.mode.Store(0)
	s3 := mustShipper(t, db, ship.Options{Endpoint: url, BatchSize: batch})
	if n, err := s3.Drain(ctx, 5*time.Second); err != nil || n != int64(second) {
		t.Fatalf("after restart Drain = %d, %v; want %d", n, err, second)
	}
	seen := map[int64]int{}
	var last int64
	dups := 0
	for _, r := range rv.records() {
		id := recordID(r)
		seen[id]++
		if seen[id] == 2 {
			dups++ // records that arrived more than once, each counted once
		} else if seen[id] == 1 && id < last {
			t.Fatalf("record %d arrived after %d: order lost", id, last)
		}
		last = max(last, id)
	}
	if len(seen) != first+second {
		t.Fatalf("%d distinct records arrived, want %d", len(seen), first+second)
	}
	if dups > batch {
		t.Fatalf("%d duplicates, more than one batch", dups)
	}
	if dups == 0 {
		t.Fatalf("no duplicate: the unacknowledged batch was not sent again")
	}
}

// While the endpoint refuses, the lag grows and nothing is lost; when it is
// back the shipper catches up and the lag drains to zero.
func TestShipper_Outage(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rv, url := startHTTP(t)
	rv.mode.Store(1)
	db := mustOpen(t)
	s := mustShipper(t, db, ship.Options{Endpoint: url, BatchSize: scaled(500)})
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	n := int64(scaled(1200))
	writeN(t, db, 0, int(n))
	waitFor(t, func() bool { st := s.Stats(); return st.LagRecords == n && st.Failed >= 3 && st.Lag > 0 })
	if st := s.Stats(); st.Shipped != 0 || st.LastError == "" {
		t.Fatalf("during the outage: %+v", st)
	}
	rv.mode.Store(0)
	waitFor(t, func() bool { st := s.Stats(); return st.Shipped == n && st.LagRecords == 0 })
	if st := s.Stats(); st.Retried == 0 || st.LastError != "" || st.Lag != 0 {
		t.Fatalf("after the outage: %+v", st)
	}
	writeN(t, db, int(n), 10)
	waitFor(t, func() bool { return s.Stats().Shipped == n+10 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := int64(len(rv.records())); got != n+10 {
		t.Fatalf("received %d, want %d", got, n+10)
	}
}

// Over https with a private CA, the records arrive whole; the request is
// gzipped (the default) or not (Compression "none").
func TestShipper_TLSAndCompression(t *testing.T) {
	t.Parallel()
	rv := &receiver{}
	srv := httptest.NewTLSServer(rv)
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	db := mustOpen(t)
	var recs []sidelog.Record
	for i := range 3000 {
		recs = append(recs, sidelog.Record{Time: time.Now(), Message: fmt.Sprint("m", i), Attrs: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))})
	}
	if err := db.WriteBatch(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"", "none"} {
		s := mustShipper(t, db, ship.Options{Endpoint: srv.URL, Name: "tls" + c, Compression: c, TLS: &ship.TLSConfig{CAFile: ca, ServerName: "example.com"}})
		if n, err := s.Drain(context.Background(), 10*time.Second); err != nil || n != 3000 {
			t.Fatalf("Drain(compression %q) = %d, %v", c, n, err)
		}
	}
	got := rv.records()
	if len(got) != 6000 {
		t.Fatalf("received %d records, want 6000", len(got))
	}
	for i, r := range got {
		if want := fmt.Sprint("m", i%3000); r.rec.Body.GetStringValue() != want || attrMap(r.rec.Attributes)["i"] != int64(i%3000) {
			t.Fatalf("record %d: %v, want %s", i, r.rec, want)
		}
	}
	if g, p := rv.gzipped.Load(), rv.plain.Load(); g != 3 || p != 3 {
		t.Fatalf("%d gzipped and %d plain requests, want 3 and 3", g, p)
	}
}

// Records purged before they were shipped never leave the host.
func TestShipper_PurgedNeverShipped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rv, url := startHTTP(t)
	db := mustOpen(t)
	writeN(t, db, 0, 70)
	if _, err := db.Purge(ctx, "3", "", "admin"); err != nil {
		t.Fatal(err)
	}
	s := mustShipper(t, db, ship.Options{Endpoint: url})
	if _, err := s.Drain(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	got := rv.records()
	for _, r := range got {
		if attrMap(r.rec.Attributes)[ship.AttrUserID] == "3" {
			t.Fatalf("purged record %q shipped", r.rec.Body.GetStringValue())
		}
	}
	if len(got) != 70-10+2 { // 10 purged, 2 purge events (started, done)
		t.Fatalf("received %d, want 62", len(got))
	}
}

func TestNew_BadOptions(t *testing.T) {
	t.Parallel()
	db := mustOpen(t)
	for _, o := range []ship.Options{
		{},
		{Endpoint: "collector:4318"},
		{Endpoint: "ftp://collector"},
		{Endpoint: "http://"},
		{Endpoint: "http://user:pw@collector"},
		{Endpoint: "http://collector?x=1"},
		{Endpoint: "http://collector", Protocol: "udp"},
		{Endpoint: "http://collector", Compression: "zstd"},
		{Endpoint: "https://collector", TLS: &ship.TLSConfig{CAFile: "/nonexistent"}},
		{Endpoint: "https://collector", TLS: &ship.TLSConfig{CertFile: "c.pem"}},
	} {
		if _, err := ship.New(db, o); sidelog.ErrorCode(err) != sidelog.EINVALID {
			t.Errorf("New(%+v) = %v, want EINVALID", o, err)
		}
	}
}

func TestParseHeaders(t *testing.T) {
	t.Parallel()
	got, err := ship.ParseHeaders(" api-key=abc%3D ,X-Scope-OrgID=team%201,,")
	if err != nil || fmt.Sprint(got) != "map[api-key:abc= x-scope-orgid:team 1]" {
		t.Fatalf("ParseHeaders = %v, %v", got, err)
	}
	for _, bad := range []string{"novalue", "=x", "a b=c", "k=%zz", "k=a%0Db", "k:v=1"} {
		if _, err := ship.ParseHeaders(bad); sidelog.ErrorCode(err) != sidelog.EINVALID {
			t.Errorf("ParseHeaders(%q) = %v, want EINVALID", bad, err)
		}
	}
}

func FuzzParseHeaders(f *testing.F) {
	for _, s := range []string{"a=b", "api-key=abc%3D,x=y", "k=%zz", ",,=", "a=b\r\nc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ship.ParseHeaders(s)
		if err != nil {
			return
		}
		for k, v := range h {
			if k == "" || !httpToken(k) {
				t.Fatalf("accepted header name %q", k)
			}
			for _, c := range []byte(v) {
				if c == '\r' || c == '\n' || c == 0 {
					t.Fatalf("accepted header value %q", v)
				}
			}
		}
	})
}

func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{"http://collector:4318", "https://c/v1/logs", "http://", "ftp://x", "http://u@x", "::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ship.ParseEndpoint(s)
		if err != nil {
			return
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil {
			t.Fatalf("accepted %q as %#v", s, u)
		}
	})
}

func httpToken(k string) bool {
	return http.CanonicalHeaderKey(k) != "" && !containsAny(k, " \t\"(),/:;<=>?@[\\]{}")
}

func containsAny(s, chars string) bool {
	for _, c := range s {
		for _, d := range chars {
			if c == d {
				return true
			}
		}
	}
	return false
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
