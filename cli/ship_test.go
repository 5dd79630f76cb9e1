package cli_test

import (
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"
)

// countingOTLP is an OTLP/HTTP endpoint that counts the log records it
// receives.
type countingOTLP struct{ n atomic.Int64 }

func (c *countingOTLP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b, _ := io.ReadAll(zr)
	var req collogspb.ExportLogsServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, rl := range req.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			c.n.Add(int64(len(sl.LogRecords)))
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

// smallDB generates a database of a few hundred records over two days:
// shipping the shared 45-day one is slow under the race detector.
func smallDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "logs.db")
	if res := runCLI(t, nil, "gen", "--db", db, "--rows", "300", "--days", "2d", "--end", genEnd, "--seed", "2"); res.code != 0 {
		t.Fatal(res.stderr)
	}
	return db
}

func TestShip(t *testing.T) {
	t.Parallel()
	recv := &countingOTLP{}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	db := smallDB(t)
	res := runCLI(t, nil, "ship", "--db", db, "--endpoint", srv.URL, "--host", "web-1")
	if res.code != 0 || !strings.Contains(res.stdout, "shipped ") {
		t.Fatalf("first run: %+v", res)
	}
	first := recv.n.Load()
	stats := runCLI(t, nil, "stats", "--db", db, "--json")
	if first == 0 || !strings.Contains(strings.ReplaceAll(stats.stdout, " ", ""), `"records":`+itoa(first)) {
		t.Fatalf("shipped %d records; stats say:\n%s", first, stats.stdout)
	}
	// Run again: nothing left to ship.
	res = runCLI(t, &opts{env: map[string]string{"SIDELOG_OTLP_ENDPOINT": srv.URL}}, "ship", "--db", db)
	if res.code != 0 || !strings.Contains(res.stdout, "shipped 0 records") || recv.n.Load() != first {
		t.Fatalf("second run: %+v; %d records received", res, recv.n.Load())
	}
}

func TestShip_Errors(t *testing.T) {
	t.Parallel()
	db := smallDB(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		args []string
		env  map[string]string
		code int
		want string
	}{
		{[]string{"ship", "--db", db}, nil, 2, "give --endpoint URL"},
		{[]string{"ship", "--db", db, "--endpoint", "collector:4318"}, nil, 2, "scheme must be http or https"},
		{[]string{"ship", "--db", db, "--endpoint", down, "--protocol", "udp"}, nil, 2, `protocol "udp"`},
		{[]string{"ship", "--db", db, "--endpoint", down, "--header", "novalue"}, nil, 2, "want key=value"},
		{[]string{"ship", "--db", db, "--endpoint", down, "--batch", "0"}, nil, 2, "--batch between"},
		{[]string{"ship", "--db", db, "--endpoint", down, "extra"}, nil, 2, ""},
		{[]string{"ship", "--db", db + ".missing", "--endpoint", down}, nil, 0, "no log database"},
		{[]string{"ship", "--db", db, "--retry-for", "50ms"}, map[string]string{"SIDELOG_OTLP_ENDPOINT": down}, 0, "connection refused"},
	} {
		res := runCLI(t, &opts{env: tc.env}, tc.args...)
		if res.code == 0 || (tc.code != 0 && res.code != tc.code) || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("%v: %+v; want exit %d and %q", tc.args, res, tc.code, tc.want)
		}
	}
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for n >= 10 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	i--
	b[i] = byte('0' + n)
	return string(b[i:])
}
