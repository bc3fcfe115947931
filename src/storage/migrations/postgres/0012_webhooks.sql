-- 0012 (issue 24, M15.2): outgoing webhooks, signed per Standard Webhooks.
-- Forward-only: never edit a migration that has shipped.

-- The outbox: an audited change that customers may subscribe to (tenant.status_changed,
-- api_key.created, ...), written by audit::Record in the change's own transaction; the webhook
-- fan-out turns each into one delivery per matching endpoint and deletes it.
CREATE TABLE webhook_events (
  id         uuid PRIMARY KEY,
  tenant_id  uuid NOT NULL,
  type       text NOT NULL,
  payload    text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX webhook_events_created_idx ON webhook_events (created_at);

-- A tenant's endpoint. event_types: a JSON array, [] for every type. The signing secrets are
-- sealed (AES-256-GCM under a key in shared_secrets); the previous one signs too until
-- previous_until (a rotation's grace).
CREATE TABLE webhook_endpoints (
  id              uuid PRIMARY KEY,
  tenant_id       uuid NOT NULL REFERENCES tenants (id),
  url             text NOT NULL,
  event_types     text NOT NULL,
  secret          text NOT NULL,
  previous_secret text,
  previous_until  timestamptz,
  status          text NOT NULL CHECK (status IN ('enabled', 'disabled')),
  disabled_reason text,
  failing_since   timestamptz,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_tenant_idx ON webhook_endpoints (tenant_id);

-- One event for one endpoint. event_id is the webhook-id header: the same on every attempt and
-- on a replay, so the receiver can drop repeats.
CREATE TABLE webhook_deliveries (
  id          uuid PRIMARY KEY,
  event_id    uuid NOT NULL,
  endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  tenant_id   uuid NOT NULL,
  type        text NOT NULL,
  payload     text NOT NULL,
  state       text NOT NULL CHECK (state IN ('pending', 'succeeded', 'dead')),
  attempts    integer NOT NULL,
  next_at     timestamptz,
  last_status integer,
  last_error  text,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX webhook_deliveries_once_idx ON webhook_deliveries (event_id, endpoint_id);
CREATE INDEX webhook_deliveries_state_idx ON webhook_deliveries (state, tenant_id, created_at);
