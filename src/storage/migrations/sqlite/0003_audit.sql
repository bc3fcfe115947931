-- 0003 (§1.9, M10.2): the audit trail in Retraced's shape, chained per tenant for tamper evidence.
-- Forward-only: never edit a migration that has shipped.
--
-- Events already recorded keep their rows; `breakpilot` chains them (seq, hash) at start-up,
-- oldest first, before it records anything new (audit::SealUnchained).

ALTER TABLE audit_log ADD COLUMN chain text NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN seq integer;
ALTER TABLE audit_log ADD COLUMN hash text;
ALTER TABLE audit_log ADD COLUMN actor_name text;
ALTER TABLE audit_log ADD COLUMN target_name text;
ALTER TABLE audit_log ADD COLUMN detail text NOT NULL DEFAULT '{}';
ALTER TABLE audit_log ADD COLUMN received_at text NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN demo integer NOT NULL DEFAULT 0;

UPDATE audit_log SET received_at = created_at, chain = COALESCE(tenant_id, 'platform');
UPDATE audit_log SET demo = 1 WHERE tenant_id IN (SELECT id FROM tenants WHERE kind = 'demo');

DROP INDEX audit_log_tenant_idx;
CREATE UNIQUE INDEX audit_log_chain_seq_idx ON audit_log (chain, seq);
CREATE INDEX audit_log_tenant_created_idx ON audit_log (tenant_id, created_at, id);
CREATE INDEX audit_log_actor_created_idx ON audit_log (actor_id, created_at, id);
-- "Everything user X did in tenant T last month": equality on both, then the time range.
CREATE INDEX audit_log_tenant_actor_idx ON audit_log (tenant_id, actor_id, created_at, id);
CREATE INDEX audit_log_target_created_idx ON audit_log (target_id, created_at, id);
CREATE INDEX audit_log_created_idx ON audit_log (created_at, id);
-- Empty but for rows the platform never chained: start-up (audit::SealUnchained) and
-- verification find them without reading the table.
CREATE INDEX audit_log_unchained_idx ON audit_log (created_at, id) WHERE seq IS NULL;

CREATE TABLE audit_chains (
  chain      text PRIMARY KEY,
  head_seq   integer NOT NULL,
  head_hash  text NOT NULL,
  base_seq   integer NOT NULL,
  base_hash  text NOT NULL,
  demo       integer NOT NULL DEFAULT 0
);

ALTER TABLE tenants ADD COLUMN audit_retention_days integer;
