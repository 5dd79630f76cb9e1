package sidelog_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/httplog"
	"github.com/sidelog/sidelog/sqlite"
)

// Adding sidelog to a service: open the log database, install the handler
// as the default logger, wrap the router in the middleware, and drain the
// queue on shutdown.
func Example_service() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sidelog-example")
	defer os.RemoveAll(dir)

	store, err := sqlite.Open(ctx, filepath.Join(dir, "logs.db"), sqlite.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	h := handler.New(store, &handler.Options{Level: slog.LevelInfo})
	slog.SetDefault(slog.New(h))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		ctx := sidelog.WithUser(r.Context(), "42", "7") // after your authentication
		slog.InfoContext(ctx, "saying hello", "name", r.PathValue("name"))
		fmt.Fprintln(w, "hello")
	})
	srv := httptest.NewServer(httplog.New(slog.Default(), httplog.Options{})(mux))
	resp, err := http.Get(srv.URL + "/hello/ada")
	if err != nil {
		log.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	srv.Close()

	// On shutdown: Close drains the queue, so nothing is lost.
	if err := h.Close(ctx); err != nil {
		log.Fatal(err)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))

	// Everything of that request, oldest first.
	res, _ := store.Query(ctx, sidelog.Filter{UserID: "42"}, sidelog.Page{})
	for i := len(res.Records) - 1; i >= 0; i-- {
		r := res.Records[i]
		fmt.Printf("%-7s %-7s user=%s %s\n", r.Kind, r.Level, r.UserID, r.Message)
	}
	// Output:
	// app     INFO    user=42 saying hello
	// request INFO    user=42 GET /hello/ada 200
}

// Querying the store: a filter, a page, and the cursor to the next page.
func ExampleFilter() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "sidelog-example")
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(ctx, filepath.Join(dir, "logs.db"), sqlite.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	var recs []sidelog.Record
	for i := range 5 {
		recs = append(recs, sidelog.Record{
			Time: t0.Add(time.Duration(i) * time.Minute), Level: slog.LevelError,
			Message: fmt.Sprintf("payment %d failed", i), UserID: "42",
		})
	}
	if err := store.WriteBatch(ctx, recs); err != nil {
		log.Fatal(err)
	}

	f, err := sidelog.ParseQuery(`level>=error user:42 payment`, t0)
	if err != nil {
		log.Fatal(err)
	}
	page := sidelog.Page{Limit: 2}
	for {
		res, err := store.Query(ctx, f, page)
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range res.Records {
			fmt.Println(r.Time.Format("15:04"), r.Message)
		}
		if res.Next.ID == 0 {
			break
		}
		page.After = res.Next
	}
	// Output:
	// 09:04 payment 4 failed
	// 09:03 payment 3 failed
	// 09:02 payment 2 failed
	// 09:01 payment 1 failed
	// 09:00 payment 0 failed
}
