package audit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
)

// HistoryQuery selects the history of one entity.
type HistoryQuery struct {
	Entity string // "project"
	ID     string // "42", or "3:7" for a composite key
	// Own leaves out changes of other entities that name this one (a
	// membership in a user's history).
	Own bool
	// TenantID, when set, keeps only the changes of that tenant: what an
	// organisation's owner may read.
	TenantID string
	// Until keeps only changes before this time (zero: no bound).
	Until time.Time
	// Limit caps the number of changes returned; 0 means all.
	Limit int
}

func (q HistoryQuery) validate() error {
	if !ident.MatchString(q.Entity) {
		return sidelog.Errorf(sidelog.EINVALID, "entity %q: want a lowercase name like project", q.Entity)
	}
	if q.ID == "" || len(q.ID) > 200 || strings.ContainsAny(q.ID, "\" \t\r\n\x00") {
		return sidelog.Errorf(sidelog.EINVALID, "entity id %q: want an id like 42 or 3:7", q.ID)
	}
	return nil
}

func (q HistoryQuery) filter() sidelog.Filter {
	f := sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindAudit}, Logger: Logger, TenantID: q.TenantID, Until: q.Until,
		Text: `"` + entityRef(q.Entity, q.ID) + `"`}
	return f
}

func (q HistoryQuery) match(ch Change) bool {
	if ch.Entity == q.Entity && ch.EntityID == q.ID {
		return true
	}
	return !q.Own && slices.Contains(ch.Refs, entityRef(q.Entity, q.ID))
}

// History returns the changes of one entity, newest first, with who made
// each, when and from which request. Text search finds the candidates (the
// record's message names the entity and its refs); each is then checked
// exactly.
func History(ctx context.Context, r sidelog.Reader, q HistoryQuery) ([]Change, error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	var out []Change
	p := sidelog.Page{Limit: 500}
	for {
		res, err := r.Query(ctx, q.filter(), p)
		if err != nil {
			return nil, fmt.Errorf("audit history: %w", err)
		}
		for _, rec := range res.Records {
			if ch, ok := ChangeOf(rec); ok && q.match(ch) {
				out = append(out, ch)
				if q.Limit > 0 && len(out) == q.Limit {
					return out, nil
				}
			}
		}
		if res.Next == (sidelog.Cursor{}) {
			return out, nil
		}
		p.After = res.Next
	}
}

// State is an entity as it was at one moment, rebuilt from its history.
type State struct {
	// Exists is false before the entity's creation and after its deletion.
	Exists bool
	// Fields holds every field's value; sensitive ones hold Redacted.
	Fields map[string]any
	// Changes is the number of changes applied; Last the newest of them,
	// nil when there was none.
	Changes int
	Last    *Change
	// Complete is false when the oldest change known is not the entity's
	// creation (it was older than the retention of audit records): fields
	// never changed since are missing.
	Complete bool
}

// AsOf returns the state of an entity at time at, rebuilt by applying its
// own changes oldest first.
func AsOf(ctx context.Context, r sidelog.Reader, entity, id string, at time.Time) (State, error) {
	q := HistoryQuery{Entity: entity, ID: id, Own: true, Until: at.Add(time.Nanosecond)}
	hist, err := History(ctx, r, q)
	if err != nil {
		return State{}, err
	}
	slices.Reverse(hist)
	return Replay(hist), nil
}

// Replay applies changes (oldest first, all of one entity) and returns the
// resulting state.
func Replay(changes []Change) State {
	st := State{Fields: map[string]any{}}
	for i, ch := range changes {
		switch ch.Action {
		case ActionCreate:
			clear(st.Fields)
			st.Exists = true
			if i == 0 {
				st.Complete = true
			}
		case ActionDelete:
			st.Exists = false
		default:
			st.Exists = true
		}
		for f, d := range ch.Diff {
			if ch.Action == ActionDelete {
				st.Fields[f] = d[0]
			} else {
				st.Fields[f] = d[1]
			}
		}
		st.Changes++
		st.Last = &changes[i]
	}
	return st
}

// TenantLog returns one page of a tenant's audit log, newest first: every
// change to data of that tenant (an organisation's own audit log). The
// tenant is checked by the store's filter, not after the fact.
func TenantLog(ctx context.Context, r sidelog.Reader, tenantID string, p sidelog.Page) ([]Change, sidelog.Cursor, error) {
	if tenantID == "" {
		return nil, sidelog.Cursor{}, sidelog.Errorf(sidelog.EINVALID, "tenant log: no tenant")
	}
	f := sidelog.Filter{Kinds: []sidelog.Kind{sidelog.KindAudit}, Logger: Logger, TenantID: tenantID}
	res, err := r.Query(ctx, f, p)
	if err != nil {
		return nil, sidelog.Cursor{}, fmt.Errorf("tenant audit log: %w", err)
	}
	out := make([]Change, 0, len(res.Records))
	for _, rec := range res.Records {
		if ch, ok := ChangeOf(rec); ok && rec.TenantID == tenantID {
			out = append(out, ch)
		}
	}
	return out, res.Next, nil
}
