-- 0010 (issue 23, M5.1): a portal session begun at the OpenID provider keeps what it needs of
-- the provider's grant: the ID token (the hint for RP-initiated logout) and the refresh token,
-- sealed (AES-256-GCM) under a key derived from the session's cookie token, which only the
-- browser holds: a copy of the database alone cannot use it. idp_refresh_at: when the next
-- request of the session refreshes the grant at the provider (NULL: not a provider's session).
-- Forward-only: never edit a migration that has shipped.
ALTER TABLE web_sessions ADD COLUMN idp_id_token text;
ALTER TABLE web_sessions ADD COLUMN idp_refresh_sealed text;
ALTER TABLE web_sessions ADD COLUMN idp_refresh_at timestamptz;
