package handler_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/sqlite"
)

// Install the handler as slog's default, log with a request's context and
// close it on shutdown so that nothing queued is lost.
func Example() {
	dir, _ := os.MkdirTemp("", "sidelog-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "logs.db"), sqlite.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	h := handler.New(db, &handler.Options{Logger: "shop"})
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(h))

	// Middleware attaches the request and, after authentication, the user.
	rctx := sidelog.WithRequest(ctx, "req-7f3a")
	rctx = sidelog.WithUser(rctx, "42", "acme")
	slog.InfoContext(rctx, "order placed", "order_id", 1001, "total", 99.5)
	slog.ErrorContext(rctx, "payment failed", sidelog.KeyStatus, 402, "err", errors.New("card declined"))

	shutdown, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := h.Close(shutdown); err != nil {
		fmt.Println(err)
	}

	res, _ := db.Query(ctx, sidelog.Filter{RequestID: "req-7f3a"}, sidelog.Page{})
	for _, r := range res.Records {
		fmt.Printf("%s %q user=%s status=%d error=%q attrs=%s\n", r.Level, r.Message, r.UserID, r.Status, r.Error, r.Attrs)
	}
	fmt.Println(h.Stats().Written, "written")
	// Output:
	// ERROR "payment failed" user=42 status=402 error="card declined" attrs=
	// INFO "order placed" user=42 status=0 error="" attrs={"order_id":1001,"total":99.5}
	// 2 written
}

// Change the level at run time through a slog.LevelVar, and wait for
// everything logged so far with Flush.
func ExampleHandler_Flush() {
	w := &memWriter{}
	var level slog.LevelVar
	h := handler.New(w, &handler.Options{Level: &level})
	defer h.Close(context.Background())
	l := slog.New(h)

	l.Debug("not stored")
	level.Set(slog.LevelDebug)
	l.Debug("stored")
	if err := h.Flush(context.Background()); err != nil {
		fmt.Println(err)
	}
	for _, r := range w.records() {
		fmt.Println(r.Message)
	}
	// Output:
	// stored
}

// Reserved attribute keys fill the Record's columns; WithGroup nests the
// rest in the attrs JSON.
func ExampleHandler_WithGroup() {
	w := &memWriter{}
	h := handler.New(w, nil)
	l := slog.New(h).With(sidelog.KeyKind, sidelog.KindAudit).WithGroup("change")
	l.Info("project renamed", "id", 7, "from", "alpha", "to", "beta")
	h.Close(context.Background())
	r := w.records()[0]
	fmt.Println(r.Kind, string(r.Attrs))
	// Output:
	// audit {"change":{"id":7,"from":"alpha","to":"beta"}}
}
