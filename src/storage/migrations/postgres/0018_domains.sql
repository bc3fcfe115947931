-- 0018 (issue 26, M18.1): customers' own domains for their portal.
-- Forward-only: never edit a migration that has shipped.

-- A tenant's domain: pending until its DNS record is seen (a CNAME to <slug>.D, or a TXT record
-- with the token at _breakpilot.<domain>), then verified; checked again periodically.
CREATE TABLE tenant_domains (
  domain          text PRIMARY KEY,
  tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  token           text NOT NULL,
  status          text NOT NULL CHECK (status IN ('pending', 'verified')),
  created_at      timestamptz NOT NULL,
  verified_at     timestamptz,
  last_checked_at timestamptz,
  last_error      text
);
CREATE INDEX tenant_domains_tenant_idx ON tenant_domains (tenant_id);
