-- Sign-ups waiting for their e-mail address to be confirmed: the sign-up
-- form answers the same whether the address has an account or not, and
-- the account is created only from the mailed link.
CREATE TABLE signups (
	token_hash    TEXT PRIMARY KEY, -- SHA-256 of the mailed token, hex
	email         TEXT NOT NULL,
	name          TEXT NOT NULL,
	org           TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    TIMESTAMP NOT NULL,
	expires_at    TIMESTAMP NOT NULL
);
CREATE INDEX signups_email ON signups(email);
CREATE INDEX signups_expires ON signups(expires_at);
