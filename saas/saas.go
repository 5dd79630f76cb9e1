// Package saas is the domain of sidelog's reference application: users,
// organisations, memberships and the projects an organisation owns. It
// imports no driver and nothing of sidelog's; package store keeps it in
// PostgreSQL or SQLite and package web serves it over HTTP.
package saas

import (
	"context"
	"time"
)

// User is a person who can log in.
type User struct {
	ID          int64     `json:"id"`
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	IsSuperuser bool      `json:"is_superuser"`
	CreatedAt   time.Time `json:"created_at"`
}

// Org is an organisation: the tenant that owns projects.
type Org struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Role is a user's role in an organisation.
type Role string

// The roles. Owners may also delete projects and add members.
const (
	RoleOwner  Role = "owner"
	RoleMember Role = "member"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleOwner || r == RoleMember }

// Membership says that a user belongs to an organisation with a role.
type Membership struct {
	OrgID   int64  `json:"org_id"`
	OrgName string `json:"org_name"`
	UserID  int64  `json:"user_id"`
	Role    Role   `json:"role"`
}

// Session is a logged-in browser. Only the hash of its token is stored.
type Session struct {
	UserID    int64
	CSRFToken string // synchroniser token for the session's forms
	ExpiresAt time.Time
}

// UserService manages users and their credentials.
type UserService interface {
	// CreateUser stores u with the password's hash and sets u.ID and
	// u.CreatedAt. A taken email returns ECONFLICT; invalid input EINVALID.
	CreateUser(ctx context.Context, u *User, password string) error

	// Authenticate returns the user with the email and password, or
	// EUNAUTHORIZED (the same error for an unknown email and a wrong
	// password).
	Authenticate(ctx context.Context, email, password string) (*User, error)

	// FindUserByID returns the user or ENOTFOUND.
	FindUserByID(ctx context.Context, id int64) (*User, error)

	// FindUserByEmail returns the user or ENOTFOUND.
	FindUserByEmail(ctx context.Context, email string) (*User, error)

	// CountUsers returns how many users exist.
	CountUsers(ctx context.Context) (int, error)
}

// Signup is what the sign-up form asks for.
type Signup struct {
	Email, Name, Org, Password string
}

// SignupService keeps sign-ups until their e-mail address is confirmed,
// so that signing up never tells whether an address has an account.
type SignupService interface {
	// StartSignup validates s (EINVALID), hashes its password and keeps it
	// under a new token, valid for ttl, which it returns. exists reports
	// that the address already has an account: the work done is the same
	// either way (the caller mails the token only when exists is false).
	StartSignup(ctx context.Context, s Signup, ttl time.Duration) (token string, exists bool, err error)

	// PendingSignup returns the address of the sign-up waiting under
	// token, or ENOTFOUND (unknown, used or expired).
	PendingSignup(ctx context.Context, token string) (email string, err error)

	// ConfirmSignup creates the user and their organisation from the
	// sign-up of token and forgets every sign-up of that address.
	// ENOTFOUND for an unknown, used or expired token; ECONFLICT when the
	// address got an account meanwhile.
	ConfirmSignup(ctx context.Context, token string) (*User, *Org, error)
}

// Mail is one e-mail message the application sends.
type Mail struct {
	To, Subject, Body string
}

// OrgService manages organisations and memberships.
type OrgService interface {
	// CreateOrg stores o with owner as its first owner, setting o.ID.
	CreateOrg(ctx context.Context, o *Org, owner int64) error

	// AddMember adds (or changes) a user's role in an organisation.
	// Only an owner of the organisation (the context's user) may do it:
	// others get EFORBIDDEN, non-members ENOTFOUND.
	AddMember(ctx context.Context, orgID, userID int64, role Role) error

	// Memberships returns the organisations of a user, by name.
	Memberships(ctx context.Context, userID int64) ([]Membership, error)
}

// SessionService manages login sessions.
type SessionService interface {
	// CreateSession starts a session for the user and returns its secret
	// token (to put in a cookie) and the session.
	CreateSession(ctx context.Context, userID int64, ttl time.Duration) (token string, s *Session, err error)

	// FindSession returns the unexpired session of token, or EUNAUTHORIZED.
	FindSession(ctx context.Context, token string) (*Session, error)

	// DeleteSession ends the session of token; an unknown token is no error.
	DeleteSession(ctx context.Context, token string) error
}

// ProjectService manages projects. Every method acts for the user in the
// context (see NewContext) and sees only the projects of that user's
// organisations: another organisation's project is ENOTFOUND, not
// EFORBIDDEN, so ids do not leak.
type ProjectService interface {
	// FindProjects returns the matching projects, newest first.
	FindProjects(ctx context.Context, f ProjectFilter) ([]*Project, error)

	// FindProjectByID returns the project or ENOTFOUND.
	FindProjectByID(ctx context.Context, id int64) (*Project, error)

	// CreateProject validates and stores p in p.OrgID, which the user
	// must belong to (ENOTFOUND otherwise), and sets its ID and times.
	CreateProject(ctx context.Context, p *Project) error

	// UpdateProject applies upd and returns the updated project.
	UpdateProject(ctx context.Context, id int64, upd ProjectUpdate) (*Project, error)

	// DeleteProject removes the project. Only an owner of its organisation
	// may: members get EFORBIDDEN.
	DeleteProject(ctx context.Context, id int64) error
}

type userKey struct{}

// NewContext returns a context acting for u.
func NewContext(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFromContext returns the user the context acts for, or nil.
func UserFromContext(ctx context.Context) *User {
	u, _ := ctx.Value(userKey{}).(*User)
	return u
}

// UserIDFromContext returns the id of the context's user, or 0.
func UserIDFromContext(ctx context.Context) int64 {
	if u := UserFromContext(ctx); u != nil {
		return u.ID
	}
	return 0
}
