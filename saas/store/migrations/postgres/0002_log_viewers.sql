-- Users who may read the logs in the admin UI without being superusers.
CREATE TABLE log_viewers (
	user_id    BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	granted_at TIMESTAMPTZ NOT NULL
);
