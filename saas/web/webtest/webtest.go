// Package webtest is a browser-like client of the reference application
// for tests: a cookie jar, the CSRF tokens of forms, and JSON API calls.
package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/sidelog/sidelog/saas"
)

// Client talks to one server as one browser.
type Client struct {
	TB   testing.TB
	Base string // like "http://127.0.0.1:8080"
	HTTP *http.Client

	apiToken string

	// Mail returns the body of the newest mail the application sent to an
	// address (a Mailbox's Last, or the mails cmd/saas prints); Signup
	// follows the link in it.
	Mail func(to string) string

	// Exchanges records every request sent, for checking the request log.
	Exchanges []Exchange
}

// Exchange is one request and what the server answered.
type Exchange struct {
	Method, Path string
	Status       int
	RequestID    string // the X-Request-ID the server answered with
}

// New returns a client of the server at base that does not follow
// redirects, so tests see them.
func New(tb testing.TB, base string) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{TB: tb, Base: strings.TrimSuffix(base, "/"), HTTP: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Response is a read response.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends a request and reads the whole response.
func (c *Client) Do(method, path string, body io.Reader, header map[string]string) Response {
	c.TB.Helper()
	req, err := http.NewRequest(method, c.Base+path, body)
	if err != nil {
		c.TB.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.TB.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	c.Exchanges = append(c.Exchanges, Exchange{Method: method, Path: req.URL.Path, Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-ID")})
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.TB.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// Get fetches a page.
func (c *Client) Get(path string) Response {
	c.TB.Helper()
	return c.Do(http.MethodGet, path, nil, nil)
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)

// CSRF returns the token in a page's form.
func CSRF(tb testing.TB, page string) string {
	tb.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		tb.Fatalf("no csrf_token in page:\n%s", page)
	}
	return html.UnescapeString(m[1])
}

// PostForm posts a form as a browser would; csrf is added as csrf_token
// unless it is empty.
func (c *Client) PostForm(path string, form url.Values, csrf string) Response {
	c.TB.Helper()
	if csrf != "" {
		form.Set("csrf_token", csrf)
	}
	return c.Do(http.MethodPost, path, strings.NewReader(form.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

// Submit fetches the page with the form, then posts the form with the
// page's CSRF token.
func (c *Client) Submit(formPage, action string, form url.Values) Response {
	c.TB.Helper()
	return c.PostForm(action, form, CSRF(c.TB, c.Get(formPage).Body))
}

// Login logs in through the login form and fails the test unless it
// redirects to the projects.
func (c *Client) Login(email, password string) {
	c.TB.Helper()
	r := c.Submit("/login", "/login", url.Values{"email": {email}, "password": {password}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/projects" {
		c.TB.Fatalf("login %s: got %d %s", email, r.Status, r.Body)
	}
}

// Signup signs up through the signup form and the link mailed to email,
// and fails the test unless it ends logged in.
func (c *Client) Signup(email, password, org string) {
	c.TB.Helper()
	r := c.Submit("/signup", "/signup", url.Values{"email": {email}, "password": {password}, "org": {org}})
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "Check your inbox") {
		c.TB.Fatalf("signup %s: got %d %s", email, r.Status, r.Body)
	}
	c.ConfirmSignup(email)
}

var confirmRE = regexp.MustCompile(`/signup/confirm\?token=([A-Za-z0-9]+)`)

// ConfirmSignup follows the sign-up link of the newest mail to email: the
// confirmation page, then its button.
func (c *Client) ConfirmSignup(email string) {
	c.TB.Helper()
	if c.Mail == nil {
		c.TB.Fatal("webtest: set Client.Mail to read the sign-up link")
	}
	m := confirmRE.FindStringSubmatch(c.Mail(email))
	if m == nil {
		c.TB.Fatalf("no sign-up link in the mail to %s: %q", email, c.Mail(email))
	}
	page := c.Get("/signup/confirm?token=" + m[1])
	if page.Status != http.StatusOK {
		c.TB.Fatalf("confirm page of %s: %d %s", email, page.Status, page.Body)
	}
	r := c.PostForm("/signup/confirm", url.Values{"token": {m[1]}}, CSRF(c.TB, page.Body))
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/projects" {
		c.TB.Fatalf("confirm signup of %s: got %d %s", email, r.Status, r.Body)
	}
}

// Mailbox keeps the mails an application sends in a test: pass its Send
// as web.Config.Mail and its Last as Client.Mail.
type Mailbox struct {
	mu    sync.Mutex
	mails []saas.Mail
}

// Send keeps m.
func (b *Mailbox) Send(_ context.Context, m saas.Mail) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.mails = append(b.mails, m)
	return nil
}

// Last returns the body of the newest mail to address, "" when none.
func (b *Mailbox) Last(to string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.mails) - 1; i >= 0; i-- {
		if strings.EqualFold(b.mails[i].To, to) {
			return b.mails[i].Subject + "\n\n" + b.mails[i].Body
		}
	}
	return ""
}

// All returns every mail kept, oldest first.
func (b *Mailbox) All() []saas.Mail {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]saas.Mail(nil), b.mails...)
}

// Me is the body of GET /api/me.
type Me struct {
	User struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
	} `json:"user"`
	Memberships []struct {
		OrgID int64  `json:"org_id"`
		Role  string `json:"role"`
	} `json:"memberships"`
	CSRFToken string `json:"csrf_token"`
}

// Me returns GET /api/me and remembers its CSRF token for API calls.
func (c *Client) Me() Me {
	c.TB.Helper()
	var me Me
	if st := c.JSON(http.MethodGet, "/api/me", nil, &me); st != http.StatusOK {
		c.TB.Fatalf("GET /api/me: status %d", st)
	}
	c.apiToken = me.CSRFToken
	return me
}

// JSON calls the API with in (if not nil) as body, decodes the response
// into out (if not nil) and returns the status.
func (c *Client) JSON(method, path string, in, out any) int {
	c.TB.Helper()
	var body io.Reader
	h := map[string]string{"X-CSRF-Token": c.apiToken}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			c.TB.Fatal(err)
		}
		body = bytes.NewReader(b)
		h["Content-Type"] = "application/json"
	}
	r := c.Do(method, path, body, h)
	if out != nil && r.Body != "" {
		if err := json.Unmarshal([]byte(r.Body), out); err != nil {
			c.TB.Fatalf("%s %s: %d, decode %q: %v", method, path, r.Status, r.Body, err)
		}
	}
	return r.Status
}

// APIError is the error body of the API.
type APIError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Project is a project as the API returns it.
type Project struct {
	ID          int64  `json:"id"`
	OrgID       int64  `json:"org_id"`
	Name        string `json:"name"`
	Status      string `json:"status"`
	BudgetCents int64  `json:"budget_cents"`
	OwnerID     int64  `json:"owner_id"`
}

// String describes p for test failures.
func (p Project) String() string {
	return fmt.Sprintf("#%d %q %s %d", p.ID, p.Name, p.Status, p.BudgetCents)
}
