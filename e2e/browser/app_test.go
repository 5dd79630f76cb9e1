package browser

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	adminEmail    = "admin@example.com"
	adminPassword = "admin password 1"
	password      = "correct horse battery"
)

// app is the reference application running as a process of its own.
type app struct {
	URL   string
	dir   string
	env   []string
	mu    sync.Mutex
	out   strings.Builder
	cmd   *exec.Cmd
	logDB string
}

// startApp fills a log database with synthetic and hostile records, then
// starts `saas serve` on a free port with the business database at dsn
// (a SQLite file when empty).
func startApp(t *testing.T, dsn string) *app {
	t.Helper()
	dir := t.TempDir()
	a := &app{dir: dir, logDB: filepath.Join(dir, "logs.db")}
	a.env = append(os.Environ(),
		"ADDR=127.0.0.1:0", "SAAS_DATA_DIR="+dir, "SIDELOG_DB="+a.logDB,
		"SAAS_ADMIN_EMAIL="+adminEmail, "SAAS_ADMIN_PASSWORD="+adminPassword, "LOG_LEVEL=debug")
	if dsn != "" {
		a.env = append(a.env, "DATABASE_URL="+dsn)
	}
	a.sidelog(t, "gen", "--db", a.logDB, "--rows", "20000", "--days", "2d", "--users", "40")
	a.sidelog(t, "import", "--db", a.logDB, hostileFile(t, dir))

	a.cmd = exec.Command(filepath.Join(bin, "saas"), "serve")
	a.cmd.Env = a.env
	a.cmd.Dir = dir
	stdout, _ := a.cmd.StdoutPipe()
	a.cmd.Stderr = &lockedWriter{a}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { a.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			a.cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("saas output:\n%s", a.output())
		}
	})
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			(&lockedWriter{a}).Write([]byte(sc.Text() + "\n"))
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				urlc <- u
			}
		}
	}()
	select {
	case a.URL = <-urlc:
	case <-time.After(60 * time.Second):
		t.Fatalf("saas did not start:\n%s", a.output())
	}
	return a
}

type lockedWriter struct{ a *app }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.a.mu.Lock()
	defer w.a.mu.Unlock()
	return w.a.out.Write(p)
}

func (a *app) output() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.out.String()
}

func (a *app) sidelog(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "sidelog"), args...)
	cmd.Env = a.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sidelog %v: %v\n%s", args, err, out)
	}
}

// saas runs a command of the application against its databases.
func (a *app) saas(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "saas"), args...)
	cmd.Env = a.env
	cmd.Dir = a.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("saas %v: %v\n%s", args, err, out)
	}
}

// payloads are the hostile values every log field gets.
var payloads = []string{
	`<script>alert("xss-script")</script>`,
	`<img src=x onerror=alert("xss-img")>`,
	`javascript:alert("xss-js")`,
	`"><svg onload=alert("xss-svg")>`,
}

// hostileFile writes records whose every text field holds a payload, as
// JSON Lines for `sidelog import`.
func hostileFile(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "hostile.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	now := time.Now().UTC()
	for i, p := range payloads {
		attrs := map[string]any{p: p, "nested": map[string]any{p: []any{p}}}
		enc.Encode(map[string]any{
			"time": now.Add(-time.Duration(30+i) * time.Second), "level": "WARN", "kind": "request",
			"msg": "hostile " + p, "logger": p, "request_id": "hostile-" + fmt.Sprint(i), "user_id": p,
			"method": "GET", "path": "/h/" + p, "status": 400, "user_agent": p, "error": p, "attrs": attrs,
		})
	}
	return path
}

// client is a Go HTTP client of the app with its own cookies.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t, base, &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (c *client) get(path string, header ...string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// submit posts a form with the CSRF token of the page it is on.
func (c *client) submit(page, action string, form url.Values) *http.Response {
	c.t.Helper()
	_, body := c.get(page)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("no CSRF token on %s", page)
	}
	form.Set("csrf_token", html.UnescapeString(m[1]))
	res, err := c.http.PostForm(c.base+action, form)
	if err != nil {
		c.t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// signup signs email up through the form and the link the app mailed
// (printed on its standard error).
func (a *app) signup(t *testing.T, email string) {
	t.Helper()
	c := newClient(t, a.URL)
	if res := c.submit("/signup", "/signup", url.Values{"email": {email}, "password": {password}, "org": {"Org of " + email}}); res.StatusCode != 200 {
		t.Fatalf("signup %s: %d", email, res.StatusCode)
	}
	var token string
	waitFor(context.Background(), 10*time.Second, func() bool {
		out := a.output()
		i := strings.LastIndex(out, "--- mail to "+email+":")
		if i < 0 {
			return false
		}
		if m := regexp.MustCompile(`/signup/confirm\?token=([A-Za-z0-9]+)`).FindStringSubmatch(out[i:]); m != nil {
			token = m[1]
		}
		return token != ""
	})
	if token == "" {
		t.Fatalf("no sign-up link mailed to %s:\n%s", email, a.output())
	}
	if res := c.submit("/signup/confirm?token="+token, "/signup/confirm", url.Values{"token": {token}}); res.StatusCode != 303 {
		t.Fatalf("confirm signup %s: %d", email, res.StatusCode)
	}
}

func (c *client) login(email, pw string) {
	c.t.Helper()
	if res := c.submit("/login", "/login", url.Values{"email": {email}, "password": {pw}}); res.StatusCode != 303 {
		c.t.Fatalf("login %s: %d", email, res.StatusCode)
	}
}

// hostileRequests makes requests whose path and user agent are payloads,
// so that the app's own request records carry them.
func hostileRequests(t *testing.T, base string) {
	for _, p := range payloads {
		req, _ := http.NewRequest("GET", base+"/h2/"+url.PathEscape(p), nil)
		req.Header.Set("User-Agent", p)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
}

func marker() string { return strings.ToLower(rand.Text()[:10]) }

// waitFor polls fn until it is true or the deadline passes.
func waitFor(ctx context.Context, d time.Duration, fn func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if fn() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}
