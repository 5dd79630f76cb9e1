-- One segment file holds the records of one UTC day.
-- Repeated strings (logger, method, path, route, user agent) are stored once
-- in dict; messages and error texts once in msgs, which is what full-text
-- search indexes: FTS work is paid per distinct message, not per row.
CREATE TABLE dict (
	id INTEGER PRIMARY KEY,
	s  TEXT NOT NULL UNIQUE
);

CREATE TABLE msgs (
	id INTEGER PRIMARY KEY,
	s  TEXT NOT NULL UNIQUE
);

CREATE VIRTUAL TABLE msgs_fts USING fts5(s, content='msgs', content_rowid='id');

-- Rows are inserted in time order, so rowid order is newest-last order and
-- single-column indexes (which end in the rowid) serve "newest first".
CREATE TABLE logs (
	id         INTEGER PRIMARY KEY,
	ts         INTEGER NOT NULL,  -- Unix nanoseconds, UTC
	level      INTEGER NOT NULL,  -- slog.Level
	kind       INTEGER NOT NULL,  -- sidelog.Kind
	logger     INTEGER,           -- dict.id
	msg        INTEGER NOT NULL,  -- msgs.id
	request_id TEXT,
	trace_id   TEXT,
	span_id    TEXT,
	user_id    TEXT,
	tenant_id  TEXT,
	method     INTEGER,           -- dict.id
	path       INTEGER,           -- dict.id
	route      INTEGER,           -- dict.id
	status     INTEGER,
	duration   INTEGER,           -- nanoseconds
	client_ip  TEXT,
	user_agent INTEGER,           -- dict.id
	err        INTEGER,           -- msgs.id
	attrs      TEXT               -- JSON object
);

CREATE INDEX logs_ts      ON logs(ts);
CREATE INDEX logs_level   ON logs(level);
CREATE INDEX logs_kind    ON logs(kind);
CREATE INDEX logs_logger  ON logs(logger);
CREATE INDEX logs_msg     ON logs(msg);
CREATE INDEX logs_request ON logs(request_id) WHERE request_id IS NOT NULL;
CREATE INDEX logs_trace   ON logs(trace_id)   WHERE trace_id IS NOT NULL;
CREATE INDEX logs_user    ON logs(user_id)    WHERE user_id IS NOT NULL;
CREATE INDEX logs_tenant  ON logs(tenant_id)  WHERE tenant_id IS NOT NULL;
CREATE INDEX logs_path    ON logs(path)       WHERE path IS NOT NULL;
CREATE INDEX logs_status  ON logs(status)     WHERE status IS NOT NULL;
CREATE INDEX logs_err     ON logs(err)        WHERE err IS NOT NULL;
CREATE INDEX logs_ip      ON logs(client_ip)  WHERE client_ip IS NOT NULL;

-- Per-minute counts kept by the writer, for histograms without a scan.
CREATE TABLE rollup (
	minute      INTEGER NOT NULL, -- Unix minutes
	level_class INTEGER NOT NULL, -- sidelog.LevelClass
	kind        INTEGER NOT NULL,
	status_class INTEGER NOT NULL, -- status / 100, or 0 without a status
	n           INTEGER NOT NULL,
	PRIMARY KEY (minute, level_class, kind, status_class)
) WITHOUT ROWID;
