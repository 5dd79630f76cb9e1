package admin

import (
	"fmt"
	"net/http"
	"time"

	"github.com/sidelog/sidelog"
)

// Chart geometry, in SVG user units.
const (
	chartW    = 1000
	chartH    = 110
	maxBars   = 90
	chartPadY = 4
)

// chart is the histogram over the list, drawn as SVG on the server: a bar
// per bucket, stacked by level, each a link that narrows the range to it.
type chart struct {
	Label    string // "last 24 hours, 10-minute bars"
	Total    int64
	Peak     int64
	Bars     []bar
	Since    string
	Until    string
	ZoomOut  string
	W, H     int
	HasLinks bool
}

// bar is one bucket.
type bar struct {
	X, W  float64
	URL   string
	Title string
	Segs  []seg
}

// seg is one level's part of a bar.
type seg struct {
	Y, H  float64
	Class string
}

// steps are the bucket widths the chart chooses from.
var steps = []time.Duration{
	time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour, 6 * time.Hour, 24 * time.Hour, // no 12 h: day bars use the files' class counts
}

// chartStep returns the smallest step that draws span in at most maxBars.
func chartStep(span time.Duration) time.Duration {
	for _, s := range steps {
		if span/s <= maxBars {
			return s
		}
	}
	return span / maxBars
}

// chartRange is the range the chart covers: the query's, or the last 24
// hours up to now (or the query's until) when it sets no start.
func (h *Handler) chartRange(f sidelog.Filter) (since, until time.Time) {
	until = f.Until
	if until.IsZero() {
		until = h.opts.Now()
	}
	since = f.Since
	if since.IsZero() || !since.Before(until) {
		since = until.Add(-24 * time.Hour)
	}
	return since, until
}

func (h *Handler) chart(r *http.Request, q string, f sidelog.Filter) (*chart, error) {
	since, until := h.chartRange(f)
	step := chartStep(until.Sub(since))
	// Align to the step so that bars stay put as time passes and their
	// links name round times.
	start := since.Truncate(step)
	end := until.Truncate(step)
	if end.Before(until) {
		end = end.Add(step)
	}
	hf := f
	hf.Since, hf.Until = start, end
	buckets, err := h.opts.Store.Histogram(r.Context(), hf, step)
	if err != nil {
		return nil, err
	}
	c := &chart{W: chartW, H: chartH, Since: since.UTC().Format("2006-01-02 15:04:05"), Until: until.UTC().Format("2006-01-02 15:04:05")}
	c.Label = fmt.Sprintf("%s bars", describeStep(step))
	if f.Since.IsZero() {
		c.Label = "last 24 hours (the query sets no start), " + c.Label
	}
	for _, b := range buckets {
		var n int64
		for _, k := range b.Counts {
			n += k
		}
		c.Total += n
		c.Peak = max(c.Peak, n)
	}
	n := len(buckets)
	if n == 0 {
		return c, nil
	}
	slot := float64(chartW) / float64(n)
	for i, b := range buckets {
		var total int64
		for _, k := range b.Counts {
			total += k
		}
		bs, be := b.Start, b.Start.Add(step)
		br := bar{
			X: float64(i)*slot + slot*0.08, W: slot * 0.84,
			URL:   h.listURL(withRange(q, bs, be)),
			Title: fmt.Sprintf("%s – %s: %d records (debug %d, info %d, warn %d, error %d)", bs.UTC().Format("2006-01-02 15:04:05"), be.UTC().Format("15:04:05"), total, b.Counts[0], b.Counts[1], b.Counts[2], b.Counts[3]),
		}
		// A bar fills the whole height as a link target; the levels are
		// stacked from the bottom, error at the top.
		y := float64(chartH)
		if c.Peak > 0 {
			for lc := 0; lc < 4; lc++ {
				if b.Counts[lc] == 0 {
					continue
				}
				hgt := float64(b.Counts[lc]) / float64(c.Peak) * float64(chartH-chartPadY)
				hgt = max(hgt, 1)
				y -= hgt
				br.Segs = append(br.Segs, seg{Y: y, H: hgt, Class: "lv-" + levelCSS[lc]})
			}
		}
		c.Bars = append(c.Bars, br)
	}
	c.HasLinks = step > time.Second
	// Zoom out: three times the range, centred.
	span := until.Sub(since)
	c.ZoomOut = h.listURL(withRange(q, since.Add(-span), until.Add(span)))
	return c, nil
}

func describeStep(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d-day", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%d-hour", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d-minute", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%d-second", d/time.Second)
	}
	return d.String()
}
