package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sidelog/sidelog"
	"github.com/sidelog/sidelog/redact"
)

// Change is one audited change, as the attributes of an audit record hold
// it.
type Change struct {
	Entity   string `json:"entity"`
	EntityID string `json:"entity_id"`
	Action   string `json:"action"`
	// Diff maps each changed field to [old, new]. On create every field is
	// there with a null old value, on delete with a null new value: the
	// whole snapshot. Sensitive fields hold Redacted on the changed side.
	Diff map[string][2]any `json:"diff"`
	// Actor is who or what made the change ("user 7", "cli:createsuperuser",
	// "unknown" for a write outside the application).
	Actor string `json:"actor"`
	// Refs are the other entities whose history this change belongs to,
	// as "entity id" ("user 7").
	Refs []string `json:"refs,omitempty"`
	// OutboxID and the record's time identify the outbox row the record
	// came from; delivery uses them to stay idempotent.
	OutboxID int64 `json:"outbox_id"`

	// Filled from the record, not stored in its attributes.
	Time      time.Time `json:"-"`
	UserID    string    `json:"-"`
	TenantID  string    `json:"-"`
	RequestID string    `json:"-"`
	ClientIP  string    `json:"-"`
	RecordID  int64     `json:"-"`
}

// outboxRow is one row of the outbox table.
type outboxRow struct {
	id        int64
	ts        int64
	entity    string
	action    string
	entityID  string
	oldRow    *string
	newRow    *string
	sensitive string
	actor     *string
}

// record turns an outbox row into an audit record. It returns false for
// a row whose diff is empty (a change of ignored columns only).
func (r *Registry) record(row outboxRow, red *redact.Redactor) (sidelog.Record, bool, error) {
	old, err := decodeRow(row.oldRow)
	if err != nil {
		return sidelog.Record{}, false, fmt.Errorf("outbox row %d: old row: %w", row.id, err)
	}
	cur, err := decodeRow(row.newRow)
	if err != nil {
		return sidelog.Record{}, false, fmt.Errorf("outbox row %d: new row: %w", row.id, err)
	}
	var a Actor
	if row.actor != nil {
		if err := json.Unmarshal([]byte(*row.actor), &a); err != nil {
			return sidelog.Record{}, false, fmt.Errorf("outbox row %d: actor: %w", row.id, err)
		}
	}
	m, _ := r.Model(row.entity)
	ch := Change{Entity: row.entity, EntityID: row.entityID, Action: row.action, Actor: a.String(),
		Diff: diff(row.action, old, cur, m.Ignore), OutboxID: row.id}
	for _, s := range strings.Split(row.sensitive, ",") {
		if s == "" {
			continue
		}
		switch row.action {
		case ActionCreate:
			ch.Diff[s] = [2]any{nil, Redacted}
		case ActionDelete:
			ch.Diff[s] = [2]any{Redacted, nil}
		default:
			ch.Diff[s] = [2]any{Redacted, Redacted}
		}
	}
	if len(ch.Diff) == 0 {
		return sidelog.Record{}, false, nil
	}
	// Undeclared secrets too: a column named like a secret (api_token),
	// or a value that looks like one (a card number in a project name).
	for f, d := range ch.Diff {
		for i, v := range d {
			if v != nil && v != Redacted {
				d[i] = red.Value(f, v)
			}
		}
		ch.Diff[f] = d
	}
	snap := cur
	if snap == nil {
		snap = old
	}
	tenant := ""
	if m.Tenant != "" {
		tenant = valueText(snap[m.Tenant])
	}
	for _, e := range slices.Sorted(maps.Keys(m.Refs)) {
		if v := valueText(snap[m.Refs[e]]); v != "" {
			ch.Refs = append(ch.Refs, entityRef(e, v))
		}
	}
	attrs, err := json.Marshal(ch)
	if err != nil {
		return sidelog.Record{}, false, err
	}
	rec := sidelog.Record{
		Time: time.UnixMicro(row.ts).UTC(), Level: slog.LevelInfo, Kind: sidelog.KindAudit, Logger: Logger,
		Message:   message(ch),
		RequestID: a.RequestID, UserID: a.UserID, TenantID: tenant, ClientIP: a.ClientIP,
		Attrs: attrs,
	}
	return rec, true, nil
}

// message is the record's text: "update project 42: name, status [org 3]".
// History searches it for "project 42".
func message(ch Change) string {
	var b strings.Builder
	b.WriteString(ch.Action + " " + entityRef(ch.Entity, ch.EntityID))
	if ch.Action == ActionUpdate {
		b.WriteString(": " + strings.Join(slices.Sorted(maps.Keys(ch.Diff)), ", "))
	}
	if len(ch.Refs) > 0 {
		b.WriteString(" [" + strings.Join(ch.Refs, ", ") + "]")
	}
	return b.String()
}

func decodeRow(s *string) (map[string]any, error) {
	if s == nil {
		return nil, nil
	}
	d := json.NewDecoder(strings.NewReader(*s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// diff returns the changed fields of an update, or every field of a created
// or deleted row. Ignored fields appear only beside a real change.
func diff(action string, old, cur map[string]any, ignore []string) map[string][2]any {
	d := map[string][2]any{}
	switch action {
	case ActionCreate:
		for k, v := range cur {
			d[k] = [2]any{nil, v}
		}
	case ActionDelete:
		for k, v := range old {
			d[k] = [2]any{v, nil}
		}
	default:
		for k, v := range cur {
			if o, ok := old[k]; !ok || !sameJSON(o, v) {
				d[k] = [2]any{old[k], v}
			}
		}
		for k, o := range old {
			if _, ok := cur[k]; !ok {
				d[k] = [2]any{o, nil}
			}
		}
		real := false
		for k := range d {
			if !slices.Contains(ignore, k) {
				real = true
			}
		}
		if !real {
			clear(d)
		}
	}
	return d
}

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// valueText renders a JSON value as an id: numbers and strings as they
// are, anything else empty.
func valueText(v any) string {
	switch v := v.(type) {
	case json.Number:
		return v.String()
	case string:
		return v
	case float64:
		return fmt.Sprint(v)
	}
	return ""
}

// ChangeOf reads the audit change carried by rec; false when rec is not an
// audit record of business data.
func ChangeOf(rec sidelog.Record) (Change, bool) {
	if rec.Kind != sidelog.KindAudit || rec.Logger != Logger {
		return Change{}, false
	}
	var ch Change
	d := json.NewDecoder(bytes.NewReader(rec.Attrs))
	d.UseNumber()
	if err := d.Decode(&ch); err != nil || ch.Entity == "" {
		return Change{}, false
	}
	ch.Time, ch.UserID, ch.TenantID, ch.RequestID, ch.ClientIP, ch.RecordID =
		rec.Time, rec.UserID, rec.TenantID, rec.RequestID, rec.ClientIP, rec.ID
	return ch, true
}
