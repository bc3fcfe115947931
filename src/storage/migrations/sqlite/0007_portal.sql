-- 0007 (issue 23): the portal's own sessions, for people who sign in on its pages.
-- Forward-only: never edit a migration that has shipped.

-- A signed-in browser on one site of the portal: a tenant's (site 'tenant:<id>') or the
-- backstage ('backstage'). The cookie holds a random token; only its SHA-256 is stored. A
-- session ends at expires_at (absolute), or when idle past idle_expires_at, or at sign-out.
-- A sign-in on the public site hands the session to the tenant's site with a single-use code
-- (handoff_hash, valid until handoff_expires_at): cookies never cross host names.
CREATE TABLE web_sessions (
  id                 text PRIMARY KEY,
  token_hash         text NOT NULL UNIQUE,
  user_id            text NOT NULL,
  site               text NOT NULL,
  csrf_token         text NOT NULL,
  user_agent         text NOT NULL,
  created_at         text NOT NULL,
  last_seen_at       text NOT NULL,
  idle_expires_at    text NOT NULL,
  expires_at         text NOT NULL,
  handoff_hash       text UNIQUE,
  handoff_expires_at text
);
CREATE INDEX web_sessions_user_idx ON web_sessions (user_id);
CREATE INDEX web_sessions_expiry_idx ON web_sessions (expires_at);
