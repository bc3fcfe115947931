-- 0017 (issue 26, §1.12, M19.1): the built-in feature flag store.
-- Forward-only: never edit a migration that has shipped.

-- A flag: its definition (type, description, default, rules) as one JSON document, read whole
-- into every replica's memory; `version` bumps with every change and is part of each result.
CREATE TABLE flags (
  key        text PRIMARY KEY,
  definition text NOT NULL,
  version    bigint NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- The last result each tenant got from each flag: an evaluation that differs from it is
-- recorded in the audit trail once (the conditional upsert decides, on any replica).
CREATE TABLE flag_results (
  tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  flag_key     text NOT NULL,
  variant      text NOT NULL,
  reason       text NOT NULL,
  flag_version bigint NOT NULL,
  changed_at   timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, flag_key)
);
CREATE INDEX flag_results_flag_idx ON flag_results (flag_key);
