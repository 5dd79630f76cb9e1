package httplog_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/httplog"
)

// exampleLogger prints records as JSON without the values that change
// from run to run (time, duration, request id).
func exampleLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, sidelog.KeyDuration, sidelog.KeyRequestID:
				return slog.Attr{}
			}
			return a
		},
	}))
}

// The middleware in front of net/http's ServeMux: the route comes from
// r.Pattern, and the user from sidelog.WithUser in the handler (an
// authentication middleware would do it in a real application).
func ExampleNew() {
	logger := exampleLogger() // in a service: slog.New(handler.New(store, nil))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /projects/{id}", func(w http.ResponseWriter, r *http.Request) {
		ctx := sidelog.WithUser(r.Context(), "42", "7")
		logger.InfoContext(ctx, "project shown", "project", r.PathValue("id"))
		fmt.Fprintln(w, "project", r.PathValue("id"))
	})
	mw := httplog.New(logger, httplog.Options{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		SkipPaths:      []string{"/healthz"},
		SlowThreshold:  time.Second,
	})
	srv := mw(mux) // http.ListenAndServe(":8080", mw(mux))

	r := httptest.NewRequest("GET", "/projects/9", nil)
	r.RemoteAddr = "10.0.0.1:4711" // a trusted proxy ...
	r.Header.Set("X-Forwarded-For", "198.51.100.7")
	srv.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// {"level":"INFO","msg":"project shown","project":"9"}
	// {"level":"INFO","msg":"GET /projects/9 200","kind":"request","http.method":"GET","http.path":"/projects/9","http.status":200,"http.response_bytes":10,"http.route":"GET /projects/{id}","client_ip":"198.51.100.7","user_id":"42","tenant_id":"7"}
}

// The middleware in a chi router, with the route from chi's route context
// and the user from a function of the application.
func ExampleNew_chi() {
	logger := exampleLogger()

	r := chi.NewRouter()
	r.Use(httplog.New(logger, httplog.Options{
		RouteFunc: func(r *http.Request) string {
			return chi.RouteContext(r.Context()).RoutePattern()
		},
		UserFunc: func(r *http.Request) (user, tenant string) {
			return r.Header.Get("X-Demo-User"), "" // a session lookup in a real application
		},
	}))
	r.Get("/projects/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	})

	req := httptest.NewRequest("GET", "/projects/9", nil)
	req.RemoteAddr = "192.0.2.1:4711"
	req.Header.Set("X-Demo-User", "alice")
	r.ServeHTTP(httptest.NewRecorder(), req)
	// Output:
	// {"level":"WARN","msg":"GET /projects/9 404","kind":"request","http.method":"GET","http.path":"/projects/9","http.status":404,"http.response_bytes":0,"http.route":"/projects/{id}","client_ip":"192.0.2.1","user_id":"alice"}
}

// RequestID gives handlers the id the client sees in X-Request-ID, for
// error pages and support tickets.
func ExampleRequestID() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(httplog.RequestID(r.Context()))
	})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Request-ID", "req-123")
	httplog.New(slog.New(slog.DiscardHandler), httplog.Options{})(h).ServeHTTP(httptest.NewRecorder(), r)
	// Output: req-123
}
