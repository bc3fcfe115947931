-- 0003 (§1.9, M10.2): the audit trail in Retraced's shape, chained per tenant for tamper evidence.
-- Forward-only: never edit a migration that has shipped.
--
-- Events already recorded keep their rows; `breakpilot` chains them (seq, hash) at start-up,
-- oldest first, before it records anything new (audit::SealUnchained).

-- Kept as the exact text we hashed (jsonb would re-format it and break the hash).
ALTER TABLE audit_log ALTER COLUMN fields DROP DEFAULT;
ALTER TABLE audit_log ALTER COLUMN fields TYPE text USING fields::text;
ALTER TABLE audit_log ALTER COLUMN fields SET DEFAULT '{}';

ALTER TABLE audit_log
  ADD COLUMN chain       text,
  ADD COLUMN seq         bigint,
  ADD COLUMN hash        text,
  ADD COLUMN actor_name  text,
  ADD COLUMN target_name text,
  ADD COLUMN detail      text NOT NULL DEFAULT '{}',
  ADD COLUMN received_at timestamptz,
  ADD COLUMN demo        boolean NOT NULL DEFAULT false;

UPDATE audit_log SET received_at = created_at, chain = COALESCE(tenant_id::text, 'platform');
UPDATE audit_log SET demo = true
  WHERE tenant_id IN (SELECT id FROM tenants WHERE kind = 'demo');
ALTER TABLE audit_log ALTER COLUMN received_at SET NOT NULL, ALTER COLUMN chain SET NOT NULL;

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

-- One row per chain (a tenant's id, or 'platform'): the head every new event links to, and the
-- base that retention or an erase moved forward (a tombstone event in the chain records each
-- move, so verification tells a move from a deletion).
CREATE TABLE audit_chains (
  chain      text PRIMARY KEY,
  head_seq   bigint NOT NULL,
  head_hash  text NOT NULL,
  base_seq   bigint NOT NULL,
  base_hash  text NOT NULL,
  demo       boolean NOT NULL DEFAULT false
);

-- Retention per tenant, in days (NULL: keep for ever).
ALTER TABLE tenants ADD COLUMN audit_retention_days integer;
