package sentry_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/httplog"
	"github.com/sidelog/sidelog/sentry"
)

// bugsink is a fake Sentry-compatible tracker that keeps what it gets.
type bugsink struct {
	mu        sync.Mutex
	envelopes []envelope
	status    int
	block     chan struct{}
}

type envelope struct {
	path, auth string
	header     map[string]any
	item       map[string]any
	event      map[string]any
}

func newBugsink(t *testing.T) (*bugsink, *httptest.Server) {
	b := &bugsink{status: http.StatusOK}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return b, srv
}

func (b *bugsink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if b.block != nil {
		<-b.block
	}
	body, _ := io.ReadAll(r.Body)
	var e envelope
	e.path, e.auth = r.URL.Path, r.Header.Get("X-Sentry-Auth")
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for i, dst := range []*map[string]any{&e.header, &e.item, &e.event} {
		if !sc.Scan() {
			http.Error(w, "short envelope", 400)
			return
		}
		if err := json.Unmarshal(sc.Bytes(), dst); err != nil {
			http.Error(w, "bad line", 400)
			return
		}
		_ = i
	}
	b.mu.Lock()
	b.envelopes = append(b.envelopes, e)
	st := b.status
	b.mu.Unlock()
	w.WriteHeader(st)
	io.WriteString(w, `{"id":"x"}`)
}

func (b *bugsink) got() []envelope {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]envelope(nil), b.envelopes...)
}

func dsn(srv *httptest.Server) string {
	return strings.Replace(srv.URL, "http://", "http://k3y@", 1) + "/bugsink/42"
}

func TestNew_BadDSN(t *testing.T) {
	for _, d := range []string{"ftp://key@host/1", "https://host/1", "https://key@host/", "::"} {
		if _, err := sentry.New(slog.DiscardHandler, d, sentry.Options{}); err == nil {
			t.Errorf("New(%q): no error", d)
		}
	}
}

func TestHandler_Forward(t *testing.T) {
	sink, srv := newBugsink(t)
	var out bytes.Buffer
	h, err := sentry.New(slog.NewTextHandler(&out, nil), dsn(srv), sentry.Options{Environment: "test", Release: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h).With("logger", "app", "error", errors.New("disk full")).WithGroup("g").With("a", 1)
	ctx := sidelog.WithUser(sidelog.WithRequest(context.Background(), "req-1"), "42", "7")
	log.InfoContext(ctx, "fine")
	log.WarnContext(ctx, "hmm")
	log.ErrorContext(ctx, "boom", "b", "x")
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "msg=fine") || !strings.Contains(out.String(), "msg=boom") {
		t.Errorf("next handler did not get every record:\n%s", out.String())
	}
	got := sink.got()
	if len(got) != 1 {
		t.Fatalf("got %d envelopes, want 1 (error only)", len(got))
	}
	e := got[0]
	if e.path != "/bugsink/api/42/envelope/" || !strings.Contains(e.auth, "sentry_key=k3y") || !strings.Contains(e.auth, "sentry.go") {
		t.Errorf("posted to %s with auth %q", e.path, e.auth)
	}
	if e.item["type"] != "event" || e.header["event_id"] != e.event["event_id"] {
		t.Errorf("envelope headers %v %v", e.header, e.item)
	}
	ev := e.event
	if ev["level"] != "error" || ev["logger"] != "app" || ev["environment"] != "test" || ev["release"] != "v1" || ev["message"] != "boom" {
		t.Errorf("event %v", ev)
	}
	if sdk, _ := ev["sdk"].(map[string]any); sdk["name"] != "sentry.go" {
		t.Errorf("event not made by the SDK: sdk %v", ev["sdk"])
	}
	exc, _ := json.Marshal(ev["exception"])
	if !strings.Contains(string(exc), "disk full") || !strings.Contains(string(exc), `"type":"*errors.errorString"`) {
		t.Errorf("exception %s", exc)
	}
	contexts, _ := ev["contexts"].(map[string]any)
	attrs, _ := contexts["attributes"].(map[string]any)
	if attrs["g.a"] != 1.0 || attrs["g.b"] != "x" {
		t.Errorf("attributes %v", contexts)
	}
	tags, _ := ev["tags"].(map[string]any)
	user, _ := ev["user"].(map[string]any)
	if tags["request_id"] != "req-1" || tags["tenant_id"] != "7" || user["id"] != "42" {
		t.Errorf("tags %v user %v", tags, user)
	}
	if st := h.Stats(); st.Sent != 1 || st.Dropped != 0 || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestHandler_Bounded(t *testing.T) {
	sink, srv := newBugsink(t)
	sink.block = make(chan struct{})
	h, err := sentry.New(slog.DiscardHandler, dsn(srv), sentry.Options{QueueSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h)
	done := make(chan struct{})
	go func() {
		for range 20 {
			log.Error("tracker is stuck")
		}
		close(done)
	}()
	select {
	case <-done: // logging never waited for the network
	case <-time.After(10 * time.Second):
		t.Fatal("logging blocked on a stuck tracker")
	}
	close(sink.block)
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := h.Stats()
	if st.Sent+st.Dropped != 20 || st.Dropped < 17 {
		t.Errorf("stats %+v: want at most 3 sent and the rest dropped", st)
	}
	log.Error("after close")
	if h.Stats().Dropped != st.Dropped+1 {
		t.Error("record after Close not counted as dropped")
	}
}

func TestHandler_TrackerDown(t *testing.T) {
	sink, srv := newBugsink(t)
	sink.status = http.StatusTooManyRequests
	h, _ := sentry.New(slog.DiscardHandler, dsn(srv), sentry.Options{})
	slog.New(h).Error("x")
	h.Close(context.Background())
	if st := h.Stats(); st.Failed != 1 {
		t.Errorf("stats %+v, want 1 failed", st)
	}
}

func TestHandler_Slogtest(t *testing.T) {
	_, srv := newBugsink(t)
	var buf bytes.Buffer
	h, _ := sentry.New(slog.NewJSONHandler(&buf, nil), dsn(srv), sentry.Options{Level: slog.LevelError + 100})
	defer h.Close(context.Background())
	err := slogtest.TestHandler(h, func() []map[string]any {
		var ms []map[string]any
		for _, line := range bytes.Split(buf.Bytes(), []byte{'\n'}) {
			if len(line) == 0 {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		return ms
	})
	if err != nil {
		t.Error(err)
	}
}

// TestHandler_RecoveredPanic: a handler that panics behind the httplog
// middleware reaches the tracker as an event with the panic as its
// exception, marked unhandled, and the stack among its attributes; the
// request record still reaches the next handler.
func TestHandler_RecoveredPanic(t *testing.T) {
	sink, srv := newBugsink(t)
	var out bytes.Buffer
	h, err := sentry.New(slog.NewJSONHandler(&out, nil), dsn(srv), sentry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		panic("no order " + r.PathValue("id"))
	})
	app := httptest.NewServer(httplog.New(slog.New(h), httplog.Options{})(mux))
	defer app.Close()
	resp, err := http.Get(app.URL + "/orders/7")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("status %d, want 500", resp.StatusCode)
	}
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"http.route":"GET /orders/{id}"`) {
		t.Errorf("the next handler did not get the request record:\n%s", out.String())
	}
	got := sink.got()
	if len(got) != 1 {
		t.Fatalf("got %d events, want 1", len(got))
	}
	ev := got[0].event
	exc, _ := json.Marshal(ev["exception"])
	if !strings.Contains(string(exc), `"type":"panic"`) || !strings.Contains(string(exc), `"value":"no order 7"`) ||
		!strings.Contains(string(exc), `"handled":false`) {
		t.Errorf("exception %s", exc)
	}
	contexts, _ := ev["contexts"].(map[string]any)
	attrs, _ := contexts["attributes"].(map[string]any)
	if stack, _ := attrs["stack"].(string); !strings.Contains(stack, "TestHandler_RecoveredPanic") {
		t.Errorf("no stack of the panic in %v", attrs)
	}
	if tags, _ := ev["tags"].(map[string]any); tags["http.route"] != "GET /orders/{id}" || tags["http.status"] != "500" {
		t.Errorf("tags %v", ev["tags"])
	}
	if st := h.Stats(); st != (sentry.Stats{Sent: 1}) {
		t.Errorf("stats %+v", st)
	}
}
