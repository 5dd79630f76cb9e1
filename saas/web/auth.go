package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/saas"
)

// Cookie and form names.
const (
	sessionCookie = "saas_session"
	csrfCookie    = "saas_csrf" // pre-login token of the login and signup forms
	csrfField     = "csrf_token"
	csrfHeader    = "X-CSRF-Token"
)

type sessionKey struct{}

// sessionFrom returns the request's session, or nil when logged out.
func sessionFrom(ctx context.Context) *saas.Session {
	s, _ := ctx.Value(sessionKey{}).(*saas.Session)
	return s
}

// loadSession attaches the logged-in user, if any, to the request: to the
// business services (saas.NewContext) and to the log records made while
// serving it (sidelog.WithUser, which the request middleware also reads).
func (s *Server) loadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		sess, err := s.cfg.Sessions.FindSession(ctx, c.Value)
		if err != nil {
			if saas.ErrorCode(err) != saas.EUNAUTHORIZED {
				s.logError(r, err)
			}
			next.ServeHTTP(w, r)
			return
		}
		u, err := s.cfg.Users.FindUserByID(ctx, sess.UserID)
		if err != nil {
			s.logError(r, err)
			next.ServeHTTP(w, r)
			return
		}
		ctx = context.WithValue(saas.NewContext(ctx, u), sessionKey{}, sess)
		ctx = sidelog.WithUser(ctx, strconv.FormatInt(u.ID, 10), "")
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withTenant records the organisation a request acted in.
func withTenant(r *http.Request, orgID int64) *http.Request {
	ctx := r.Context()
	sc := sidelog.ScopeFrom(ctx)
	return r.WithContext(sidelog.WithUser(ctx, sc.UserID, strconv.FormatInt(orgID, 10)))
}

// requireUser sends logged-out visitors to the login page, and checks the
// CSRF token of every unsafe request.
func (s *Server) requireUser(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if saas.UserFromContext(r.Context()) == nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if !safeMethod(r.Method) && !s.checkForm(w, r) {
			return
		}
		h(w, r)
	}
}

// requireAPIUser answers 401 to logged-out callers, and checks the
// X-CSRF-Token header of unsafe requests (the token is in GET /api/me).
func (s *Server) requireAPIUser(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if saas.UserFromContext(r.Context()) == nil {
			s.apiError(w, r, saas.Errorf(saas.EUNAUTHORIZED, "not logged in"))
			return
		}
		if !safeMethod(r.Method) && !s.validCSRF(r, r.Header.Get(csrfHeader)) {
			s.csrfFailed(w, r, "missing or wrong X-CSRF-Token header")
			return
		}
		h(w, r)
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// csrfToken returns the token a form must carry: the session's, or for a
// logged-out visitor the one in the pre-login cookie (set now if missing).
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if sess := sessionFrom(r.Context()); sess != nil {
		return sess.CSRFToken
	}
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 26 {
		return c.Value
	}
	tok := rand.Text()
	s.setCookie(w, r, csrfCookie, tok, 0)
	return tok
}

// checkForm parses a form body and checks its CSRF token, answering the
// request itself when either fails.
func (s *Server) checkForm(w http.ResponseWriter, r *http.Request) bool {
	if err := parseForm(r); err != nil {
		s.renderError(w, r, err)
		return false
	}
	if !s.validCSRF(r, r.PostForm.Get(csrfField)) {
		s.csrfFailed(w, r, "missing or wrong CSRF token")
		return false
	}
	return true
}

// validCSRF compares the request's token with the expected one in
// constant time.
func (s *Server) validCSRF(r *http.Request, got string) bool {
	want := ""
	if sess := sessionFrom(r.Context()); sess != nil {
		want = sess.CSRFToken
	} else if c, err := r.Cookie(csrfCookie); err == nil {
		want = c.Value
	}
	return want != "" && len(got) == len(want) && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (s *Server) csrfFailed(w http.ResponseWriter, r *http.Request, why string) {
	s.log.WarnContext(r.Context(), "csrf check failed", sidelog.KeyKind, sidelog.KindSecurity.String(), "reason", why)
	if isAPI(r) {
		s.apiError(w, r, saas.Errorf(saas.EFORBIDDEN, "%s", why))
		return
	}
	s.renderError(w, r, saas.Errorf(saas.EFORBIDDEN, "The form expired or did not come from this site. Go back, reload and try again."))
}

// setCookie sets an HttpOnly, SameSite=Lax cookie, Secure over TLS (see
// overTLS). A
// maxAge of 0 makes a browser-session cookie, negative deletes it.
func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.overTLS(r),
	})
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "login.html", http.StatusOK, page{})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !s.checkForm(w, r) {
		return
	}
	ctx := r.Context()
	email := r.PostFormValue("email")
	account, ip := s.accountKey(email), s.clientAddr(r)
	if locked, until := s.guard.blocked(account, ip); locked {
		// Refused before the password is hashed: no CPU for the attacker,
		// and the same answer whether the account exists or not.
		s.log.WarnContext(ctx, "login refused: locked out", sidelog.KeyKind, sidelog.KindSecurity.String(), "account", account)
		s.tooMany(w, r, "login.html", until, page{Email: email})
		return
	}
	u, err := s.cfg.Users.Authenticate(ctx, email, r.PostFormValue("password"))
	if err != nil {
		if saas.ErrorCode(err) == saas.EUNAUTHORIZED {
			// The typed identifier is never logged in clear (it is
			// sometimes a password): a keyed hash correlates attempts.
			s.log.WarnContext(ctx, "login failed", sidelog.KeyKind, sidelog.KindSecurity.String(), "account", account)
			for _, scope := range s.guard.fail(account, ip) {
				s.lockoutEvent(r, scope, account, ip)
			}
			s.render(w, r, "login.html", http.StatusUnauthorized, page{Error: saas.ErrorMessage(err), Email: email})
			return
		}
		s.renderError(w, r, err)
		return
	}
	s.guard.succeed(account)
	if err := s.startSession(w, r, u); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/projects", http.StatusSeeOther)
}

// startSession logs u in: a new session (never a reused one, against
// session fixation), its cookie, and a security record.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *saas.User) error {
	ctx := sidelog.WithUser(r.Context(), strconv.FormatInt(u.ID, 10), "")
	token, _, err := s.cfg.Sessions.CreateSession(ctx, u.ID, s.cfg.SessionTTL)
	if err != nil {
		return err
	}
	s.setCookie(w, r, sessionCookie, token, int(s.cfg.SessionTTL.Seconds()))
	s.setCookie(w, r, csrfCookie, "", -1)
	s.log.InfoContext(ctx, "login", sidelog.KeyKind, sidelog.KindSecurity.String())
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.cfg.Sessions.DeleteSession(r.Context(), c.Value); err != nil {
			s.renderError(w, r, err)
			return
		}
	}
	s.setCookie(w, r, sessionCookie, "", -1)
	s.log.InfoContext(r.Context(), "logout", sidelog.KeyKind, sidelog.KindSecurity.String())
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) signupForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "signup.html", http.StatusOK, page{})
}

// signup starts a sign-up: it answers "check your inbox" with the same
// status, page and headers whether the address has an account or not, and
// does the same work either way (the password is hashed, one row written,
// one message mailed). Only the mail differs: a link that finishes the
// sign-up, or a note to the account's owner that someone tried.
func (s *Server) signup(w http.ResponseWriter, r *http.Request) {
	if !s.checkForm(w, r) {
		return
	}
	ctx := r.Context()
	in := saas.Signup{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Org: r.PostFormValue("org"), Password: r.PostFormValue("password")}
	form := page{Email: in.Email, Name: in.Name, Org: in.Org}
	if ok, until := s.guard.signup(s.clientAddr(r)); !ok {
		s.tooMany(w, r, "signup.html", until, form)
		return
	}
	if s.cfg.Signups == nil {
		s.renderError(w, r, saas.Errorf(saas.ENOTFOUND, "sign-up is not offered here"))
		return
	}
	token, exists, err := s.cfg.Signups.StartSignup(ctx, in, s.cfg.SignupTTL)
	if err != nil {
		if saas.ErrorCode(err) == saas.EINVALID {
			form.Error = saas.ErrorMessage(err)
			s.render(w, r, "signup.html", http.StatusBadRequest, form)
			return
		}
		s.renderError(w, r, err)
		return
	}
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if err := s.sendMail(ctx, s.signupMail(email, token, exists)); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.log.InfoContext(ctx, "sign-up requested", sidelog.KeyKind, sidelog.KindSecurity.String(), "account", s.accountKey(email))
	s.render(w, r, "signup_sent.html", http.StatusOK, page{Email: email})
}

// signupMail is the message a sign-up sends to its address.
func (s *Server) signupMail(email, token string, exists bool) saas.Mail {
	if exists {
		return saas.Mail{To: email, Subject: "Someone tried to sign up with your address",
			Body: "Someone asked to create an account with this address, which already has one.\n\n" +
				"If it was you, log in: " + s.cfg.BaseURL + "/login\n\nIf it was not, you can ignore this message.\n"}
	}
	return saas.Mail{To: email, Subject: "Confirm your sign-up",
		Body: "Open this link within " + s.cfg.SignupTTL.String() + " to create your account:\n\n" +
			s.cfg.BaseURL + "/signup/confirm?" + url.Values{"token": {token}}.Encode() + "\n\n" +
			"If you did not sign up, ignore this message: no account is created without the link.\n"}
}

// sendMail hands m to the configured sender.
func (s *Server) sendMail(ctx context.Context, m saas.Mail) error {
	if s.cfg.Mail == nil {
		s.log.WarnContext(ctx, "no mail sender configured: a sign-up message was not sent")
		return nil
	}
	if err := s.cfg.Mail(ctx, m); err != nil {
		return fmt.Errorf("send mail: %w", err)
	}
	return nil
}

// signupConfirmForm shows the button that finishes a sign-up: opening the
// mailed link changes nothing by itself (mail scanners open links).
func (s *Server) signupConfirmForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	token := r.URL.Query().Get("token")
	if s.cfg.Signups == nil || token == "" || len(token) > 100 {
		s.renderError(w, r, saas.Errorf(saas.ENOTFOUND, "this link is unknown, used or expired: sign up again"))
		return
	}
	email, err := s.cfg.Signups.PendingSignup(r.Context(), token)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, "signup_confirm.html", http.StatusOK, page{Email: email, Token: token})
}

// signupConfirm creates the account of a confirmed sign-up and logs its
// user in.
func (s *Server) signupConfirm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	if !s.checkForm(w, r) {
		return
	}
	token := r.PostFormValue("token")
	if s.cfg.Signups == nil || token == "" || len(token) > 100 {
		s.renderError(w, r, saas.Errorf(saas.ENOTFOUND, "this link is unknown, used or expired: sign up again"))
		return
	}
	u, org, err := s.cfg.Signups.ConfirmSignup(r.Context(), token)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	ctx := sidelog.WithUser(r.Context(), strconv.FormatInt(u.ID, 10), "")
	s.log.InfoContext(ctx, "user signed up", sidelog.KeyKind, sidelog.KindSecurity.String(), "new_user_id", u.ID, "org_id", org.ID)
	if err := s.startSession(w, r, u); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/projects", http.StatusSeeOther)
}
