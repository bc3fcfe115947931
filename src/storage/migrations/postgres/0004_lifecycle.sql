-- 0004 (M12-M14, M3.2): the lifecycle engine. Durable jobs, the mail outbox and its suppression
-- list, trial requests, offboarding progress and final exports, shared secrets, the test clock.
-- Forward-only: never edit a migration that has shipped.

-- Durable jobs (jobs/queue.hpp). A job with a dedupe_key exists at most once, ever: that is how
-- several replicas schedule the same follow-up (a trial's day-7 mail, the 03:00 demo reset of
-- one night) and only one row results.
CREATE TABLE jobs (
  id           uuid PRIMARY KEY,
  kind         text NOT NULL,
  dedupe_key   text UNIQUE,
  payload      text NOT NULL DEFAULT '{}',
  state        text NOT NULL CHECK (state IN ('pending', 'running', 'done', 'dead')),
  run_at       timestamptz NOT NULL,
  attempts     integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 10,
  lease_token  text,
  lease_until  timestamptz,
  last_error   text,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL
);
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE state = 'pending';
CREATE INDEX jobs_lease_idx ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_state_idx ON jobs (state, kind, run_at);

-- Secrets every replica shares (HMAC keys for unsubscribe and download links), made once.
CREATE TABLE platform_secrets (
  name       text PRIMARY KEY,
  value      text NOT NULL,
  created_at timestamptz NOT NULL
);

-- Key/value settings every replica shares: the test clock's offset lives here.
CREATE TABLE platform_settings (
  name       text PRIMARY KEY,
  value      text NOT NULL,
  updated_at timestamptz NOT NULL
);

-- The mail outbox (mail/outbox.hpp): written in the transaction of the change that causes the
-- mail; the whole RFC 5322 message is rendered then, so a resend is byte-identical.
CREATE TABLE mail_outbox (
  id          uuid PRIMARY KEY,
  dedupe_key  text UNIQUE,
  tenant_id   uuid REFERENCES tenants (id),
  template    text NOT NULL,
  category    text NOT NULL CHECK (category IN ('transactional', 'lifecycle')),
  recipient   text NOT NULL,
  subject     text NOT NULL,
  message     text NOT NULL,
  state       text NOT NULL CHECK (state IN ('pending', 'sent', 'suppressed', 'failed')),
  attempts    integer NOT NULL DEFAULT 0,
  last_error  text,
  created_at  timestamptz NOT NULL,
  sent_at     timestamptz
);
CREATE INDEX mail_outbox_tenant_idx ON mail_outbox (tenant_id, created_at);

CREATE TABLE mail_suppressions (
  address    text PRIMARY KEY,  -- lower case
  reason     text NOT NULL CHECK (reason IN ('unsubscribe', 'bounce', 'complaint')),
  detail     text,
  created_at timestamptz NOT NULL
);

ALTER TABLE tenants ADD COLUMN contact_email text;

-- Self-serve trial requests (M12.1): confirmed by the link mailed to the address.
CREATE TABLE trial_requests (
  id           uuid PRIMARY KEY,
  email        text NOT NULL,
  slug         text NOT NULL,
  company_name text NOT NULL,
  token_hash   text NOT NULL UNIQUE,
  source_ip    text,
  created_at   timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  confirmed_at timestamptz,
  tenant_id    uuid REFERENCES tenants (id)
);
CREATE INDEX trial_requests_email_idx ON trial_requests (email, created_at);

-- Offboarding (M14.2), one row per tenant and one per subscribed product: each step's result is
-- kept, so a replica that takes over resumes where the last one stopped.
CREATE TABLE offboardings (
  tenant_id   uuid PRIMARY KEY REFERENCES tenants (id),
  state       text NOT NULL CHECK (state IN ('exporting', 'exported', 'deleting', 'archived')),
  export_id   uuid,
  started_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);
CREATE TABLE offboarding_products (
  tenant_id     uuid NOT NULL REFERENCES tenants (id),
  product_id    text NOT NULL,
  export_type   text,
  export_body   text,       -- base64 of what the product's export endpoint answered
  exported_at   timestamptz,
  deleted_at    timestamptz,
  PRIMARY KEY (tenant_id, product_id)
);

-- Final exports: the ZIP (base64) and when its download link stops working.
CREATE TABLE exports (
  id          uuid PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  filename    text NOT NULL,
  size_bytes  bigint NOT NULL,
  sha256      text NOT NULL,
  content     text NOT NULL,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX exports_tenant_idx ON exports (tenant_id);
