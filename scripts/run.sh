#!/usr/bin/env bash
# Usage: scripts/run.sh BINARY HOST:PORT DATABASE_URL
# Starts the platform on its embedded default with demo data. The staff token comes from
# BREAKPILOT_ADMIN_TOKEN, or is generated once and kept in var/admin-token (mode 600).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1 ADDR=$2 DB=$3
mkdir -p var
if [ -z "${BREAKPILOT_ADMIN_TOKEN:-}" ]; then
  if [ ! -s var/admin-token ]; then
    (umask 077; head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | head -c 40 > var/admin-token)
  fi
  BREAKPILOT_ADMIN_TOKEN=$(cat var/admin-token)
fi
export BREAKPILOT_ADMIN_TOKEN
cat <<MSG

  Breakpilot Platform
  URL:          http://$ADDR/   (API reference; the document is at /openapi.yaml)
  Database:     $DB
  Staff token:  $BREAKPILOT_ADMIN_TOKEN

  Try it:
    curl -s -X POST http://$ADDR/tenants -H "Authorization: Bearer $BREAKPILOT_ADMIN_TOKEN" \\
         -H 'Content-Type: application/json' -d '{"slug":"acme","name":"Acme GmbH"}'
    curl -s http://$ADDR/tenants -H "Authorization: Bearer $BREAKPILOT_ADMIN_TOKEN"

  Stop with Ctrl-C (the server drains in-flight requests first).

MSG
exec "$BIN" serve --listen "$ADDR" --database "$DB" --seed-demo
