-- 0019 (issue 26, M18.2): a tenant's data physically apart in each product.
-- Forward-only: never edit a migration that has shipped.

-- Where the tenant's data should live: 'shared' (the default), 'schema' or 'database'. Set by
-- PUT /tenants/{id}/isolation, which starts the job that asks each subscribed product to move it.
ALTER TABLE tenants ADD COLUMN isolation text NOT NULL DEFAULT 'shared'
  CHECK (isolation IN ('shared', 'schema', 'database'));

-- Each product's progress with the move, as the product last reported it.
CREATE TABLE tenant_isolation (
  tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  product_id text NOT NULL,
  target     text NOT NULL,
  phase      text NOT NULL,  -- the product's: copying, switching, cleaning, done, failed; or
                             -- not_called (a product not on this machine), unsupported
  copied     bigint NOT NULL DEFAULT 0,
  total      bigint NOT NULL DEFAULT 0,
  error      text,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, product_id)
);
