package main

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/sqlite"
)

// TestServe_Hostile sends requests a hostile client would and checks that
// each is answered and logged correctly, and that the server keeps serving.
func TestServe_Hostile(t *testing.T) {
	s := startServer(t, nil)
	c := s.client(t)
	long := strings.Repeat("a", 1000)
	for _, id := range []string{long, "bad id with spaces;and=semicolons", "<script>"} {
		r := c.Do("GET", "/login", nil, map[string]string{"X-Request-ID": id})
		if got := r.Header.Get("X-Request-ID"); got == id || got == "" || len(got) > 64 {
			t.Errorf("X-Request-ID %.20q answered with %q, want a fresh id", id, got)
		}
	}
	good := c.Do("GET", "/login", nil, map[string]string{"X-Request-ID": "client-id-123"})
	if got := good.Header.Get("X-Request-ID"); got != "client-id-123" {
		t.Errorf("well-formed X-Request-ID answered with %q", got)
	}
	c.Do("GET", "/login", nil, map[string]string{"X-Forwarded-For": "203.0.113.9"})

	// A client that sends half a request and goes away, and one that
	// disconnects before reading the answer.
	for _, raw := range []string{
		"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nemail=",
		"GET /projects HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte(raw))
		conn.Close()
	}
	time.Sleep(100 * time.Millisecond)
	if r := c.Get("/healthz"); r.Status != 200 {
		t.Fatalf("server unhealthy after hostile clients: %d", r.Status)
	}
	s.Stop(t)

	db, err := sqlite.Open(context.Background(), s.logDB(), sqlite.Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, ex := range c.Exchanges {
		if ex.Path == "/healthz" {
			continue
		}
		res, err := db.Query(context.Background(), sidelog.Filter{RequestID: ex.RequestID, Kinds: []sidelog.Kind{sidelog.KindRequest}}, sidelog.Page{})
		if err != nil || len(res.Records) != 1 {
			t.Errorf("request %s: %d records, %v", ex.RequestID, len(res.Records), err)
			continue
		}
		if r := res.Records[0]; r.ClientIP != "127.0.0.1" {
			t.Errorf("request %s: client ip %q, want the peer (X-Forwarded-For from an untrusted peer is ignored)", ex.RequestID, r.ClientIP)
		}
	}
}
