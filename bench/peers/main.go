// Command peers feeds the same realistic records to sidelog, to
// PocketBase's logger and to slog.NewJSONHandler writing a file, in one
// run, and prints their figures side by side: the caller's cost per call,
// records/s end to end, CPU per record, bytes per million records, and the
// time to find one request id, the newest 50 errors and one rare word.
//
//	cd bench/peers && go run . -n 1000000            # all three peers
//	go run . -n 5000000 -peers sidelog,pocketbase    # some of them
//
// The records come from package gen (requests with unique request ids and
// ~4,500 paths, application lines, rare errors, audit and security events,
// 5,000 users), converted once, before any timing, into slog.LogAttrs calls
// with sidelog's typed Key* attributes; every peer gets the same calls.
// Each logger is at level debug, so that every record is stored; otherwise
// each has its own defaults. The JSON file is searched with grep (and, with
// -jq, also with jq). See BENCHMARKS.md for a run's figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sidelog/sidelog/bench/peers/internal/load"
)

func main() {
	n := flag.Int("n", 1_000_000, "records to log, end to end")
	producers := flag.Int("producers", 8, "goroutines logging at once, end to end")
	callN := flag.Int("calls", 20_000, "records logged one at a time at -rate to time the caller's cost")
	rate := flag.Int("rate", 10_000, "records per second while timing the caller's cost")
	names := flag.String("peers", "sidelog,pocketbase,jsonfile", "the peers to run, comma-separated")
	dir := flag.String("dir", "", "where the stores are made (default: a temporary directory, removed at the end)")
	seed := flag.Uint64("seed", 1, "the generator's seed")
	jq := flag.Bool("jq", true, "also ask the JSON file's questions with jq (slow: it parses every line)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of each peer's end-to-end phase to `PREFIX`-PEER.pprof")
	flag.Parse()
	if err := run(config{n: *n, producers: *producers, callN: *callN, rate: *rate, peers: strings.Split(*names, ","), dir: *dir, seed: *seed, jq: *jq, profile: *profile}, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

type config struct {
	n, producers, callN, rate int
	peers                     []string
	dir                       string
	seed                      uint64
	jq                        bool
	profile                   string
}

// result is one peer's figures.
type result struct {
	name                       string
	callMean, callP99, callMax time.Duration // the caller's cost, one call at a time
	wall, cpu                  time.Duration // end to end
	stored, dropped            int64
	bytes                      int64
	open                       time.Duration
	reqID, errs, word          query
	jqReqID, jqErrs, jqWord    query
}

// query is one question's answer: the first time it is asked after the
// store is opened, the median of the next runs, and the records found.
type query struct {
	first, median time.Duration
	found         int
	err           error
}

func newPeer(name string) (peer, error) {
	switch name {
	case "sidelog":
		return &sidelogPeer{}, nil
	case "pocketbase":
		return &pocketbasePeer{}, nil
	case "jsonfile":
		return &jsonPeer{}, nil
	}
	return nil, fmt.Errorf("unknown peer %q (want sidelog, pocketbase or jsonfile)", name)
}

func run(c config, out io.Writer) error {
	ctx := context.Background()
	for _, name := range c.peers {
		if _, err := newPeer(name); err != nil {
			return err
		}
	}
	if c.dir == "" {
		d, err := os.MkdirTemp("", "sidelog-peers-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		c.dir = d
	}
	fmt.Fprintf(out, "peers: %d records, %d producers; load %s; %s\n", c.n, c.producers, load.Load(), time.Now().UTC().Format(time.RFC3339))
	t0 := time.Now()
	recs := load.Records(max(c.n, c.callN), c.seed)
	fmt.Fprintf(out, "generated and converted %d records in %s\n", len(recs), time.Since(t0).Round(time.Millisecond))
	id, idCount := pickRequestID(recs[:c.n])
	word, wordCount := pickWord(recs[:c.n])
	errCount := 0
	for _, r := range recs[:c.n] {
		if r.Level >= slog.LevelError {
			errCount++
		}
	}
	want := [3]int{idCount, min(errCount, 50), min(wordCount, 50)}
	fmt.Fprintf(out, "questions: request_id %s (%d records), newest 50 of %d errors, word %q (%d records)\n", id, idCount, errCount, word, wordCount)

	var results []result
	for _, name := range c.peers {
		r, err := runPeer(ctx, c, name, recs, id, word, out)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		results = append(results, r)
	}
	report(out, c, results)
	// A peer that loses records or answers wrongly makes the run fail.
	var errs []error
	for _, r := range results {
		if r.stored != int64(c.n) {
			errs = append(errs, fmt.Errorf("%s stored %d of %d records", r.name, r.stored, c.n))
		}
		for i, q := range []query{r.reqID, r.errs, r.word, r.jqReqID, r.jqErrs, r.jqWord} {
			if i >= 3 && r.jqReqID.first == 0 {
				break
			}
			if q.err != nil {
				errs = append(errs, fmt.Errorf("%s, question %d: %w", r.name, i%3+1, q.err))
			} else if q.found != want[i%3] {
				errs = append(errs, fmt.Errorf("%s, question %d: found %d records, want %d", r.name, i%3+1, q.found, want[i%3]))
			}
		}
	}
	return errors.Join(errs...)
}

// pickRequestID returns a request id from the middle of the records and
// how many records carry it.
func pickRequestID(recs []Rec) (string, int) {
	id := ""
	for i := len(recs) / 2; i < len(recs) && id == ""; i++ {
		id = recs[i].RequestID
	}
	n := 0
	for _, r := range recs {
		if r.RequestID == id {
			n++
		}
	}
	return id, n
}

// pickWord returns gen's rare message word ("zq…x", once per 250,000
// records) nearest the middle, and how many records have it.
func pickWord(recs []Rec) (string, int) {
	best := ""
	for i := range recs {
		if strings.HasPrefix(recs[i].Msg, "unique event zq") {
			best = strings.Fields(recs[i].Msg)[2]
			if i >= len(recs)/2 {
				break
			}
		}
	}
	if best == "" {
		return "nosuchwordzz", 0
	}
	n := 0
	for _, r := range recs {
		if strings.Contains(r.Msg, best) {
			n++
		}
	}
	return best, n
}

// Rec is load.Rec, shortened.
type Rec = load.Rec

func runPeer(ctx context.Context, c config, name string, recs []Rec, id, word string, out io.Writer) (result, error) {
	res := result{name: name}
	fmt.Fprintf(out, "\n%s: caller's cost, %d calls at %d/s (load %s)\n", name, c.callN, c.rate, load.Load())
	// 1. The caller's cost: one call at a time at a steady rate, in a
	// store of its own.
	{
		p, _ := newPeer(name)
		dir := filepath.Join(c.dir, name+"-calls")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return res, err
		}
		l, err := p.start(ctx, dir)
		if err != nil {
			return res, err
		}
		ds := make([]time.Duration, 0, c.callN)
		tick := time.Second / time.Duration(c.rate)
		next := time.Now()
		for _, r := range recs[:c.callN] {
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
			next = next.Add(tick)
			t := time.Now()
			l.LogAttrs(ctx, r.Level, r.Msg, r.Attrs...)
			ds = append(ds, time.Since(t))
		}
		if _, err := p.finish(ctx); err != nil {
			return res, err
		}
		res.callMean, res.callP99, res.callMax = meanP99(ds)
		os.RemoveAll(dir)
	}

	// 2. End to end: c.producers goroutines log every record as fast as
	// they can; the clock stops when the logger has stored them all.
	p, _ := newPeer(name)
	dir := filepath.Join(c.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	fmt.Fprintf(out, "%s: end to end, %d records (load %s)\n", name, c.n, load.Load())
	l, err := p.start(ctx, dir)
	if err != nil {
		return res, err
	}
	if c.profile != "" {
		f, err := os.Create(c.profile + "-" + name + ".pprof")
		if err != nil {
			return res, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, err
		}
	}
	cpu0, t0 := load.CPU(), time.Now()
	var wg sync.WaitGroup
	for k := range c.producers {
		wg.Go(func() {
			for i := k; i < c.n; i += c.producers {
				r := &recs[i]
				l.LogAttrs(ctx, r.Level, r.Msg, r.Attrs...)
			}
		})
	}
	wg.Wait()
	res.dropped, err = p.finish(ctx)
	if err != nil {
		return res, err
	}
	res.wall, res.cpu = time.Since(t0), load.CPU()-cpu0
	if c.profile != "" {
		pprof.StopCPUProfile()
	}
	res.bytes = load.DirSize(p.files(dir)...)
	fmt.Fprintf(out, "%s: %s, %.0f records/s, %.1f µs CPU per record, %d bytes (load %s)\n",
		name, res.wall.Round(time.Millisecond), float64(c.n)/res.wall.Seconds(), float64(res.cpu.Microseconds())/float64(c.n), res.bytes, load.Load())

	// 3. The questions, on the store reopened.
	t := time.Now()
	if err := p.reopen(ctx, dir); err != nil {
		return res, err
	}
	res.open = time.Since(t)
	res.reqID = ask(func() (int, error) { return p.byRequestID(ctx, id) })
	res.errs = ask(func() (int, error) { return p.newestErrors(ctx) })
	res.word = ask(func() (int, error) { return p.word(ctx, word) })
	res.stored, err = p.count(ctx)
	if err != nil {
		return res, err
	}
	if jp, ok := p.(*jsonPeer); ok && c.jq {
		if _, err := exec.LookPath("jq"); err != nil {
			return res, fmt.Errorf("jq is not installed (apt-get install -y jq, or -jq=false)")
		}
		qs := jqQueries(id, word)
		for i, q := range []*query{&res.jqReqID, &res.jqErrs, &res.jqWord} {
			t := time.Now()
			q.found, q.err = jp.lines(ctx, qs[i])
			q.first, q.median = time.Since(t), time.Since(t)
		}
	}
	fmt.Fprintf(out, "%s: open %s; request id %s, newest 50 errors %s, rare word %s (first/median); %d stored (load %s)\n",
		name, res.open.Round(time.Microsecond), fq(res.reqID), fq(res.errs), fq(res.word), res.stored, load.Load())
	return res, p.close()
}

func fq(q query) string {
	if q.err != nil {
		return q.err.Error()
	}
	return q.first.Round(time.Microsecond).String() + "/" + q.median.Round(time.Microsecond).String()
}

// ask asks a question once after open, then 5 more times.
func ask(f func() (int, error)) query {
	var q query
	t := time.Now()
	q.found, q.err = f()
	q.first = time.Since(t)
	if q.err != nil {
		return q
	}
	ds := make([]time.Duration, 5)
	for i := range ds {
		t := time.Now()
		if _, err := f(); err != nil {
			q.err = err
			return q
		}
		ds[i] = time.Since(t)
	}
	slices.Sort(ds)
	q.median = ds[len(ds)/2]
	return q
}

func meanP99(ds []time.Duration) (mean, p99, slowest time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	slices.Sort(ds)
	return sum / time.Duration(len(ds)), ds[len(ds)*99/100], ds[len(ds)-1]
}

func report(out io.Writer, c config, rs []result) {
	fmt.Fprintf(out, "\n%d records, %d producers; load at the end %s\n\n", c.n, c.producers, load.Load())
	fmt.Fprintln(out, "| peer | caller's cost mean / p99 / max (µs) | records/s end to end | CPU µs per record | stored / dropped | MiB per million | open (ms) | request id (ms) | newest 50 errors (ms) | rare word (ms) |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|")
	us := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Nanoseconds())/1e3) }
	ms := func(q query) string {
		if q.err != nil {
			return "error: " + q.err.Error()
		}
		return fmt.Sprintf("%.1f / %.1f", float64(q.first.Nanoseconds())/1e6, float64(q.median.Nanoseconds())/1e6)
	}
	for _, r := range rs {
		dropped := "–"
		if r.dropped >= 0 {
			dropped = fmt.Sprint(r.dropped)
		}
		fmt.Fprintf(out, "| %s | %s / %s / %s | %.0f | %.1f | %d / %s | %.0f | %.1f | %s | %s | %s |\n",
			r.name, us(r.callMean), us(r.callP99), us(r.callMax), float64(c.n)/r.wall.Seconds(),
			float64(r.cpu.Nanoseconds())/1e3/float64(c.n), r.stored, dropped,
			float64(r.bytes)/(1<<20)/float64(c.n)*1e6, float64(r.open.Nanoseconds())/1e6,
			ms(r.reqID), ms(r.errs), ms(r.word))
		if r.jqReqID.first > 0 {
			fmt.Fprintf(out, "| %s with jq | | | | | | | %s | %s | %s |\n", r.name, ms(r.jqReqID), ms(r.jqErrs), ms(r.jqWord))
		}
	}
	fmt.Fprintln(out, "\nquery times: first after open / median of the next 5 (jq: one run)")
	idx := func(name string) int {
		return slices.IndexFunc(rs, func(r result) bool { return r.name == name })
	}
	if s, b := idx("sidelog"), idx("pocketbase"); s >= 0 && b >= 0 {
		fmt.Fprintf(out, "sidelog / pocketbase: %.2f× the end-to-end rate (target ≥ 3), %.2f× the bytes (target ≤ 0.5), %.2f× the CPU per record\n",
			rs[b].wall.Seconds()/rs[s].wall.Seconds(), float64(rs[s].bytes)/float64(rs[b].bytes), rs[s].cpu.Seconds()/rs[b].cpu.Seconds())
	}
	if s, j := idx("sidelog"), idx("jsonfile"); s >= 0 && j >= 0 {
		fmt.Fprintf(out, "sidelog / jsonfile: %.2f× the end-to-end rate, %.2f× the bytes\n",
			rs[j].wall.Seconds()/rs[s].wall.Seconds(), float64(rs[s].bytes)/float64(rs[j].bytes))
	}
}
