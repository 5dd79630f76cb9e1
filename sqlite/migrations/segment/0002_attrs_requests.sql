-- The attribute index and the request rollup (docs/storage.md).
--
-- attrs_fts indexes each row's attributes; its rowid is logs.id. It is
-- contentless: the writer builds each row's document from its attrs (the
-- words of the string values, and one token per numeric or boolean
-- key=value and per key present; sqlite/attrindex.go) and only the index
-- is kept. A lookup gives candidate rowids; the row's attrs decide. Text
-- search uses it for words found only in the attributes. No column sizes:
-- nothing ranks, and they would cost bytes on every row.
CREATE VIRTUAL TABLE attrs_fts USING fts5(t, content='', columnsize=0);

-- Attribute keys (dotted paths, nested objects included) seen in the file,
-- with the number of rows that have each: the planner skips files without
-- a key, and picks the index or a walk over rowids by how common it is.
CREATE TABLE attr_keys (
	path TEXT PRIMARY KEY,
	n    INTEGER NOT NULL
) WITHOUT ROWID;

-- Request analytics kept by the writer: per minute, route, method and
-- status, the number of requests, their summed duration and a histogram of
-- their durations (log-scale buckets, sqlite/sketch.go), so percentiles
-- over any whole-minute range come from a few rows instead of a scan.
-- reqs_hour holds the same per hour, for long ranges.
CREATE TABLE reqs_minute (
	minute  INTEGER NOT NULL, -- Unix minutes
	route   INTEGER NOT NULL, -- dict.id, 0 for none
	method  INTEGER NOT NULL, -- dict.id, 0 for none
	status  INTEGER NOT NULL, -- 0 for none
	n       INTEGER NOT NULL,
	dur_sum INTEGER NOT NULL, -- nanoseconds
	hist    BLOB NOT NULL,
	PRIMARY KEY (minute, route, method, status)
) WITHOUT ROWID;

CREATE TABLE reqs_hour (
	hour    INTEGER NOT NULL, -- Unix hours
	route   INTEGER NOT NULL,
	method  INTEGER NOT NULL,
	status  INTEGER NOT NULL,
	n       INTEGER NOT NULL,
	dur_sum INTEGER NOT NULL,
	hist    BLOB NOT NULL,
	PRIMARY KEY (hour, route, method, status)
) WITHOUT ROWID;
