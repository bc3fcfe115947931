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

# The catalog of the embedded default: the sample products of data/catalog, and echo-bot
# (examples/echo-bot), the reference product, which runs beside the platform on ECHO_BOT_ADDR.
# Adding a product is this and nothing else: its manifest in the catalog directory.
ECHO_BOT_ADDR=${ECHO_BOT_ADDR:-127.0.0.1:8091}
CATALOG="$VAR/catalog"
rm -rf "$CATALOG"
mkdir -p "$CATALOG/echo-bot"
for d in data/catalog/*/; do ln -s "$PWD/$d" "$CATALOG/$(basename "$d")"; done
sed "s|http://127.0.0.1:8091|http://$ECHO_BOT_ADDR|g" examples/echo-bot/product.manifest.yaml \
  > "$CATALOG/echo-bot/product.manifest.yaml"
ln -s "$PWD/examples/echo-bot/demo" "$CATALOG/echo-bot/demo"
# echo-bot's service client (verifies API keys, sends audit events); its secret is made once.
if [ ! -s "$VAR/echo-bot-secret" ]; then
  made=$("$BIN" client create --database "$DB" --client-id echo-bot 2>&1) || {
    echo "make run: could not create echo-bot's service client: $made" >&2
    echo "  (remove $DB to start afresh, or put its secret in $VAR/echo-bot-secret)" >&2
    exit 1
  }
  (umask 077; sed -E 's/.*"client_secret":"([^"]+)".*/\1/' <<<"$made" > "$VAR/echo-bot-secret")
fi
ECHO_BOT="$(dirname "$BIN")/echo-bot"
ECHO_BOT_CLIENT_SECRET=$(cat "$VAR/echo-bot-secret") "$ECHO_BOT" --listen "$ECHO_BOT_ADDR" \
  --database "$VAR/echo-bot.db" --platform "http://$ADDR" > "$VAR/echo-bot.log" 2>&1 &
ECHO_BOT_PID=$!
trap 'kill "$ECHO_BOT_PID" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/${ECHO_BOT_ADDR%:*}/${ECHO_BOT_ADDR##*:}") 2>/dev/null && break
  kill -0 "$ECHO_BOT_PID" 2>/dev/null || { echo "echo-bot did not start:" >&2; cat "$VAR/echo-bot.log" >&2; exit 1; }
  sleep 0.1
done
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
  give --smtp-url smtp://host:587 to send it.

  Products: echo-bot, the reference product on the product SDK, runs beside the platform at
  http://$ECHO_BOT_ADDR (log: $VAR/echo-bot.log); demo resets and exports reach it. The other
  sample products live elsewhere (*.breakpilot.com): on this development machine the lifecycle
  does not call them (product_hosts: loopback). Call echo-bot as the demo tenant's admin:
    TOKEN=\$(curl -s http://$ADDR/oauth/token -d grant_type=password -d username=demo-admin \\
           --data-urlencode password=$(cat "$VAR/demo-password") -d audience=echo-bot | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')
    curl -s http://$ECHO_BOT_ADDR/v1/echo -H "Authorization: Bearer \$TOKEN" \\
         -H 'Content-Type: application/json' -d '{"message":"hello"}'

  Stop with Ctrl-C (the server drains in-flight requests first).

MSG
"$BIN" serve --listen "$ADDR" --database "$DB" --seed-demo --portal-domain localhost \
  --catalog-dir "$CATALOG" --demo-products echo-bot
