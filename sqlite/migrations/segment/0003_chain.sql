-- The hash chain over audit and security records (docs/audit.md).
-- chain_seq numbers the chained records of the whole database in write
-- order; chain_hash is SHA-256 over the previous record's hash and this
-- record's content (sqlite/chain.go). Audit and security records written
-- before this migration get chain_seq 0: older than the chain, not
-- verifiable, and counted as such by verify.
ALTER TABLE logs ADD COLUMN chain_seq INTEGER;
ALTER TABLE logs ADD COLUMN chain_hash BLOB;
UPDATE logs SET chain_seq = 0 WHERE kind IN (2, 3);
CREATE INDEX logs_chain ON logs(chain_seq) WHERE chain_seq IS NOT NULL;
