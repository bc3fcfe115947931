-- 0016 (issue 25, M13.2): the demo's "Request trial": a lead for a prospect a sales rep met,
-- on the demo tenant, owned by that rep. Forward-only: never edit a migration that has shipped.
ALTER TABLE leads ADD COLUMN prospect_company text;
ALTER TABLE leads ADD COLUMN prospect_name text;
ALTER TABLE leads ADD COLUMN prospect_email text;
-- One open lead per tenant and product still, but a prospect's lead is no request of the
-- demo tenant's own: any number of prospects may ask for the same product.
DROP INDEX leads_open_idx;
CREATE UNIQUE INDEX leads_open_idx ON leads (tenant_id, product_id)
  WHERE status = 'open' AND prospect_email IS NULL;
