package sentry_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/sidelog/sidelog/sentry"
)

// Wrap the application's handler: every record still reaches it, and
// error records also go to the tracker named by the DSN (here a stand-in
// for Bugsink).
func ExampleNew() {
	got := make(chan string, 1)
	bugsink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- fmt.Sprintf("%s %v", r.URL.Path, strings.Contains(string(body), `"message":"payment failed"`))
	}))
	defer bugsink.Close()
	dsn := strings.Replace(bugsink.URL, "http://", "http://publickey@", 1) + "/1"

	h, err := sentry.New(slog.DiscardHandler, dsn, sentry.Options{Environment: "production"})
	if err != nil {
		panic(err)
	}
	log := slog.New(h)
	log.Info("not forwarded")
	log.Error("payment failed", "error", fmt.Errorf("card declined"))
	h.Close(context.Background()) // at shutdown: sends what is queued

	fmt.Println(<-got)
	fmt.Printf("%+v\n", h.Stats())
	// Output:
	// /api/1/envelope/ true
	// {Sent:1 Dropped:0 Failed:0}
}
