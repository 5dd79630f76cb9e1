package ship_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"

	"github.com/sidelog/sidelog/gen"
	"github.com/sidelog/sidelog/handler"
	"github.com/sidelog/sidelog/ship"
	"github.com/sidelog/sidelog/sqlite"
)

var (
	loadFor    = flag.Duration("ship.load", 0, "run TestLoad, logging for this long per run (e.g. 20s); 0 skips it")
	loadRate   = flag.Int("ship.rate", 20000, "records per second TestLoad logs")
	loadRounds = flag.Int("ship.rounds", 3, "rounds of TestLoad (each: one run without the shipper, one with, alternating which goes first)")
)

// receiverEnv, when set, makes the test binary an OTLP/HTTP receiver
// instead (see runReceiver): TestLoad starts one as a child process, so
// that decoding what arrives is not counted as the shipper's CPU.
const receiverEnv = "SIDELOG_SHIP_LOAD_RECEIVER"

func TestMain(m *testing.M) {
	if os.Getenv(receiverEnv) != "" {
		runReceiver()
		return
	}
	os.Exit(m.Run())
}

func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// discard is an OTLP/HTTP endpoint that reads and drops each request.
func discard(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/x-protobuf")
}

// receiverStats is what the receiver process counted since its last reset.
type receiverStats struct {
	Requests, Records, Unique int64
	Bytes                     int64 // request bodies as sent (gzipped)
	CPU                       time.Duration
}

// runReceiver serves OTLP/HTTP on a local port (printed on stdout) until
// its stdin closes: it decompresses and decodes every request and counts
// the records and the distinct sidelog.record.id values. GET /stats
// returns the counts, POST /reset clears them.
func runReceiver() {
	var (
		mu   sync.Mutex
		st   receiverStats
		seen = map[int64]bool{}
		cpu0 = cpuTime(syscall.RUSAGE_SELF)
	)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/logs", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		n := len(body)
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err == nil {
				body, err = io.ReadAll(zr)
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		var req collogspb.ExportLogsServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		st.Requests++
		st.Bytes += int64(n)
		for _, rl := range req.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					st.Records++
					for _, kv := range lr.Attributes {
						if kv.Key == ship.AttrRecordID && !seen[kv.Value.GetIntValue()] {
							seen[kv.Value.GetIntValue()] = true
							st.Unique++
						}
					}
				}
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		st.CPU = cpuTime(syscall.RUSAGE_SELF) - cpu0
		json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		st, seen, cpu0 = receiverStats{}, map[int64]bool{}, cpuTime(syscall.RUSAGE_SELF)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	go http.Serve(ln, mux)
	io.Copy(io.Discard, os.Stdin)
}

// startReceiver runs the test binary as a receiver process and returns its
// URL.
func startReceiver(t *testing.T) string {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), receiverEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + strings.TrimSpace(addr)
}

func receiverCall(t *testing.T, method, url string) receiverStats {
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st receiverStats
	if method == http.MethodGet {
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// call is one log call of the application.
type call struct {
	level slog.Level
	msg   string
	attrs []slog.Attr
}

// loadCalls returns n log calls made from gen's realistic records:
// requests over nine routes and 500 project paths with unique request ids,
// application lines with nested attributes and unique order and job ids,
// audit and security events, 5,000 users. Each call passes the record's
// columns as sidelog's attribute keys and its attributes as slog
// attributes and groups, as an application would log them.
func loadCalls(n int) []call {
	calls := make([]call, 0, n)
	for r := range gen.Records(gen.Options{Rows: n, Span: time.Hour, Seed: 20}) {
		calls = append(calls, call{r.Level, r.Message, gen.Attrs(r)})
	}
	return calls
}

// loadResult is one run: the application logging calls at a fixed rate,
// with or without a shipper.
type loadResult struct {
	logged         int
	logWall        time.Duration // the logging phase
	logCPU         time.Duration // the process's CPU during it
	totalCPU       time.Duration // and until everything was stored (and shipped)
	drain          time.Duration // from the end of logging until the last record was shipped
	shipped        int64
	recv           receiverStats
	unshipped      []int64   // records logged but not acknowledged, every 500 ms while logging
	lagSeconds     []float64 // the shipper's lag metric, every 500 ms while logging
	handlerDropped int64
	walBytes       int64 // the write-ahead logs' size when the logging stopped
}

// runLoad logs calls at rate through the sidelog handler into a new log
// database, with a shipper to url when url is set, and then waits until
// every record is stored and, with a shipper, shipped.
func runLoad(t *testing.T, calls []call, url string, rate int) loadResult {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "logs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := handler.New(db, &handler.Options{Level: slog.LevelDebug, Fallback: io.Discard})
	log := slog.New(h)
	var sh *ship.Shipper
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	if url != "" {
		receiverCall(t, http.MethodPost, url+"/reset")
		sh, err = ship.New(db, ship.Options{Endpoint: url, ServiceName: "saas", HostName: "load", Interval: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer sh.Close(ctx)
		go func() { done <- sh.Run(sctx) }()
	}
	var res loadResult
	cpu0, start := cpuTime(syscall.RUSAGE_SELF), time.Now()
	nextSample := start.Add(500 * time.Millisecond)
	for i := 0; i < len(calls); {
		due := min(len(calls), int(time.Since(start).Seconds()*float64(rate)))
		if i >= due {
			time.Sleep(time.Millisecond)
			continue
		}
		// At most 10 ms' worth between samples, also when catching up.
		for end := min(due, i+max(rate/100, 1)); i < end; i++ {
			c := &calls[i]
			log.LogAttrs(ctx, c.level, c.msg, c.attrs...)
		}
		if sh != nil && time.Now().After(nextSample) {
			st := sh.Stats()
			res.unshipped = append(res.unshipped, int64(i)-st.Shipped)
			res.lagSeconds = append(res.lagSeconds, st.Lag.Seconds())
			nextSample = nextSample.Add(500 * time.Millisecond)
		}
	}
	res.logged = len(calls)
	res.logWall, res.logCPU = time.Since(start), cpuTime(syscall.RUSAGE_SELF)-cpu0
	wals, _ := filepath.Glob(filepath.Join(dir, "logs.db.d", "*-wal"))
	for _, w := range wals {
		if fi, err := os.Stat(w); err == nil {
			res.walBytes += fi.Size()
		}
	}
	if err := h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	res.handlerDropped = h.Stats().Dropped
	if sh != nil {
		end := time.Now()
		for sh.Stats().Shipped < int64(res.logged) && time.Since(end) < 2*time.Minute {
			time.Sleep(5 * time.Millisecond)
		}
		res.drain = time.Since(end)
		res.shipped = sh.Stats().Shipped
		stop()
		<-done
		res.recv = receiverCall(t, http.MethodGet, url+"/stats")
	}
	res.totalCPU = cpuTime(syscall.RUSAGE_SELF) - cpu0
	return res
}

func median[T int64 | float64 | time.Duration](v []T) T {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func last(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	return v[len(v)-1]
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// TestLoad measures the shipper under a sustained load (see BENCHMARKS.md):
// the application logs realistic records at -ship.rate for -ship.load,
// once without and once with a shipper to a receiver process, alternating
// which goes first, for -ship.rounds rounds. It reports the CPU the
// shipper adds (the same calls, the same rate, in the same test run), the
// unshipped records and the lag metric over time, the time to drain after
// the logging stops, and checks that every record arrived exactly once.
func TestLoad(t *testing.T) {
	if *loadFor == 0 {
		t.Skip("run with -ship.load=20s")
	}
	calls := loadCalls(int(loadFor.Seconds() * float64(*loadRate)))
	url := startReceiver(t)
	fmt.Printf("load average before: %s\n", loadavg())
	var addedPerRec, pctWithout, pctWith, drains, rates []float64
	for round := 1; round <= *loadRounds; round++ {
		var base, with loadResult
		if round%2 == 1 {
			base = runLoad(t, calls, "", *loadRate)
			with = runLoad(t, calls, url, *loadRate)
		} else {
			with = runLoad(t, calls, url, *loadRate)
			base = runLoad(t, calls, "", *loadRate)
		}
		if with.handlerDropped != 0 || base.handlerDropped != 0 {
			t.Errorf("the handler dropped records")
		}
		if with.shipped != int64(with.logged) || with.recv.Records != int64(with.logged) || with.recv.Unique != int64(with.logged) {
			t.Errorf("round %d: logged %d, shipped %d, received %d (%d distinct)", round, with.logged, with.shipped, with.recv.Records, with.recv.Unique)
		}
		pct := func(r loadResult) float64 { return 100 * r.logCPU.Seconds() / r.logWall.Seconds() }
		added := float64((with.totalCPU - base.totalCPU).Microseconds()) / float64(with.logged)
		addedPerRec = append(addedPerRec, added)
		pctWithout, pctWith = append(pctWithout, pct(base)), append(pctWith, pct(with))
		drains = append(drains, with.drain.Seconds())
		rates = append(rates, float64(with.logged)/with.logWall.Seconds(), float64(base.logged)/base.logWall.Seconds())
		fmt.Printf("round %d (load %s): logged %d at %.0f/s without, %.0f/s with; CPU while logging %.0f%% of a core without, %.0f%% with; "+
			"CPU in all %.2fs without, %.2fs with: +%.1f µs per record; unshipped p50 %d max %d, lag p50 %.2fs max %.2fs, last %d; "+
			"WAL %.0f MB without, %.0f MB with; drained %.2fs after logging stopped; received %d (%d distinct) in %d requests, %.0f bytes/record; receiver CPU %.1f µs/record\n",
			round, loadavg(), with.logged, float64(base.logged)/base.logWall.Seconds(), float64(with.logged)/with.logWall.Seconds(),
			pct(base), pct(with), base.totalCPU.Seconds(), with.totalCPU.Seconds(), added,
			median(with.unshipped), slices.Max(append(with.unshipped, 0)), median(with.lagSeconds), slices.Max(append(with.lagSeconds, 0)),
			last(with.unshipped), float64(base.walBytes)/1e6, float64(with.walBytes)/1e6, with.drain.Seconds(), with.recv.Records, with.recv.Unique, with.recv.Requests,
			float64(with.recv.Bytes)/float64(with.logged), float64(with.recv.CPU.Microseconds())/float64(with.logged))
	}
	fmt.Printf("medians of %d rounds: rate %.0f/s; CPU while logging %.0f%% of a core without, %.0f%% with; shipper +%.1f µs CPU per record; drained %.2fs after logging stopped; load average after: %s\n",
		*loadRounds, median(rates), median(pctWithout), median(pctWith), median(addedPerRec), median(drains), loadavg())
}
