-- The catalog is the file the user names (logs.db). It lists the segments
-- and keeps settings; the records live in the segment files beside it.
CREATE TABLE segments (
	day     INTEGER PRIMARY KEY, -- days since 1970-01-01 UTC
	file    TEXT NOT NULL UNIQUE, -- path relative to the segment directory
	rows    INTEGER NOT NULL DEFAULT 0,
	min_ts  INTEGER,
	max_ts  INTEGER,
	compacted_class INTEGER NOT NULL DEFAULT 0 -- level classes below this were removed by retention
);

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
