-- 0013 (issue 25, M8.3): Polar billing.
-- Forward-only: never edit a migration that has shipped.

-- Each Polar webhook message, by its webhook-id: stored when it arrives (so a repeat is known)
-- and applied once by the billing.polar job. outcome: applied | ignored | no-tenant | stale |
-- refused, with a word on why in `note`.
CREATE TABLE polar_events (
  id          text PRIMARY KEY,
  type        text NOT NULL,
  payload     text NOT NULL,
  tenant_id   uuid,
  outcome     text,
  note        text,
  received_at timestamptz NOT NULL,
  applied_at  timestamptz
);
CREATE INDEX polar_events_received_idx ON polar_events (received_at);

-- A tenant's subscription at Polar as the newest event told it (events arrive in any order:
-- one older than modified_at changes nothing). ends_frozen_at: when the platform froze the
-- tenant because the period of a cancelled subscription ended (once).
CREATE TABLE polar_subscriptions (
  id                   text PRIMARY KEY,
  tenant_id            uuid NOT NULL REFERENCES tenants (id),
  customer_id          text,
  product_id           text,
  plan                 text,
  status               text NOT NULL,
  cancel_at_period_end boolean NOT NULL,
  current_period_end   timestamptz,
  ended_at             timestamptz,
  modified_at          timestamptz NOT NULL,
  frozen_at            timestamptz,
  updated_at           timestamptz NOT NULL
);
CREATE INDEX polar_subscriptions_tenant_idx ON polar_subscriptions (tenant_id);
CREATE INDEX polar_subscriptions_period_idx ON polar_subscriptions (cancel_at_period_end, frozen_at, current_period_end);

-- Paid orders, as Polar sent them (the ERPNext invoice mirror reads `payload`).
CREATE TABLE polar_orders (
  id              text PRIMARY KEY,
  tenant_id       uuid NOT NULL REFERENCES tenants (id),
  subscription_id text,
  customer_id     text,
  status          text NOT NULL,
  currency        text,
  total_amount    bigint,
  tax_amount      bigint,
  payload         text NOT NULL,
  created_at      timestamptz NOT NULL
);
CREATE INDEX polar_orders_tenant_idx ON polar_orders (tenant_id, created_at);
