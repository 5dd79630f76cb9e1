// Package gen makes realistic synthetic log records for demos, tests and
// benchmarks: mostly HTTP requests from a few thousand users over a handful
// of routes, with application lines, rare errors, audit and security events.
// Records are shaped like the ones httplog and an application write (the
// same messages and attribute names), and carry realistic attributes: ids,
// nested objects, e-mail addresses, unique order ids, and a rare key
// (coupon, on about one record in 100,000). The same seed gives the same
// records.
package gen

import (
	"encoding/json"
	"fmt"
	"iter"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
)

// Options shape the generated records.
type Options struct {
	Rows  int           // how many records
	End   time.Time     // the newest record's time; default now
	Span  time.Duration // the records spread evenly over this span before End; default 30 days
	Seed  uint64
	Users int // distinct users; default 5000
}

var (
	routes = []struct{ method, pattern, path string }{
		{"GET", "GET /projects", "/projects"},
		{"GET", "GET /projects/{id}", "/projects/%d"},
		{"POST", "POST /api/projects", "/api/projects"},
		{"PUT", "PUT /api/projects/{id}", "/api/projects/%d"},
		{"DELETE", "DELETE /api/projects/{id}", "/api/projects/%d"},
		{"GET", "GET /api/projects", "/api/projects"},
		{"GET", "GET /static/", "/static/app.css"},
		{"POST", "POST /login", "/login"},
		{"GET", "GET /", "/"},
	}
	agents = []string{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
		"curl/8.5.0",
		"Go-http-client/1.1",
	}
	appMessages = []string{
		"cache miss", "cache hit", "project loaded", "project saved", "sending notification email",
		"rate limit checked", "session refreshed", "background job started", "background job finished",
		"slow query", "retrying upstream call", "feature flag evaluated", "order placed", "payment processed",
	}
	words = []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"}
)

// Records yields o.Rows records in time order.
func Records(o Options) iter.Seq[sidelog.Record] {
	if o.End.IsZero() {
		o.End = time.Now()
	}
	if o.Span <= 0 {
		o.Span = 30 * sidelog.Day
	}
	if o.Users <= 0 {
		o.Users = 5000
	}
	return func(yield func(sidelog.Record) bool) {
		rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x5eed))
		start := o.End.Add(-o.Span)
		step := o.Span / time.Duration(max(o.Rows, 1))
		var reqID string
		for i := 0; i < o.Rows; i++ {
			t := start.Add(step * time.Duration(i+1))
			r := one(rng, o, t, i)
			// App lines follow the request they belong to.
			if r.Kind == sidelog.KindRequest {
				reqID = r.RequestID
			} else if r.Kind == sidelog.KindApp && reqID != "" && rng.IntN(2) == 0 {
				r.RequestID = reqID
			}
			if !yield(r) {
				return
			}
		}
	}
}

func one(rng *rand.Rand, o Options, t time.Time, i int) sidelog.Record {
	user := fmt.Sprint(1 + rng.IntN(o.Users))
	tenant := fmt.Sprint(1 + rng.IntN(max(o.Users/20, 1)))
	r := sidelog.Record{Time: t, Level: slog.LevelInfo, UserID: user, TenantID: tenant}
	switch p := rng.IntN(1000); {
	case p < 600:
		request(rng, &r)
	case p < 990:
		r.Kind, r.Logger = sidelog.KindApp, "app"
		m := rng.IntN(len(appMessages))
		r.Message = appMessages[m]
		switch q := rng.IntN(100); {
		case q < 30:
			r.Level = slog.LevelDebug
		case q < 33:
			r.Level = slog.LevelWarn
		case q == 99:
			r.Level, r.Error = slog.LevelError, fmt.Sprintf("upstream %s: connection reset", words[rng.IntN(len(words))])
		}
		r.Attrs = appAttrs(rng, m, user, i)
	case p < 996:
		r.Kind, r.Logger = sidelog.KindAudit, "audit"
		r.Message = "project updated"
		r.Attrs = json.RawMessage(fmt.Sprintf(`{"entity":"project","entity_id":%d,"changes":{"status":["active","archived"]}}`, rng.IntN(10000)))
	default:
		r.Kind, r.Logger, r.Level = sidelog.KindSecurity, "auth", slog.LevelWarn
		r.Message = "login failed"
		r.ClientIP = ip(rng)
		r.Attrs = json.RawMessage(fmt.Sprintf(`{"email":"%s","reason":"%s"}`, email(user), []string{"bad password", "unknown account", "locked"}[rng.IntN(3)]))
	}
	if i%250000 == 4321 {
		// A word that occurs once in a while, for text-search benchmarks.
		r.Message = fmt.Sprintf("unique event zq%dx happened", i)
	}
	if i%250000 == 1234 {
		// A word found only in the attributes, for the same.
		r.Attrs = json.RawMessage(fmt.Sprintf(`{"note":"customer asked for zk%dw"}`, i))
	}
	if i%100000 == 777 {
		// A rare key.
		r.Attrs = json.RawMessage(fmt.Sprintf(`{"coupon":"SPRING-%d","order":{"id":"%s"}}`, i, orderID(i)))
	}
	return r
}

func request(rng *rand.Rand, r *sidelog.Record) {
	rt := routes[rng.IntN(len(routes))]
	r.Kind, r.Logger = sidelog.KindRequest, "http"
	r.Method, r.Route, r.Path = rt.method, rt.pattern, rt.path
	if strings.Contains(rt.path, "%d") {
		r.Path = strings.Replace(rt.path, "%d", strconv.Itoa(1+rng.IntN(500)), 1)
	}
	r.Status = 200
	switch q := rng.IntN(1000); {
	case q < 2:
		r.Status, r.Level, r.Error = 500, slog.LevelError, "internal error: nil pointer dereference"
	case q < 20:
		r.Status, r.Level = 404, slog.LevelWarn
	case q < 30:
		r.Status, r.Level = 403, slog.LevelWarn
	case q < 60 && rt.method != "GET":
		r.Status = 201
	}
	r.Duration = time.Duration(200+rng.ExpFloat64()*3000) * time.Microsecond
	r.ClientIP = ip(rng)
	r.UserAgent = agents[rng.IntN(len(agents))]
	r.RequestID = requestID(rng, r.Time)
	// httplog's message and attribute names.
	r.Message = fmt.Sprintf("%s %s %d", r.Method, r.Path, r.Status)
	if r.Duration > 10*time.Millisecond {
		r.Attrs = json.RawMessage(fmt.Sprintf(`{"http.response_bytes":%d,"slow":true}`, 200+rng.IntN(20000)))
	} else {
		r.Attrs = json.RawMessage(fmt.Sprintf(`{"http.response_bytes":%d}`, 200+rng.IntN(20000)))
	}
}

func ip(rng *rand.Rand) string {
	return fmt.Sprintf("10.%d.%d.%d", rng.IntN(4), rng.IntN(256), 1+rng.IntN(254))
}

// requestID is shaped like the middleware's: a time prefix and random bits.
func requestID(rng *rand.Rand, t time.Time) string {
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	b := make([]byte, 0, 20)
	ms := uint64(t.UnixMilli())
	for i := 9; i >= 0; i-- {
		b = append(b, alphabet[(ms>>(5*uint(i)))&31])
	}
	for range 10 {
		b = append(b, alphabet[rng.IntN(32)])
	}
	return string(b)
}

// appAttrs returns the attributes of an application line with message
// appMessages[m], as an application would log them.
func appAttrs(rng *rand.Rand, m int, user string, i int) json.RawMessage {
	project := 1 + rng.IntN(500)
	switch appMessages[m] {
	case "cache miss", "cache hit":
		return json.RawMessage(fmt.Sprintf(`{"cache":{"key":"project:%d","hit":%v},"elapsed_ms":%d}`, project, appMessages[m] == "cache hit", rng.IntN(20)))
	case "project loaded", "project saved":
		return json.RawMessage(fmt.Sprintf(`{"project_id":%d,"org":{"id":%d,"plan":"%s"}}`, project, 1+project%50, plans[project%len(plans)]))
	case "sending notification email":
		return json.RawMessage(fmt.Sprintf(`{"email":"%s","template":"%s"}`, email(user), []string{"welcome", "invoice", "reset-password", "digest"}[rng.IntN(4)]))
	case "feature flag evaluated":
		return json.RawMessage(fmt.Sprintf(`{"flag":"%s","enabled":%v,"user":{"id":%s,"email":"%s"}}`, words[rng.IntN(len(words))], rng.IntN(3) == 0, user, email(user)))
	case "slow query", "retrying upstream call":
		return json.RawMessage(fmt.Sprintf(`{"elapsed_ms":%d,"item":"%s-%d","attempt":%d}`, 100+rng.IntN(900), words[rng.IntN(len(words))], rng.IntN(1000), 1+rng.IntN(3)))
	case "rate limit checked":
		return json.RawMessage(fmt.Sprintf(`{"limit":{"key":"user:%s","remaining":%d}}`, user, rng.IntN(100)))
	case "session refreshed":
		return json.RawMessage(fmt.Sprintf(`{"session":{"id":"s_%x","ttl_s":3600}}`, uint32(i)*2246822519))
	case "background job started", "background job finished":
		return json.RawMessage(fmt.Sprintf(`{"job":{"id":"job_%d","queue":"%s"}}`, i, []string{"default", "mail", "reports"}[rng.IntN(3)]))
	}
	// An order with a unique id, a total and the customer.
	return json.RawMessage(fmt.Sprintf(`{"order":{"id":"%s","total":%d.%02d,"currency":"EUR","items":%d},"customer":{"email":"%s"},"project_id":%d}`,
		orderID(i), 5+rng.IntN(500), rng.IntN(100), 1+rng.IntN(9), email(user), project))
}

var plans = []string{"free", "pro", "pro", "business"}

// email is the address of a user.
func email(user string) string { return "user" + user + "@example.com" }

// orderID is a unique id, shaped like the ones applications make.
func orderID(i int) string { return fmt.Sprintf("ord_%08x", uint32(i)*2654435761) }
