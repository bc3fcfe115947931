#!/usr/bin/env bash
# Usage: scripts/run.sh BINARY HOST:PORT DATABASE_URL
# Starts the platform on its embedded default with demo data. The staff token comes from
# BREAKPILOT_ADMIN_TOKEN, or is generated once and kept in var/admin-token (mode 600).
# BREAKPILOT_VAR_DIR (default var) holds the generated token and passwords.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1 ADDR=$2 DB=$3
PORT=${ADDR##*:}
VAR=${BREAKPILOT_VAR_DIR:-var}
mkdir -p "$VAR"
if [ -z "${BREAKPILOT_ADMIN_TOKEN:-}" ]; then
  if [ ! -s "$VAR/admin-token" ]; then
    (umask 077; head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | head -c 40 > "$VAR/admin-token")
  fi
  BREAKPILOT_ADMIN_TOKEN=$(cat "$VAR/admin-token")
fi
export BREAKPILOT_ADMIN_TOKEN
# Sign-in passwords for the seeded users, generated once like the token.
for f in admin-password demo-password sales-password; do
  if [ ! -s "$VAR/$f" ]; then
    (umask 077; head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | head -c 24 > "$VAR/$f")
  fi
done
BREAKPILOT_SEED_ADMIN_PASSWORD=$(cat "$VAR/admin-password") \
BREAKPILOT_SEED_DEMO_PASSWORD=$(cat "$VAR/demo-password") \
BREAKPILOT_SEED_SALES_PASSWORD=$(cat "$VAR/sales-password") \
  "$BIN" demo seed --database "$DB" > /dev/null
cat <<MSG

  Breakpilot Platform
  Portal:       http://localhost:$PORT/             public pages and sign-in
                http://demo.localhost:$PORT/        the demo tenant's portal
                http://backstage.localhost:$PORT/   the staff backstage
  API:          http://$ADDR/   (API reference; the document is at /openapi.yaml)
  Database:     $DB
  Staff token:  $BREAKPILOT_ADMIN_TOKEN

  Sign in at http://localhost:$PORT/login (built-in identity):
    demo tenant's IT_ADMIN:   demo-admin  / $(cat "$VAR/demo-password")   -> demo.localhost
    staff admin:              admin       / $(cat "$VAR/admin-password")   -> backstage.localhost
    sales rep:                sales       / $(cat "$VAR/sales-password")   -> demo.localhost, backstage (leads, demo reset)
  The same users get API tokens from the OAuth 2 password grant at /oauth/token:
    curl -s http://$ADDR/oauth/token -d grant_type=password -d username=admin \\
         --data-urlencode password=$(cat "$VAR/admin-password")

  Try it:
    curl -s -X POST http://$ADDR/tenants -H "Authorization: Bearer $BREAKPILOT_ADMIN_TOKEN" \\
         -H 'Content-Type: application/json' -d '{"slug":"acme","name":"Acme GmbH"}'
    curl -s http://$ADDR/tenants -H "Authorization: Bearer $BREAKPILOT_ADMIN_TOKEN"

  Mail (trial confirmations, reminders, final exports) is written as .eml files to var/mail/;
  give --smtp-url smtp://host:587 to send it. The sample products live elsewhere
  (*.breakpilot.com): on this development machine the lifecycle does not call them
  (product_hosts: loopback), so demo resets and offboarding skip them.

  Stop with Ctrl-C (the server drains in-flight requests first).

MSG
exec "$BIN" serve --listen "$ADDR" --database "$DB" --seed-demo --portal-domain localhost
