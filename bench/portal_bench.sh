#!/usr/bin/env bash
# make bench (part 5): the portal's pages (issue 23) under wrk, beside GET /healthz of the same
# server and nginx's `return 200` in the same run. Writes its section of docs/PERFORMANCE.md
# between the portal markers.
#
#   bench/portal_bench.sh BINARY
#
# A signed-in IT_ADMIN's dashboard (one product) and audit page (50 rows of 60+ events), at 64
# connections on SQLite, the session cookie sent as a browser would. Beside them the peer the issue
# names: the same dashboard as a minimal Next.js server-rendered page (bench/nextjs-peer/, npm
# `next`, production build, `next start`), reading the same SQLite file with the same cookie.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/breakpilot}
DUR=${BENCH_DURATION:-10s}
TOKEN=bench-staff-token-0123456789
PASSWORD='portal bench password 0123'

# shellcheck source=bench/common.sh
source bench/common.sh
bench_scratch breakpilot-portal-bench

# wrk_run URL [HEADER...] -> "rps p50_ms p99_ms non2xx"
wrk_run() {
  local args=(-t2 -c64 -d"$DUR" --latency)
  for h in "${@:2}"; do args+=(-H "$h"); done
  wrk "${args[@]}" "$1" | wrk_stats
}

start_nginx
log="$WORK/server.log"
BREAKPILOT_ADMIN_TOKEN=$TOKEN "$BIN" serve --listen 127.0.0.1:0 --database "sqlite:$WORK/bench.db" \
  --access-log=false --portal-domain localhost 2>"$log" &
PIDS+=("$!")
for _ in $(seq 1 3000); do grep -q '"msg":"listening"' "$log" 2>/dev/null && break; sleep 0.01; done
PORT=$(grep -o '"url":"http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$')
API="http://127.0.0.1:$PORT"
api() { curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }

# A tenant with a product, its IT_ADMIN, and 60 events in its trail (API keys made).
acme=$(api -X POST "$API/tenants" -d '{"slug":"acme","name":"Acme GmbH"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
api -X POST "$API/tenants/$acme/products" -d '{"product_id":"certifai"}' >/dev/null
api -X POST "$API/users" -d "{\"username\":\"ada\",\"password\":\"$PASSWORD\",\"memberships\":[{\"tenant_id\":\"$acme\",\"org_roles\":[\"IT_ADMIN\"]}]}" >/dev/null
for i in $(seq 1 60); do
  api -X POST "$API/api-keys" -d "{\"tenant_id\":\"$acme\",\"name\":\"key $i\",\"scopes\":[\"audit:write\"]}" >/dev/null
done

# Sign in on the tenant's site as a browser does: the form, its cookie, the post.
SITE="acme.localhost:$PORT"
jar="$WORK/jar"
form=$(curl -sf -c "$jar" -H "Host: $SITE" "$API/login")
csrf=$(grep -o 'name="csrf" value="[^"]*"' <<<"$form" | sed 's/.*value="//; s/"$//')
curl -sf -b "$jar" -c "$jar" -H "Host: $SITE" -H "Origin: http://$SITE" -o /dev/null \
  --data-urlencode "csrf=$csrf" --data-urlencode "username=ada" --data-urlencode "password=$PASSWORD" \
  "$API/login"
session=$(awk '$6=="bp_portal" {print $7}' "$jar")
[ -n "$session" ] || { echo "portal_bench: sign-in failed" >&2; exit 1; }
H=("Host: $SITE" "Cookie: bp_portal=$session")
rows=$(curl -sf -H "${H[0]}" -H "${H[1]}" "$API/audit" | grep -c '<tr' || true)
dash_bytes=$(curl -sf -H "${H[0]}" -H "${H[1]}" "$API/dashboard" | wc -c)
audit_bytes=$(curl -sf -H "${H[0]}" -H "${H[1]}" "$API/audit" | wc -c)
# A whole page's weight as a browser loads it, compressed where we compress: the HTML and each
# asset it links.
assets=0
for a in $(curl -sf -H "${H[0]}" -H "${H[1]}" "$API/dashboard" | grep -o '/assets/[^"]*' | sort -u); do
  n=$(curl -sf -H "Host: $SITE" -H 'Accept-Encoding: gzip' "$API$a" | wc -c)
  assets=$((assets + n))
done

# The Next.js peer: installed from its lock file, built for production, started on the same file.
peer=bench/nextjs-peer
[ -d "$peer/node_modules" ] || npm ci --prefix "$peer" --no-audit --no-fund --loglevel=error
export NEXT_TELEMETRY_DISABLED=1
(cd "$peer" && npx next build >"$WORK/next-build.log" 2>&1) ||
  { cat "$WORK/next-build.log" >&2; exit 1; }
NEXT_PORT=$(free_port)
(cd "$peer" && BENCH_DB="$WORK/bench.db" exec npx next start -H 127.0.0.1 -p "$NEXT_PORT") \
  >"$WORK/next.log" 2>&1 &
PIDS+=("$!")
NEXT="http://127.0.0.1:$NEXT_PORT"
for _ in $(seq 1 1000); do curl -s -o /dev/null "$NEXT/" && break; sleep 0.02; done
next_page=$(curl -sf -H "${H[0]}" -H "${H[1]}" "$NEXT/dashboard")
grep -q "Acme GmbH" <<<"$next_page" && grep -q "/products/certifai" <<<"$next_page" ||
  { echo "portal_bench: the Next.js page did not render the dashboard" >&2; echo "$next_page" >&2; cat "$WORK/next.log" >&2; exit 1; }

# page_weight BASE [HEADER...]: what a first visit to BASE/dashboard transfers, bodies only: the
# HTML and every script and style sheet it links, each asked for with Accept-Encoding: gzip as a
# browser does (each server compresses what it compresses).
page_weight() {
  local base=$1 html total n
  local hargs=()
  for h in "${@:2}"; do hargs+=(-H "$h"); done
  html=$(curl -sf "${hargs[@]}" "$base/dashboard")
  total=$(curl -sf "${hargs[@]}" -H 'Accept-Encoding: gzip' "$base/dashboard" | wc -c)
  for a in $(grep -oE '(src|href)="/(assets|_next)/[^"]*' <<<"$html" | sed 's/^[a-z]*="//' | sort -u); do
    n=$(curl -sf "${hargs[@]}" -H 'Accept-Encoding: gzip' "$base$a" | wc -c)
    total=$((total + n))
  done
  echo "$total"
}
ours_weight=$(page_weight "$API" "${H[@]}")
next_weight=$(page_weight "$NEXT" "${H[@]}")

nginx=$(wrk_run "http://127.0.0.1:$NGINX_PORT/")
healthz=$(wrk_run "$API/healthz")
dashboard=$(wrk_run "$API/dashboard" "${H[@]}")
audit=$(wrk_run "$API/audit" "${H[@]}")
nextjs=$(wrk_run "$NEXT/dashboard" "${H[@]}")

# Lighthouse (desktop preset) on the dashboard, the audit page and /start, after the load.
lighthouse=$(node tests/browser/portal_lighthouse.mjs "{\"port\":$PORT,\"password\":\"$PASSWORD\"}" |
  sed -n 's/^report: lighthouse \([a-z]*\) performance \([0-9]*\) (\(.*\))$/| `\1` | \2 | \3 |/p')
[ -n "$lighthouse" ] || { echo "portal_bench: Lighthouse reported nothing" >&2; exit 1; }

read -r n_rps _ n_p99 _ <<<"$nginx"
read -r h_rps _ h_p99 _ <<<"$healthz"
read -r d_rps _ d_p99 d_bad <<<"$dashboard"
read -r a_rps _ a_p99 a_bad <<<"$audit"
read -r x_rps _ x_p99 x_bad <<<"$nextjs"
next_version=$(node -p "require('./$peer/node_modules/next/package.json').version")
ratio() { python3 -c "print(round($1/$2, 1))"; }
pct() { python3 -c "print(round(100*$1/$2))"; }
section="$WORK/section.md"
cat > "$section" <<MD
<!-- portal:begin -->
## Portal pages (issue 23)

\`bench/portal_bench.sh\`, $(date -u +%Y-%m-%d), $(nproc) cores, SQLite, release build, 64
connections, ${DUR} each, a signed-in IT_ADMIN's session cookie on \`acme.localhost\`.

| what | requests/s | p99 ms | share of /healthz | non-2xx |
|---|---|---|---|---|
| nginx \`return 200\` | $n_rps | $n_p99 | | |
| \`GET /healthz\` | $h_rps | $h_p99 | 100% | |
| dashboard | $d_rps | $d_p99 | $(pct "$d_rps" "$h_rps")% (aim ≥ 50%) | $d_bad |
| audit page, $((rows - 1)) rows | $a_rps | $a_p99 | $(pct "$a_rps" "$h_rps")% (aim ≥ 25%) | $a_bad |
| the dashboard in Next.js $next_version (peer) | $x_rps | $x_p99 | $(pct "$x_rps" "$h_rps")% | $x_bad |

Against the Next.js peer (aim: at least 5× its requests per second at a tenth of its page
weight): **$(ratio "$d_rps" "$x_rps")×** its requests per second; a first visit to our dashboard
transfers $ours_weight bytes, the peer's $next_weight, **$(pct "$ours_weight" "$next_weight")%**
of it (HTML and every linked script and style sheet, gzip as each server sends it). The peer is
\`bench/nextjs-peer/\`: an App Router page, \`dynamic = 'force-dynamic'\`, the same reads on the
same SQLite file through better-sqlite3 (session by the cookie's SHA-256, user, roles, tenant,
subscriptions), one \`next start\` process as Next.js runs by default; its markup has no style
sheet of its own, so its weight is mostly React's runtime.

Page weight: the dashboard's HTML is $dash_bytes bytes, the audit page's $audit_bytes
(uncompressed); the assets a page loads (style sheet, design tokens, script, icon), gzip where
smaller, $assets bytes in all; nothing from another origin.

Lighthouse 12.2.3, desktop preset (its simulated throttling), Debian's Chromium, same server
(aim: performance ≥ 95; accessibility is 100 on all three, which the test suite asserts):

| page | performance | metrics |
|---|---|---|
$lighthouse
<!-- portal:end -->
MD
python3 bench/write_section.py portal "$section"
cat "$section"
