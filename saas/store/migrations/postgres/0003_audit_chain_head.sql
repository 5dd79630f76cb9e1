-- The newest link of the log database's audit chain, as the application
-- last saw it (see docs/audit.md, "The head kept in the business
-- database"): whoever can rewrite the log database's files cannot move it
-- back, so a truncated or rebuilt tail fails `saas logs audit verify`.
CREATE TABLE audit_chain_head (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	seq      BIGINT NOT NULL CHECK (seq > 0),
	hash     TEXT NOT NULL,
	saved_at TIMESTAMP NOT NULL
);
