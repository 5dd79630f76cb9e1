-- Business data of the reference application (PostgreSQL). Log records
-- never live here: they go to the separate sidelog database.
CREATE TABLE users (
	id            BIGSERIAL PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	is_superuser  BOOLEAN NOT NULL DEFAULT FALSE,
	created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE orgs (
	id         BIGSERIAL PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE memberships (
	org_id     BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	role       TEXT NOT NULL CHECK (role IN ('owner', 'member')),
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY, -- SHA-256 of the cookie's token, hex
	user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	csrf_token TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE projects (
	id           BIGSERIAL PRIMARY KEY,
	org_id       BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	status       TEXT NOT NULL CHECK (status IN ('planned', 'active', 'done', 'archived')),
	budget_cents BIGINT NOT NULL DEFAULT 0 CHECK (budget_cents >= 0),
	owner_id     BIGINT NOT NULL REFERENCES users(id),
	created_at   TIMESTAMPTZ NOT NULL,
	updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX projects_org ON projects(org_id, id);
