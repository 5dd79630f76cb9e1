package cli_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestServe_RefusesOpenAddressWithoutPassword(t *testing.T) {
	db := newDB(t)
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:8090", "[::]:0", ":8090"} {
		r := runCLI(t, nil, "serve", "--db", db, "--addr", addr)
		if r.code != 2 || !strings.Contains(r.stderr, "SIDELOG_ADMIN_PASSWORD") {
			t.Errorf("%s: exit %d, %s", addr, r.code, r.stderr)
		}
	}
	if r := runCLI(t, nil, "serve", "--db", db, "--addr", "nonsense"); r.code != 2 {
		t.Errorf("bad address: exit %d %s", r.code, r.stderr)
	}
}

func TestServe_Password(t *testing.T) {
	db := newDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan result, 1)
	go func() {
		done <- runCLI(t, &opts{ctx: ctx, stdout: pw, env: map[string]string{"SIDELOG_ADMIN_PASSWORD": "s3cret"}},
			"serve", "--db", db, "--addr", "0.0.0.0:0")
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	go io.Copy(io.Discard, pr)
	if err != nil {
		t.Fatalf("no startup line: %v %v", err, <-done)
	}
	m := regexp.MustCompile(`:(\d+)/\s*$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("startup line %q", line)
	}
	base := "http://127.0.0.1:" + m[1]
	get := func(user, pass string) int {
		req, _ := http.NewRequest("GET", base+"/?q=level>=warn", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, c := range []struct {
		user, pass string
		want       int
	}{{"", "", 401}, {"admin", "wrong", 401}, {"root", "s3cret", 401}, {"admin", "s3cret", 200}} {
		if got := get(c.user, c.pass); got != c.want {
			t.Errorf("%q/%q: %d, want %d", c.user, c.pass, got, c.want)
		}
	}
	cancel()
	select {
	case r := <-done:
		if r.code != 0 {
			t.Errorf("serve ended with %d: %s", r.code, r.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}
