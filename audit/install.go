package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Tables of the business database that the package owns.
const (
	OutboxTable  = "sidelog_audit_outbox"
	contextTable = "sidelog_audit_context" // SQLite only: the transaction's actor
)

// Execer runs statements: a *sql.DB, *sql.Conn or *sql.Tx.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

var postgresSchema = `
CREATE TABLE IF NOT EXISTS ` + OutboxTable + ` (
	id         BIGSERIAL PRIMARY KEY,
	ts         BIGINT NOT NULL, -- Unix microseconds of the change
	entity     TEXT NOT NULL,
	action     TEXT NOT NULL,
	entity_id  TEXT NOT NULL,
	old_row    TEXT,            -- JSON, sensitive columns left out
	new_row    TEXT,
	sensitive  TEXT NOT NULL,   -- comma-separated sensitive columns that changed
	actor      TEXT            -- JSON Actor, NULL when no context was set
);

CREATE OR REPLACE FUNCTION sidelog_audit_capture() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
	o jsonb; n jsonb; r jsonb; k text; id text;
	sens text[] := '{}';
	keys text[] := string_to_array(TG_ARGV[1], ',');
	sensitive text[] := coalesce(string_to_array(nullif(TG_ARGV[2], ''), ','), '{}');
	ignored text[] := coalesce(string_to_array(nullif(TG_ARGV[3], ''), ','), '{}');
BEGIN
	IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD); END IF;
	IF TG_OP <> 'DELETE' THEN n := to_jsonb(NEW); END IF;
	r := coalesce(n, o);
	FOREACH k IN ARRAY sensitive LOOP
		IF (TG_OP = 'UPDATE' AND o->k IS DISTINCT FROM n->k)
			OR (TG_OP <> 'UPDATE' AND coalesce(jsonb_typeof(r->k), 'null') <> 'null') THEN
			sens := sens || k;
		END IF;
	END LOOP;
	o := o - sensitive; n := n - sensitive;
	IF TG_OP = 'UPDATE' AND cardinality(sens) = 0 AND (o - ignored) = (n - ignored) THEN
		RETURN NULL; -- a save that changes nothing records nothing
	END IF;
	SELECT string_agg(r->>c, ':' ORDER BY ord) INTO id FROM unnest(keys) WITH ORDINALITY AS t(c, ord);
	INSERT INTO ` + OutboxTable + ` (ts, entity, action, entity_id, old_row, new_row, sensitive, actor)
	VALUES ((extract(epoch FROM clock_timestamp()) * 1000000)::bigint, TG_ARGV[0],
		CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END,
		coalesce(id, ''), o::text, n::text, array_to_string(sens, ','),
		nullif(current_setting('sidelog.audit_actor', true), ''));
	RETURN NULL;
END
$fn$;
`

var sqliteSchema = `
CREATE TABLE IF NOT EXISTS ` + OutboxTable + ` (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	ts         INTEGER NOT NULL,
	entity     TEXT NOT NULL,
	action     TEXT NOT NULL,
	entity_id  TEXT NOT NULL,
	old_row    TEXT,
	new_row    TEXT,
	sensitive  TEXT NOT NULL,
	actor      TEXT
);
CREATE TABLE IF NOT EXISTS ` + contextTable + ` (
	id    INTEGER PRIMARY KEY CHECK (id = 1),
	actor TEXT NOT NULL
);
`

// Install creates the outbox table and (re)creates the capture triggers
// of every declared model on db, in one transaction. Run it after the
// business database's migrations, every time: on SQLite the triggers list
// the table's columns, so a column added by a migration is audited from the
// next Install on. (A SQLite migration that drops an audited column must
// first drop the table's sidelog_audit_* triggers.)
func (r *Registry) Install(ctx context.Context, db *sql.DB, dialect string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("install audit: %w", err)
	}
	defer tx.Rollback()
	switch dialect {
	case Postgres:
		// Two processes installing at once take turns.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7362120)`); err != nil {
			return fmt.Errorf("install audit: %w", err)
		}
		err = r.installPostgres(ctx, tx)
	case SQLite:
		err = r.installSQLite(ctx, tx)
	default:
		err = fmt.Errorf("unknown dialect %q", dialect)
	}
	if err != nil {
		return fmt.Errorf("install audit: %w", err)
	}
	return tx.Commit()
}

// CreateOutbox creates the outbox (and on SQLite the actor table) without
// any trigger, so that SetContext works in the business database's very
// first migration, before the audited tables exist. Install does it too.
func CreateOutbox(ctx context.Context, db *sql.DB, dialect string) error {
	q := sqliteSchema
	switch dialect {
	case Postgres:
		q = `SELECT pg_advisory_lock(7362120); ` + postgresSchema + `; SELECT pg_advisory_unlock(7362120)`
	case SQLite:
	default:
		return fmt.Errorf("create audit outbox: unknown dialect %q", dialect)
	}
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("create audit outbox: %w", err)
	}
	return nil
}

func (r *Registry) installPostgres(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, postgresSchema); err != nil {
		return err
	}
	for _, m := range r.models {
		name := "sidelog_audit_" + m.Table
		args := []string{m.Entity, joinCols(m.Key), joinCols(m.Sensitive), joinCols(m.Ignore)}
		for i, a := range args {
			args[i] = "'" + a + "'" // identifiers only (validated): no quoting issue
		}
		q := `DROP TRIGGER IF EXISTS ` + name + ` ON ` + m.Table + `;
			CREATE TRIGGER ` + name + ` AFTER INSERT OR UPDATE OR DELETE ON ` + m.Table + `
			FOR EACH ROW EXECUTE FUNCTION sidelog_audit_capture(` + strings.Join(args, ", ") + `)`
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", m.Table, err)
		}
	}
	return nil
}

func (r *Registry) installSQLite(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, sqliteSchema); err != nil {
		return err
	}
	for _, m := range r.models {
		cols, err := sqliteColumns(ctx, tx, m.Table)
		if err != nil {
			return err
		}
		if len(cols) == 0 {
			return fmt.Errorf("audited table %s does not exist", m.Table)
		}
		for _, c := range append(append(slices.Clone(m.Key), m.Sensitive...), m.Ignore...) {
			if !slices.Contains(cols, c) {
				return fmt.Errorf("audited table %s has no column %s", m.Table, c)
			}
		}
		for _, q := range sqliteTriggers(m, cols) {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", m.Table, err)
			}
		}
	}
	return nil
}

func sqliteColumns(ctx context.Context, tx *sql.Tx, table string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// sqliteTriggers returns the statements that (re)create a model's three
// triggers. SQLite triggers cannot loop over columns, so each lists them.
func sqliteTriggers(m Model, cols []string) []string {
	plain := slices.DeleteFunc(slices.Clone(cols), func(c string) bool { return slices.Contains(m.Sensitive, c) })
	obj := func(row string) string {
		parts := make([]string, 0, 2*len(plain))
		for _, c := range plain {
			parts = append(parts, "'"+c+"'", row+`."`+c+`"`)
		}
		return "json_object(" + strings.Join(parts, ", ") + ")"
	}
	key := func(row string) string {
		parts := make([]string, len(m.Key))
		for i, c := range m.Key {
			parts[i] = row + `."` + c + `"`
		}
		return strings.Join(parts, " || ':' || ")
	}
	sens := func(cond func(c string) string) string {
		if len(m.Sensitive) == 0 {
			return "''"
		}
		parts := make([]string, len(m.Sensitive))
		for i, c := range m.Sensitive {
			parts[i] = "CASE WHEN " + cond(c) + " THEN '" + c + ",' ELSE '' END"
		}
		return "rtrim(" + strings.Join(parts, " || ") + ", ',')"
	}
	var changed []string
	for _, c := range cols {
		if !slices.Contains(m.Ignore, c) {
			changed = append(changed, `OLD."`+c+`" IS NOT NEW."`+c+`"`)
		}
	}
	insert := func(action, oldRow, newRow, id, sensitive string) string {
		return `INSERT INTO ` + OutboxTable + ` (ts, entity, action, entity_id, old_row, new_row, sensitive, actor)
			VALUES (CAST(unixepoch('subsec') * 1000000 AS INTEGER), '` + m.Entity + `', '` + action + `', ` + id + `, ` +
			oldRow + `, ` + newRow + `, ` + sensitive + `, (SELECT actor FROM ` + contextTable + ` WHERE id = 1));`
	}
	name := "sidelog_audit_" + m.Table
	var out []string
	for _, op := range []string{"insert", "update", "delete"} {
		out = append(out, `DROP TRIGGER IF EXISTS `+name+`_`+op)
	}
	out = append(out,
		`CREATE TRIGGER `+name+`_insert AFTER INSERT ON `+m.Table+` BEGIN `+
			insert(ActionCreate, "NULL", obj("NEW"), key("NEW"), sens(func(c string) string { return `NEW."` + c + `" IS NOT NULL` }))+` END`,
		`CREATE TRIGGER `+name+`_update AFTER UPDATE ON `+m.Table+` WHEN `+strings.Join(changed, " OR ")+` BEGIN `+
			insert(ActionUpdate, obj("OLD"), obj("NEW"), key("NEW"), sens(func(c string) string { return `OLD."` + c + `" IS NOT NEW."` + c + `"` }))+` END`,
		`CREATE TRIGGER `+name+`_delete AFTER DELETE ON `+m.Table+` BEGIN `+
			insert(ActionDelete, obj("OLD"), "NULL", key("OLD"), sens(func(c string) string { return `OLD."` + c + `" IS NOT NULL` }))+` END`,
	)
	return out
}

// ContextSQL returns the statements SetContext and ClearContext run on
// dialect (clear is "" where none is needed), for a caller that prepares
// them once per connection: on SQLite, preparing is most of their cost.
// The set statement takes ActorJSON(a) as its one argument; on PostgreSQL
// it returns one row.
func ContextSQL(dialect string) (set, clear string) {
	switch dialect {
	case Postgres:
		return `SELECT set_config('sidelog.audit_actor', $1, true)`, ""
	case SQLite:
		return `INSERT OR REPLACE INTO ` + contextTable + ` (id, actor) VALUES (1, $1)`, `DELETE FROM ` + contextTable
	}
	return "", ""
}

// ActorJSON is the argument of ContextSQL's set statement.
func ActorJSON(a Actor) string {
	b, _ := json.Marshal(a)
	return string(b)
}

// SetContext tells the capture triggers who acts in tx: call it right
// after BEGIN, in every transaction that writes audited tables. On
// PostgreSQL the setting ends with the transaction; on SQLite call
// ClearContext before COMMIT. A change made without it is recorded with the
// actor "unknown".
func SetContext(ctx context.Context, tx Execer, dialect string, a Actor) error {
	set, _ := ContextSQL(dialect)
	var err error
	switch dialect {
	case Postgres:
		var rows *sql.Rows
		rows, err = tx.QueryContext(ctx, set, ActorJSON(a))
		if err == nil {
			err = rows.Close()
		}
	case SQLite:
		_, err = tx.ExecContext(ctx, set, ActorJSON(a))
	default:
		err = fmt.Errorf("unknown dialect %q", dialect)
	}
	if err != nil {
		return fmt.Errorf("set audit context: %w", err)
	}
	return nil
}

// ClearContext removes the actor set by SetContext on SQLite, where it is
// a row that would otherwise outlive the transaction; on PostgreSQL it does
// nothing.
func ClearContext(ctx context.Context, tx Execer, dialect string) error {
	_, clear := ContextSQL(dialect)
	if clear == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, clear); err != nil {
		return fmt.Errorf("clear audit context: %w", err)
	}
	return nil
}
