-- 0011 (issue 24, M12.1): what products report a tenant used.
-- Forward-only: never edit a migration that has shipped.

-- Each reported event's id, kept for the dedupe window (48 hours) so a retried report is
-- applied once; the quantities themselves live in usage_totals.
CREATE TABLE usage_events (
  product   text NOT NULL,
  id        text NOT NULL,
  tenant_id text NOT NULL,
  at        text NOT NULL,
  PRIMARY KEY (product, id)
);
CREATE INDEX usage_events_at_idx ON usage_events (at);

-- Totals per tenant, product, metric and period: a day ('2026-12-07', UTC) while it is recent,
-- a month ('2026-12') once compacted (days older than 62 are folded into their month).
CREATE TABLE usage_totals (
  tenant_id text NOT NULL REFERENCES tenants (id),
  product   text NOT NULL,
  metric    text NOT NULL,
  period    text NOT NULL,
  quantity  bigint NOT NULL,
  PRIMARY KEY (tenant_id, product, metric, period)
);
