-- 0002 (M2.2, M15.1): the built-in identity (users, memberships, service clients, signing keys,
-- sign-in throttling) and API key rotation.

CREATE TABLE users (
  id            uuid PRIMARY KEY,          -- also the IdP subject (Keycloak user id) when external
  username      text NOT NULL UNIQUE,      -- lower case
  display_name  text NOT NULL DEFAULT '',
  password_hash text,                      -- argon2id PHC string; NULL: signs in elsewhere
  realm_roles   jsonb NOT NULL DEFAULT '[]',
  disabled      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);

CREATE TABLE memberships (
  user_id    uuid NOT NULL REFERENCES users (id),
  tenant_id  uuid NOT NULL REFERENCES tenants (id),
  org_roles  jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, tenant_id)
);
CREATE INDEX memberships_tenant_idx ON memberships (tenant_id, user_id);

CREATE TABLE service_clients (
  client_id   text PRIMARY KEY,
  secret_hash text NOT NULL,               -- SHA-256 hex of a 256-bit random secret
  realm_roles jsonb NOT NULL DEFAULT '["SERVICE"]',
  disabled    boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL
);

CREATE TABLE signing_keys (
  kid         text PRIMARY KEY,
  private_jwk text NOT NULL,
  created_at  timestamptz NOT NULL,
  retired_at  timestamptz,                 -- stopped signing; still published
  expires_at  timestamptz                  -- no longer published
);

CREATE TABLE sign_in_throttle (
  subject      text PRIMARY KEY,           -- lower-cased username, known or not
  failures     integer NOT NULL,
  locked_until timestamptz,
  updated_at   timestamptz NOT NULL
);

ALTER TABLE api_keys ADD COLUMN replaced_by uuid;

-- OpenID sign-in for the portal (M5.1): the state of logins under way (single use, minutes),
-- and portal sessions (the cookie holds a random token; only its SHA-256 is stored).
CREATE TABLE oidc_login_states (
  state         text PRIMARY KEY,
  nonce         text NOT NULL,
  code_verifier text NOT NULL,
  return_to     text NOT NULL,
  created_at    timestamptz NOT NULL
);

CREATE TABLE portal_sessions (
  token_hash text PRIMARY KEY,
  subject    text NOT NULL,
  claims     jsonb NOT NULL,
  id_token   text NOT NULL,
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX portal_sessions_expiry_idx ON portal_sessions (expires_at);

-- Keycloak provisioning (M4.3): each tenant's organization is created and its first IT_ADMIN
-- invited by steps that retry with backoff; the state is visible on the tenant.
ALTER TABLE tenant_idp_config ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE tenant_idp_config ADD COLUMN next_attempt_at timestamptz;
ALTER TABLE tenant_idp_config ADD COLUMN last_error text;
ALTER TABLE tenant_idp_config ADD COLUMN lease_until timestamptz;
