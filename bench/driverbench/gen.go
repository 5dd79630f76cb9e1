//go:build driverbench

package driverbench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// genVersion changes whenever the generator's output changes, so that a
// cached fixture built by an older generator is not reused.
const genVersion = 1

// rareWord occurs in one message template that about one row in 10,000
// carries; no other message contains it. It is the full-text search target.
const rareWord = "reconciliation"

// row is one generated record before dictionary encoding. Empty strings and
// zero status/duration stand for NULL.
type row struct {
	ts, level, kind           int64
	logger, msg               string
	requestID, userID, tenant string
	method, path, route       string
	status, duration          int64
	clientIP, userAgent, err  string
	attrs                     string
}

// The slog levels and sidelog kinds as stored.
const (
	levelDebug = -4
	levelInfo  = 0
	levelWarn  = 4
	levelError = 8

	kindApp     = 0
	kindRequest = 1
)

// dayNanos is one UTC day; the generator spreads a million rows over it.
const dayNanos = int64(24 * 3600 * 1e9)

// day0 is the start of the segment's UTC day (2026-03-02).
const day0 = int64(1772409600) * 1e9

type route struct {
	method, pattern string
	paths           []string
}

var (
	loggers = []string{"app", "app.orders", "app.billing", "app.auth", "app.projects",
		"app.mailer", "app.jobs", "app.search", "app.webhooks", "db", "cache", "http"}
	routes     = makeRoutes()
	userAgents = makeUserAgents()
	templates  = makeTemplates()
	errTexts   = []string{
		"context deadline exceeded",
		"context canceled",
		`ERROR: duplicate key value violates unique constraint "orders_pkey" (SQLSTATE 23505)`,
		"dial tcp 10.0.3.7:5432: connect: connection refused",
		"read tcp 10.0.1.4:44312->10.0.3.7:5432: i/o timeout",
		"sql: no rows in result set",
		"invalid character '<' looking for beginning of value",
		"stripe: card_declined: Your card was declined.",
		"smtp: 421 4.7.0 Try again later",
		"redis: connection pool timeout",
		"permission denied",
		"json: cannot unmarshal string into Go struct field Order.quantity of type int",
		"http2: stream closed",
		"unexpected EOF",
		"x509: certificate has expired or is not yet valid",
		"upstream returned 503 Service Unavailable",
		"validation failed: email is required",
		"rate limit exceeded for key api:tenant",
		"write: broken pipe",
		"no space left on device",
	}
	statuses = []struct {
		code   int64
		weight int
	}{{200, 9000}, {201, 300}, {204, 100}, {302, 100}, {304, 100}, {400, 150},
		{401, 50}, {403, 50}, {404, 100}, {500, 30}, {502, 10}, {503, 10}}
	statusTotal = func() (n int) {
		for _, s := range statuses {
			n += s.weight
		}
		return n
	}()
)

func makeRoutes() []route {
	resources := []string{"projects", "orders", "invoices", "users", "teams", "tasks",
		"comments", "files", "webhooks", "reports"}
	var rs []route
	for i, res := range resources {
		base := "/api/" + res
		rs = append(rs,
			route{"GET", base, []string{base}},
			route{"POST", base, []string{base}},
			route{"GET", base + "/{id}", nil},
			route{"PATCH", base + "/{id}", nil},
		)
		for j := 2; j < 4; j++ {
			r := &rs[len(rs)-4+j]
			for k := range 8 {
				r.paths = append(r.paths, fmt.Sprintf("%s/%d", base, 1000+i*97+k*13))
			}
		}
	}
	rs = append(rs, route{"GET", "/", []string{"/"}}, route{"GET", "/login", []string{"/login"}},
		route{"POST", "/login", []string{"/login"}}, route{"GET", "/healthz", []string{"/healthz"}})
	return rs
}

func makeUserAgents() []string {
	var uas []string
	oses := []string{"Windows NT 10.0; Win64; x64", "Macintosh; Intel Mac OS X 10_15_7",
		"X11; Linux x86_64", "iPhone; CPU iPhone OS 17_4 like Mac OS X", "Linux; Android 14; Pixel 8"}
	for i := range 24 {
		uas = append(uas, fmt.Sprintf("Mozilla/5.0 (%s) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.0 Safari/537.36",
			oses[i%len(oses)], 118+i/len(oses), 6000+i*37))
	}
	return append(uas, "curl/8.5.0", "Go-http-client/2.0", "python-requests/2.31.0",
		"Prometheus/2.51.0", "kube-probe/1.29", "Googlebot/2.1 (+http://www.google.com/bot.html)")
}

// makeTemplates returns 200 distinct messages; the first three are the
// request middleware's.
func makeTemplates() []string {
	subjects := []string{"order", "invoice", "payment", "session", "project", "task",
		"webhook delivery", "email", "export job", "cache entry", "user profile", "api token",
		"search index", "file upload", "team invite", "report", "subscription", "comment",
		"audit batch", "feature flag"}
	actions := []string{"created", "updated", "deleted", "loaded from store", "queued for processing",
		"processed successfully", "retried after transient failure", "skipped: nothing to do",
		"validation failed", "took longer than expected"}
	ts := []string{"request completed", "request failed", "slow request"}
	for i := 0; len(ts) < 200; i++ {
		ts = append(ts, subjects[i%len(subjects)]+" "+actions[i/len(subjects)%len(actions)])
	}
	return ts
}

// gen produces request-like rows in ascending time order: each HTTP request
// is a request row preceded by 0-3 application rows that share its request
// id and user.
type gen struct {
	r    *rand.Rand
	zipf *rand.Zipf
	ts   int64
	step int64 // mean gap between rows, ns
}

func newGen(seed uint64, ts int64) *gen {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	return &gen{
		r:    r,
		zipf: rand.NewZipf(r, 1.2, 2, uint64(len(templates)-4)),
		ts:   ts,
		step: dayNanos / 1_000_000,
	}
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func (g *gen) token(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[g.r.IntN(len(alnum))]
	}
	return string(b)
}

func (g *gen) next() int64 {
	g.ts += 1 + g.r.Int64N(2*g.step)
	return g.ts
}

// batch returns n rows; the last request of a batch may be cut short.
func (g *gen) batch(n int) []row {
	rows := make([]row, 0, n+4)
	for len(rows) < n {
		rows = g.request(rows)
	}
	return rows[:n]
}

func (g *gen) request(rows []row) []row {
	reqID := g.token(20)
	var user, tenant, ip string
	if g.r.IntN(100) < 85 {
		u := 1 + g.r.IntN(5000)
		user = strconv.Itoa(u)
		tenant = strconv.Itoa(1 + u%300)
		ip = fmt.Sprintf("10.%d.%d.%d", u%7, u%251, u%199+1)
	} else {
		ip = fmt.Sprintf("203.0.%d.%d", g.r.IntN(8), 1+g.r.IntN(250))
	}
	for range g.r.IntN(4) {
		rows = append(rows, g.appRow(reqID, user, tenant))
	}
	rt := &routes[g.r.IntN(len(routes))]
	status := g.status()
	level := int64(levelInfo)
	msg := templates[0]
	switch {
	case status >= 500:
		level, msg = levelError, templates[1]
	case status >= 400:
		level = levelWarn
	}
	dur := int64(math.Exp(g.r.Float64()*math.Log(500)) * 1e6)
	if dur > 300e6 && level == levelInfo {
		level, msg = levelWarn, templates[2]
	}
	r := row{
		ts: g.next(), level: level, kind: kindRequest, logger: "http", msg: msg,
		requestID: reqID, userID: user, tenant: tenant,
		method: rt.method, path: rt.paths[g.r.IntN(len(rt.paths))], route: rt.method + " " + rt.pattern,
		status: status, duration: dur, clientIP: ip, userAgent: userAgents[g.r.IntN(len(userAgents))],
		attrs: fmt.Sprintf(`{"bytes_in":%d,"bytes_out":%d,"query":"page=%d&sort=created","referer":"https://app.example.com/projects/%d"}`,
			g.r.IntN(2000), g.r.IntN(90000), g.r.IntN(20), g.r.IntN(5000)),
	}
	if level == levelError {
		r.err = g.errText()
	}
	return append(rows, r)
}

func (g *gen) appRow(reqID, user, tenant string) row {
	r := row{
		ts: g.next(), kind: kindApp, logger: loggers[g.r.IntN(len(loggers)-1)],
		requestID: reqID, userID: user, tenant: tenant,
		attrs: fmt.Sprintf(`{"order_id":%d,"amount_cents":%d,"currency":"EUR","attempt":%d,"feature":"checkout-v2"}`,
			100000+g.r.IntN(900000), g.r.IntN(100000), 1+g.r.IntN(3)),
	}
	switch p := g.r.IntN(1000); {
	case p < 150:
		r.level = levelDebug
	case p < 930:
		r.level = levelInfo
	case p < 995:
		r.level = levelWarn
	default:
		r.level = levelError
	}
	switch p := g.r.IntN(10000); {
	case p < 1:
		r.msg = "ledger " + rareWord + " drift detected"
	case p < 21: // 0.2%: a message with a value in it, seen once
		r.msg = "payment webhook rejected: signature mismatch for event evt_" + g.token(14)
	default:
		r.msg = templates[3+g.zipf.Uint64()]
	}
	if r.level >= levelWarn {
		r.err = g.errText()
	}
	return r
}

func (g *gen) errText() string {
	if g.r.IntN(10) < 3 {
		return "lookup order " + g.token(10) + ": record not found"
	}
	return errTexts[g.r.IntN(len(errTexts))]
}

func (g *gen) status() int64 {
	n := g.r.IntN(statusTotal)
	for _, s := range statuses {
		if n < s.weight {
			return s.code
		}
		n -= s.weight
	}
	return 200
}
