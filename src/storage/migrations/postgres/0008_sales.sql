-- 0008 (issue 23, M11.1/M13.2): who sells to a tenant, and the products its people ask for.
-- Forward-only: never edit a migration that has shipped.

-- The user name of the staff member who owns the account (a SALES_REP); set by staff.
ALTER TABLE tenants ADD COLUMN sales_owner text;

-- A request for a product from a tenant's catalog page: a lead for the tenant's sales owner at
-- the time (the ERPNext mirror comes with the billing integration). One open lead per tenant
-- and product: asking again changes nothing.
CREATE TABLE leads (
  id                uuid PRIMARY KEY,
  tenant_id         uuid NOT NULL REFERENCES tenants (id),
  product_id        text NOT NULL,
  status            text NOT NULL CHECK (status IN ('open', 'won', 'lost')),
  sales_owner       text,
  requested_by      text NOT NULL,
  requested_by_name text NOT NULL,
  note              text NOT NULL,
  created_at        timestamptz NOT NULL
);
CREATE UNIQUE INDEX leads_open_idx ON leads (tenant_id, product_id) WHERE status = 'open';
CREATE INDEX leads_owner_idx ON leads (sales_owner, created_at);
CREATE INDEX leads_created_idx ON leads (created_at);
