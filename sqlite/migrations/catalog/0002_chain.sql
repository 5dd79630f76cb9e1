-- Links of the audit hash chain whose records were erased on purpose
-- (purge of one user's or tenant's records): verify steps over them
-- instead of reporting a removed record. Retention keeps a single anchor
-- in settings instead (key chain_anchor).
CREATE TABLE chain_gaps (
	seq    INTEGER PRIMARY KEY,
	hash   BLOB NOT NULL,
	reason TEXT NOT NULL
);
