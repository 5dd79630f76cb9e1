// Package audit records every change to an application's business data in
// the sidelog log database, without an audit call at each write.
//
// A table becomes audited by declaring it once in a [Registry] (its table,
// its key, its sensitive fields). [Registry.Install] puts row triggers on
// the declared tables of the business database (PostgreSQL or SQLite):
// every INSERT, UPDATE and DELETE — one row or a million in one statement,
// from the application, a migration or a psql session — writes one row into
// an outbox table in the same transaction, so a rolled-back change leaves
// nothing and a committed one cannot lose its record. A [Deliverer] moves
// outbox rows into the log database through the store's write path, as
// audit records with a field-level diff, and deletes them; it is
// idempotent, so a crash between the two steps never duplicates a record.
// Who acted is read from the transaction: the application calls
// [SetContext] after BEGIN (and [ClearContext] before COMMIT on SQLite).
//
// See docs/audit.md for the design and its failure cases.
package audit

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/sidelog/sidelog"
)

// Dialects of the business database.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Actions recorded.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// Logger is the logger name of every audit record of business data.
const Logger = "audit"

// Redacted stands for a sensitive field's value in a diff: the field is
// recorded as changed, never with its value.
const Redacted = "[redacted]"

// Model declares one audited table.
type Model struct {
	// Entity names the model in records and history queries ("project").
	Entity string
	// Table is the table's name in the business database ("projects").
	Table string
	// Key lists the primary key's columns; a composite key's values are
	// joined with ":" ("3:7").
	Key []string
	// Sensitive columns (password hashes, tokens, secrets) are recorded as
	// changed, never with their values: the values never leave the table,
	// not even into the outbox.
	Sensitive []string
	// Ignore lists columns whose change alone is not worth a record (an
	// updated_at stamp). They still appear in diffs beside real changes.
	Ignore []string
	// Tenant is the column holding the tenant (organisation) id, if any;
	// it fills the record's TenantID, which scopes an organisation's own
	// audit log.
	Tenant string
	// Refs names other entities whose history a change also belongs to,
	// entity -> column: a membership {"user": "user_id", "org": "org_id"}
	// appears in the history of both its user and its organisation.
	Refs map[string]string
}

var ident = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func (m Model) validate() error {
	if !ident.MatchString(m.Entity) || !ident.MatchString(m.Table) {
		return fmt.Errorf("audit model %q: entity and table must be lowercase identifiers", m.Entity)
	}
	if len(m.Key) == 0 {
		return fmt.Errorf("audit model %s: no key", m.Entity)
	}
	cols := append(append(append([]string{}, m.Key...), m.Sensitive...), m.Ignore...)
	if m.Tenant != "" {
		cols = append(cols, m.Tenant)
	}
	for _, c := range m.Refs {
		cols = append(cols, c)
	}
	for e := range m.Refs {
		if !ident.MatchString(e) {
			return fmt.Errorf("audit model %s: bad ref entity %q", m.Entity, e)
		}
	}
	for _, c := range cols {
		if !ident.MatchString(c) {
			return fmt.Errorf("audit model %s: bad column name %q", m.Entity, c)
		}
	}
	return nil
}

// Registry is the set of audited models of one business database.
type Registry struct {
	models []Model
}

// NewRegistry returns a registry of the models; it fails on a malformed or
// duplicate declaration.
func NewRegistry(models ...Model) (*Registry, error) {
	seen := map[string]bool{}
	for _, m := range models {
		if err := m.validate(); err != nil {
			return nil, err
		}
		if seen[m.Entity] || seen["table:"+m.Table] {
			return nil, fmt.Errorf("audit model %s declared twice", m.Entity)
		}
		seen[m.Entity], seen["table:"+m.Table] = true, true
	}
	return &Registry{models: models}, nil
}

// MustRegistry is NewRegistry for declarations fixed at compile time.
func MustRegistry(models ...Model) *Registry {
	r, err := NewRegistry(models...)
	if err != nil {
		panic(err)
	}
	return r
}

// Models returns the declared models.
func (r *Registry) Models() []Model { return append([]Model(nil), r.models...) }

// Model returns the model of an entity.
func (r *Registry) Model(entity string) (Model, bool) {
	for _, m := range r.models {
		if m.Entity == entity {
			return m, true
		}
	}
	return Model{}, false
}

// Actor says who or what made a change.
type Actor struct {
	// UserID is the acting user's id in the business database, if a user
	// acted.
	UserID string `json:"user_id,omitempty"`
	// Name names what acted when no user did, or how a user acted:
	// "cli:createsuperuser", "migration 0003_x.sql", "seed".
	Name      string `json:"name,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	ClientIP  string `json:"client_ip,omitempty"`
}

// String returns "user 7", "user 7 (cli:x)", "cli:x" or "unknown".
func (a Actor) String() string {
	switch {
	case a.UserID != "" && a.Name != "":
		return "user " + a.UserID + " (" + a.Name + ")"
	case a.UserID != "":
		return "user " + a.UserID
	case a.Name != "":
		return a.Name
	}
	return "unknown"
}

type actorKey struct{}

// WithActor returns a context whose changes are attributed to a. Fields
// left empty are taken from the context's sidelog scope (user and request
// id, set by the HTTP middleware and the login code) by ActorFrom.
func WithActor(ctx context.Context, a Actor) context.Context {
	old, _ := ctx.Value(actorKey{}).(Actor)
	if a.UserID == "" {
		a.UserID = old.UserID
	}
	if a.Name == "" {
		a.Name = old.Name
	}
	if a.RequestID == "" {
		a.RequestID = old.RequestID
	}
	if a.ClientIP == "" {
		a.ClientIP = old.ClientIP
	}
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of the changes made with ctx: the one set by
// WithActor, completed by the sidelog scope.
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	sc := sidelog.ScopeFrom(ctx)
	if a.UserID == "" {
		a.UserID, _ = sidelog.RequestUser(ctx)
		if a.UserID == "" {
			a.UserID = sc.UserID
		}
	}
	if a.RequestID == "" {
		a.RequestID = sc.RequestID
	}
	return a
}

// entityRef is how an entity appears in record messages and in history
// searches: "project 42".
func entityRef(entity, id string) string { return entity + " " + id }

func joinCols(cols []string) string { return strings.Join(cols, ",") }
