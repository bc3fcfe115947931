-- 0014 (issue 25, M8.2): ERPNext's webhooks in.
-- Forward-only: never edit a migration that has shipped.

-- Each Sales Order message applied, by the SHA-256 of its body: a repeat changes nothing.
CREATE TABLE erpnext_events (
  id          text PRIMARY KEY,
  doctype     text NOT NULL,
  name        text NOT NULL,
  docstatus   integer NOT NULL,
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  outcome     text NOT NULL,
  received_at timestamptz NOT NULL
);
CREATE INDEX erpnext_events_tenant_idx ON erpnext_events (tenant_id, received_at);
