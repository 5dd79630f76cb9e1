package httplog_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/httplog"
)

// mustServer starts a real HTTP server with the middleware in front of h.
func mustServer(tb testing.TB, opts httplog.Options, h http.Handler) (*httptest.Server, *capture) {
	tb.Helper()
	c := newCapture()
	srv := httptest.NewServer(httplog.New(slog.New(c), opts)(h))
	srv.Config.ErrorLog = nil
	tb.Cleanup(srv.Close)
	return srv, c
}

// mustGet gets url with the server's own client: a parallel test's
// srv.Close closes the idle connections of http.DefaultClient.
func mustGet(tb testing.TB, srv *httptest.Server, url string) (*http.Response, string) {
	tb.Helper()
	resp, err := srv.Client().Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read %s: %v", url, err)
	}
	return resp, string(body)
}

func panickingHandler(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/panic":
		w.Header().Set("Content-Type", "application/json")
		panic(errors.New("boom"))
	case "/panic-after-write":
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		panic("late boom")
	case "/abort":
		panic(http.ErrAbortHandler)
	}
	_, _ = io.WriteString(w, "fine")
}

func TestMiddleware_Panic(t *testing.T) {
	t.Parallel()
	srv, c := mustServer(t, httplog.Options{}, http.HandlerFunc(panickingHandler))

	resp, body := mustGet(t, srv, srv.URL+"/panic")
	if resp.StatusCode != 500 || !strings.Contains(body, "Internal Server Error") {
		t.Errorf("got %d %q, want 500", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("content type %q, want the handler's replaced by text/plain", ct)
	}
	if resp.Header.Get("X-Request-ID") == "" {
		t.Error("no request id on the 500")
	}
	e := c.waitRequest(t, 1)[0]
	if e.Level != slog.LevelError || e.int(sidelog.KeyStatus) != 500 || e.str(sidelog.KeyError) != "panic: boom" {
		t.Errorf("record %v %d %q", e.Level, e.int(sidelog.KeyStatus), e.str(sidelog.KeyError))
	}
	if st := e.str(httplog.KeyStack); !strings.Contains(st, "panickingHandler") {
		t.Errorf("stack does not show the panicking function:\n%s", st)
	}

	// Once the response has started, the connection is aborted so the
	// client cannot take the partial body for a whole one.
	if resp, err := srv.Client().Get(srv.URL + "/panic-after-write"); err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Error("partial response after a panic read as complete")
		}
	}
	e = c.waitRequest(t, 2)[1]
	if e.Level != slog.LevelError || e.int(sidelog.KeyStatus) != 200 || e.str(sidelog.KeyError) != "panic: late boom" {
		t.Errorf("late panic record %v %d %q", e.Level, e.int(sidelog.KeyStatus), e.str(sidelog.KeyError))
	}

	// http.ErrAbortHandler keeps its meaning: logged without a stack,
	// connection aborted.
	if resp, err := srv.Client().Get(srv.URL + "/abort"); err == nil {
		resp.Body.Close()
		t.Errorf("abort answered %d, want a dropped connection", resp.StatusCode)
	}
	e = c.waitRequest(t, 3)[2]
	if !e.has(httplog.KeyAborted) || e.has(httplog.KeyStack) || e.Level != slog.LevelWarn {
		t.Errorf("abort record %+v", e)
	}

	// The server keeps serving.
	if resp, body := mustGet(t, srv, srv.URL+"/ok"); resp.StatusCode != 200 || body != "fine" {
		t.Errorf("after panics: %d %q", resp.StatusCode, body)
	}
}

func TestMiddleware_ClientDisconnect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		writeFirst bool
		wantStatus int64
	}{
		{"mid response", true, 200},
		{"before any status", false, httplog.StatusClientClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.writeFirst {
					_, _ = io.WriteString(w, "first chunk\n")
					w.(http.Flusher).Flush()
				}
				<-r.Context().Done()
				if tt.writeFirst {
					// Keep writing into the dead connection until it says so.
					for i := 0; i < 1000; i++ {
						if _, err := w.Write(make([]byte, 64<<10)); err != nil {
							return
						}
					}
				}
			})
			srv, c := mustServer(t, httplog.Options{}, h)
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(conn, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
			if tt.writeFirst {
				line, err := bufio.NewReader(conn).ReadString('\n')
				if err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
					t.Fatalf("status line %q, %v", line, err)
				}
			}
			conn.Close()
			e := c.waitRequest(t, 1)[0]
			if !e.has(httplog.KeyCanceled) || e.int(sidelog.KeyStatus) != tt.wantStatus {
				t.Errorf("record status %d canceled %v; want %d and canceled", e.int(sidelog.KeyStatus), e.has(httplog.KeyCanceled), tt.wantStatus)
			}
		})
	}
}

func TestMiddleware_Flusher(t *testing.T) {
	t.Parallel()
	next := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			fmt.Fprintf(w, "data: %d\n\n", i)
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("flush: %v", err)
				return
			}
			<-next // the client must have read this event
		}
	})
	srv, c := mustServer(t, httplog.Options{}, h)
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for i := range 3 {
		line, err := br.ReadString('\n')
		if want := fmt.Sprintf("data: %d\n", i); line != want || err != nil {
			t.Fatalf("event %d: %q %v, want %q", i, line, err, want)
		}
		_, _ = br.ReadString('\n')
		next <- struct{}{}
	}
	e := c.waitRequest(t, 1)[0]
	if e.int(httplog.KeyResponseBytes) != int64(3*len("data: 0\n\n")) {
		t.Errorf("bytes = %d", e.int(httplog.KeyResponseBytes))
	}
}

func TestMiddleware_Hijacker(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Deadlines through http.ResponseController need Unwrap.
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		line, _ := brw.ReadString('\n')
		fmt.Fprintf(brw, "echo: %s", line)
		_ = brw.Flush()
	})
	srv, c := mustServer(t, httplog.Options{}, h)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	fmt.Fprintf(conn, "hello\n")
	if line, err := br.ReadString('\n'); line != "echo: hello\n" {
		t.Fatalf("echo %q %v", line, err)
	}
	e := c.waitRequest(t, 1)[0]
	if !e.has(httplog.KeyHijacked) || e.int(sidelog.KeyStatus) != 101 {
		t.Errorf("record %+v", e)
	}
}

func TestMiddleware_EarlyHints(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusCreated)
	})
	srv, c := mustServer(t, httplog.Options{}, h)
	resp, _ := mustGet(t, srv, srv.URL)
	if resp.StatusCode != 201 {
		t.Errorf("client got %d, want 201", resp.StatusCode)
	}
	if got := c.waitRequest(t, 1)[0].int(sidelog.KeyStatus); got != 201 {
		t.Errorf("recorded %d, want 201", got)
	}
}

// TestWrap_Interfaces checks that the wrapper claims exactly the optional
// interfaces of the writer it wraps.
func TestWrap_Interfaces(t *testing.T) {
	t.Parallel()
	type plain struct{ http.ResponseWriter }
	tests := []struct {
		name     string
		w        http.ResponseWriter
		flusher  bool
		hijacker bool
	}{
		{"recorder", httptest.NewRecorder(), true, false},
		{"plain", plain{httptest.NewRecorder()}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, f := w.(http.Flusher)
				_, hj := w.(http.Hijacker)
				if f != tt.flusher || hj != tt.hijacker {
					t.Errorf("Flusher %v Hijacker %v, want %v %v", f, hj, tt.flusher, tt.hijacker)
				}
				if _, ok := w.(interface{ Unwrap() http.ResponseWriter }); !ok {
					t.Error("no Unwrap")
				}
				if err := http.NewResponseController(w).Flush(); (err == nil) != tt.flusher {
					t.Errorf("ResponseController.Flush: %v", err)
				}
			})
			httplog.New(slog.New(slog.DiscardHandler), httplog.Options{})(h).ServeHTTP(tt.w, httptest.NewRequest("GET", "/", nil))
		})
	}
}

func TestMiddleware_Route(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /projects/{id}", func(w http.ResponseWriter, r *http.Request) {})
	muxSrv, muxLog := mustServer(t, httplog.Options{}, mux)

	c := newCapture()
	r := chi.NewRouter()
	r.Use(httplog.New(slog.New(c), httplog.Options{RouteFunc: func(r *http.Request) string {
		return chi.RouteContext(r.Context()).RoutePattern()
	}}))
	r.Route("/api", func(r chi.Router) {
		r.Get("/projects/{id}", func(w http.ResponseWriter, r *http.Request) {})
	})
	chiSrv := httptest.NewServer(r)
	t.Cleanup(chiSrv.Close)

	tests := []struct {
		name, url string
		srv       *httptest.Server
		log       *capture
		want      string
	}{
		{"ServeMux", muxSrv.URL + "/projects/42", muxSrv, muxLog, "GET /projects/{id}"},
		{"chi", chiSrv.URL + "/api/projects/42", chiSrv, c, "/api/projects/{id}"},
	}
	for _, tt := range tests {
		mustGet(t, tt.srv, tt.url)
		if got := tt.log.waitRequest(t, 1)[0].str(sidelog.KeyRoute); got != tt.want {
			t.Errorf("%s: route %q, want %q", tt.name, got, tt.want)
		}
	}
	mustGet(t, muxSrv, muxSrv.URL+"/nowhere")
	if got := muxLog.waitRequest(t, 2)[1]; got.has(sidelog.KeyRoute) || got.int(sidelog.KeyStatus) != 404 {
		t.Errorf("unmatched: route %q status %d", got.str(sidelog.KeyRoute), got.int(sidelog.KeyStatus))
	}
}

func TestMiddleware_ConcurrentAddAttrs(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		done := make(chan struct{})
		for i := range 4 {
			go func() {
				httplog.AddAttrs(ctx, slog.Int(fmt.Sprint("k", i), i))
				done <- struct{}{}
			}()
		}
		for range 4 {
			<-done
		}
	})
	_, c := serve(t, httplog.Options{}, h, httptest.NewRequest("GET", "/", nil))
	e := c.mustOne(t)
	for i := range 4 {
		if !e.has(fmt.Sprint("k", i)) {
			t.Errorf("k%d missing", i)
		}
	}
	httplog.AddAttrs(context.Background(), slog.Int("x", 1)) // no request: no effect, no panic
}
