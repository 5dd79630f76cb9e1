package saas

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Status is a project's state.
type Status string

// The statuses a project goes through.
const (
	StatusPlanned  Status = "planned"
	StatusActive   Status = "active"
	StatusDone     Status = "done"
	StatusArchived Status = "archived"
)

// Statuses lists every status in order, for forms.
func Statuses() []Status {
	return []Status{StatusPlanned, StatusActive, StatusDone, StatusArchived}
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, v := range Statuses() {
		if s == v {
			return true
		}
	}
	return false
}

// Limits on project fields.
const (
	MaxProjectName = 200
	MaxBudget      = 1_000_000_000_00 // one billion, in cents
)

// Project is the business model: a piece of work an organisation owns.
type Project struct {
	ID          int64     `json:"id"`
	OrgID       int64     `json:"org_id"`
	Name        string    `json:"name"`
	Status      Status    `json:"status"`
	BudgetCents int64     `json:"budget_cents"`
	OwnerID     int64     `json:"owner_id"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Validate normalises p (trimmed name, default status) and returns
// EINVALID when a field is wrong.
func (p *Project) Validate() error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Status == "" {
		p.Status = StatusPlanned
	}
	switch n := utf8.RuneCountInString(p.Name); {
	case n == 0:
		return Errorf(EINVALID, "project name is required")
	case n > MaxProjectName:
		return Errorf(EINVALID, "project name is longer than %d characters", MaxProjectName)
	case !utf8.ValidString(p.Name) || strings.ContainsAny(p.Name, "\x00\r\n"):
		return Errorf(EINVALID, "project name contains invalid characters")
	}
	if !p.Status.Valid() {
		return Errorf(EINVALID, "unknown status %q", p.Status)
	}
	if p.BudgetCents < 0 || p.BudgetCents > MaxBudget {
		return Errorf(EINVALID, "budget must be between 0 and %d cents", int64(MaxBudget))
	}
	return nil
}

// ProjectFilter selects projects. Zero fields select everything the user
// may see.
type ProjectFilter struct {
	OrgID  int64
	Status Status
	Limit  int // 0 means 100
}

// ProjectUpdate is a partial update: nil fields stay as they are.
type ProjectUpdate struct {
	Name        *string `json:"name"`
	Status      *Status `json:"status"`
	BudgetCents *int64  `json:"budget_cents"`
	OwnerID     *int64  `json:"owner_id"`
}

// Apply copies the set fields of upd into p.
func (upd ProjectUpdate) Apply(p *Project) {
	if upd.Name != nil {
		p.Name = *upd.Name
	}
	if upd.Status != nil {
		p.Status = *upd.Status
	}
	if upd.BudgetCents != nil {
		p.BudgetCents = *upd.BudgetCents
	}
	if upd.OwnerID != nil {
		p.OwnerID = *upd.OwnerID
	}
}
