// Package load makes the realistic records the peer benchmark and the soak
// feed to every logger, and the process measurements they report.
package load

import (
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/gen"
)

// Rec is one log call: what an application passes to slog.Logger.LogAttrs.
// The attributes use sidelog's Key* names with typed values (an int status,
// a time.Duration), which other handlers store as ordinary attributes.
type Rec struct {
	Level     slog.Level
	Msg       string
	Attrs     []slog.Attr
	RequestID string
}

// Records returns n records from gen (seed seed), converted once into log
// calls. Their times are dropped: a logger stamps the time of the call.
func Records(n int, seed uint64) []Rec {
	out := make([]Rec, 0, n)
	for r := range gen.Records(gen.Options{Rows: n, Seed: seed, End: time.Now()}) {
		out = append(out, Convert(r))
	}
	return out
}

// Convert turns a generated record into the log call an application would
// make for it.
func Convert(r sidelog.Record) Rec {
	return Rec{Level: r.Level, Msg: r.Message, Attrs: gen.Attrs(r), RequestID: r.RequestID}
}

// CPU returns the CPU time (user + system) the process has used so far.
func CPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// RSS returns the process's resident set size in bytes (VmRSS), or 0 where
// /proc is missing.
func RSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// OpenFiles returns the number of the process's open file descriptors, or
// -1 where /proc is missing.
func OpenFiles() int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(es)
}

// Load returns the 1-minute load average as /proc/loadavg says it ("?"
// where it is missing).
func Load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// DirSize returns the bytes of the regular files under path (a file or a
// directory).
func DirSize(paths ...string) int64 {
	var n int64
	for _, p := range paths {
		st, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if !st.IsDir() {
			n += st.Size()
			continue
		}
		es, _ := os.ReadDir(p)
		for _, e := range es {
			n += DirSize(p + string(os.PathSeparator) + e.Name())
		}
	}
	return n
}
