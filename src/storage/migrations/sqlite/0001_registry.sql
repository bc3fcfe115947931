-- 0001 (M4.1): the tenant registry. Forward-only: never edit a migration that has shipped.
-- SQLite dialect: uuid, timestamptz and jsonb are TEXT (timestamps in the sortable storage form).

CREATE TABLE tenants (
  id                text PRIMARY KEY,
  slug              text NOT NULL UNIQUE,
  name              text NOT NULL,
  kind              text NOT NULL CHECK (kind IN ('customer', 'demo', 'internal')),
  status            text NOT NULL CHECK (status IN ('trial', 'active', 'frozen', 'archived', 'demo')),
  plan              text NOT NULL,
  trial_ends_at     text,
  status_changed_at text NOT NULL,
  cancel_reason     text,
  version           integer NOT NULL DEFAULT 1,
  created_at        text NOT NULL,
  updated_at        text NOT NULL
);
CREATE INDEX tenants_status_idx ON tenants (status, id);
CREATE INDEX tenants_kind_idx ON tenants (kind, id);

CREATE TABLE tenant_projects (
  id          text PRIMARY KEY,
  tenant_id   text NOT NULL REFERENCES tenants (id),
  name        text NOT NULL,
  description text NOT NULL DEFAULT '',
  version     integer NOT NULL DEFAULT 1,
  created_at  text NOT NULL,
  updated_at  text NOT NULL,
  UNIQUE (tenant_id, name)
);
CREATE INDEX tenant_projects_tenant_idx ON tenant_projects (tenant_id, id);

CREATE TABLE products (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  version     text NOT NULL,
  manifest    text NOT NULL,
  updated_at  text NOT NULL
);

CREATE TABLE tenant_products (
  tenant_id     text NOT NULL REFERENCES tenants (id),
  product_id    text NOT NULL REFERENCES products (id),
  plan          text NOT NULL,
  subscribed_at text NOT NULL,
  PRIMARY KEY (tenant_id, product_id)
);

CREATE TABLE tenant_idp_config (
  tenant_id          text PRIMARY KEY REFERENCES tenants (id),
  provider           text NOT NULL CHECK (provider IN ('builtin', 'keycloak', 'oidc')),
  issuer             text,
  org_id             text,
  config             text NOT NULL DEFAULT '{}',
  provisioning_state text NOT NULL DEFAULT 'pending',
  updated_at         text NOT NULL
);

CREATE TABLE api_keys (
  id           text PRIMARY KEY,
  tenant_id    text NOT NULL REFERENCES tenants (id),
  name         text NOT NULL,
  prefix       text NOT NULL,
  secret_hash  text NOT NULL UNIQUE,
  scopes       text NOT NULL DEFAULT '[]',
  expires_at   text,
  revoked_at   text,
  last_used_at text,
  created_at   text NOT NULL
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, id);

CREATE TABLE audit_log (
  id          text PRIMARY KEY,
  tenant_id   text,
  product     text NOT NULL DEFAULT 'platform',
  action      text NOT NULL,
  crud        text NOT NULL CHECK (crud IN ('c', 'r', 'u', 'd')),
  actor_id    text NOT NULL,
  target_type text,
  target_id   text,
  description text NOT NULL DEFAULT '',
  is_failure  integer NOT NULL DEFAULT 0,
  source_ip   text,
  request_id  text,
  fields      text NOT NULL DEFAULT '{}',
  created_at  text NOT NULL
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, id);

CREATE TABLE idempotency_keys (
  principal     text NOT NULL,
  key           text NOT NULL,
  method        text NOT NULL,
  path          text NOT NULL,
  request_hash  text NOT NULL,
  status        integer NOT NULL DEFAULT 0,
  response      text,
  created_at    text NOT NULL,
  PRIMARY KEY (principal, key)
);
