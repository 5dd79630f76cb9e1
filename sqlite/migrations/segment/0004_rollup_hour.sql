-- Per-hour counts beside the per-minute rollup, with the same columns:
-- a chart over days, months or a year reads 24 rows a day per class
-- instead of 1,440 (docs/storage.md). The writer keeps both; erasure and
-- retention rewrites rebuild this one from rollup.
CREATE TABLE rollup_hour (
	hour         INTEGER NOT NULL, -- Unix hours (floor of rollup.minute / 60)
	level_class  INTEGER NOT NULL,
	kind         INTEGER NOT NULL,
	status_class INTEGER NOT NULL,
	n            INTEGER NOT NULL,
	PRIMARY KEY (hour, level_class, kind, status_class)
) WITHOUT ROWID;

INSERT INTO rollup_hour(hour, level_class, kind, status_class, n)
	SELECT (minute - ((minute % 60) + 60) % 60) / 60, level_class, kind, status_class, sum(n)
	FROM rollup GROUP BY 1, 2, 3, 4;
