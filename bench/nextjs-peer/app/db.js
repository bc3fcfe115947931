// The same SQLite file the platform serves, opened read-only. The statements are the reads the
// platform's dashboard makes: the session by its cookie's SHA-256, the user and their roles in
// this tenant, the tenant by its slug, and its subscriptions with the products' names.
import Database from 'better-sqlite3';

let q = null;

// Opened at the first request (the build imports this module with no database to open).
export function statements() {
  if (q) return q;
  const db = new Database(process.env.BENCH_DB, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  q = {
  session: db.prepare(
    'SELECT user_id, csrf_token FROM web_sessions WHERE token_hash = ? AND site = ? AND expires_at > ? AND idle_expires_at > ?'),
  user: db.prepare('SELECT username, display_name FROM users WHERE id = ? AND disabled = 0'),
  roles: db.prepare('SELECT org_roles FROM memberships WHERE user_id = ? AND tenant_id = ?'),
  tenant: db.prepare('SELECT id, name, status, plan, trial_ends_at FROM tenants WHERE slug = ?'),
  products: db.prepare(
    'SELECT p.id, p.name, p.manifest, s.plan FROM tenant_products s JOIN products p ON p.id = s.product_id WHERE s.tenant_id = ? ORDER BY p.id'),
  };
  return q;
}
