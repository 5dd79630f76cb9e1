package handler_test

import (
	"log/slog"
	"strings"
	"testing"
	"testing/slogtest"

	"github.com/sidelog/sidelog/handler"
)

// zeroTimeCase is slogtest's case for a record with no time. A database row
// needs a time, so the handler stores the time the record was handled; the
// result function leaves it out for that case only.
const zeroTimeCase = "/zero-time"

func TestHandler_slogtest(t *testing.T) {
	t.Parallel()
	var w *memWriter
	var h *handler.Handler
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		w = &memWriter{}
		h = MustNew(t, w, nil)
		return h
	}, func(t *testing.T) map[string]any {
		MustFlush(t, h)
		recs := w.records()
		if len(recs) != 1 {
			t.Fatalf("got %d records, want 1", len(recs))
		}
		m := recordMap(t, recs[0])
		if strings.HasSuffix(t.Name(), zeroTimeCase) {
			delete(m, slog.TimeKey)
		}
		return m
	})
}
