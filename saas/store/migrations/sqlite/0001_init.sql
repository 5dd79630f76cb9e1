-- Business data of the reference application (SQLite, the default when
-- DATABASE_URL is unset). Same shape as the PostgreSQL set.
CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	is_superuser  INTEGER NOT NULL DEFAULT 0,
	created_at    TIMESTAMP NOT NULL
);

CREATE TABLE orgs (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL
);

CREATE TABLE memberships (
	org_id     INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	role       TEXT NOT NULL CHECK (role IN ('owner', 'member')),
	created_at TIMESTAMP NOT NULL,
	PRIMARY KEY (org_id, user_id)
) WITHOUT ROWID;
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY, -- SHA-256 of the cookie's token, hex
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	csrf_token TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE projects (
	id           INTEGER PRIMARY KEY AUTOINCREMENT, -- ids of deleted projects are never reused
	org_id       INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	status       TEXT NOT NULL CHECK (status IN ('planned', 'active', 'done', 'archived')),
	budget_cents INTEGER NOT NULL DEFAULT 0 CHECK (budget_cents >= 0),
	owner_id     INTEGER NOT NULL REFERENCES users(id),
	created_at   TIMESTAMP NOT NULL,
	updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX projects_org ON projects(org_id, id);
