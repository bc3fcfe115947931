-- 0006 (issue 21): no secret kept readable, and sign-ins bound to the browser that began them.
-- Forward-only: never edit a migration that has shipped.

-- A mail that carries a secret link (a trial confirmation, a final export) is stored twice while
-- it waits: `message` as it will be sent, `redacted` with the link removed. Once the mail is
-- sent, refused or suppressed, `message` becomes the redacted text and `redacted` is cleared.
ALTER TABLE mail_outbox ADD COLUMN redacted text;

-- The SHA-256 of the PKCE code verifier, which only the browser holds (an HttpOnly cookie set
-- at /portal/login): a callback without it is refused. `code_verifier` is no longer written.
ALTER TABLE oidc_login_states ADD COLUMN browser_hash text;
