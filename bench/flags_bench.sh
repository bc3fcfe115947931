#!/usr/bin/env bash
# make bench (part 8): issue 26's figures for feature flags. OFREP single evaluations per second
# (POST /ofrep/v1/evaluate/flags/{key}, an API key with flags:read, the flag and the tenant
# cached: the answer comes from memory) beside nginx `return 200` in the same run; the bulk
# evaluation of 50 flags, answered in full and as 304 for an unchanged ETag; on SQLite and
# PostgreSQL. Runs under scripts/with-postgres.sh; writes the flags section of
# docs/PERFORMANCE.md.
#
#   bench/flags_bench.sh BUILD_DIR      (BUILD_DIR holds breakpilot)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
BIN=$BUILD/breakpilot
DUR=${BENCH_DURATION:-10s}
TOKEN=bench-staff-token-0123456789
: "${BREAKPILOT_TEST_PG:?run under scripts/with-postgres.sh}"

# shellcheck source=bench/common.sh
source bench/common.sh
bench_scratch breakpilot-flags-bench
start_nginx

start_platform() {  # start_platform NAME DATABASE: sets PORT
  local log="$WORK/$1.log"
  BREAKPILOT_ADMIN_TOKEN=$TOKEN "$BIN" serve --listen 127.0.0.1:0 --database "$2" \
    --access-log=false 2>"$log" &
  PIDS+=("$!")
  for _ in $(seq 1 3000); do grep -q '"msg":"listening"' "$log" 2>/dev/null && break; sleep 0.01; done
  PORT=$(grep -o '"url":"http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$')
}

api() {  # api METHOD PATH [BODY]
  curl -sf -X "$1" "http://127.0.0.1:$PORT$2" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' ${3:+-d "$3"}
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
load() { wrk -t2 -c64 -d"$DUR" --latency "$@" | wrk_stats; }

run_store() {  # run_store NAME DATABASE: sets NGINX SINGLE BULK BULK304
  start_platform "$1" "$2"
  local tenant key
  tenant=$(api POST /tenants '{"slug":"bench","name":"Bench","plan":"professional"}' | field id)
  key=$(api POST /api-keys "{\"tenant_id\":\"$tenant\",\"name\":\"flags\",\"scopes\":[\"flags:read\"]}" | field secret)
  # 50 flags, half of them with rules the tenant is tested against.
  for i in $(seq 1 50); do
    if [ $((i % 2)) = 0 ]; then
      api POST /flags "{\"key\":\"flag-$i\",\"type\":\"boolean\",\"default\":false,\"rules\":[{\"plans\":[\"enterprise\"],\"value\":true},{\"percentage\":30,\"value\":true}]}" >/dev/null
    else
      api POST /flags "{\"key\":\"flag-$i\",\"type\":\"variant\",\"default\":\"blue\",\"rules\":[{\"tenants\":[\"$tenant\"],\"value\":\"gold\"}]}" >/dev/null
    fi
  done
  local body="{\"context\":{\"targetingKey\":\"$tenant\"}}"
  post_lua "$WORK/single.lua" application/json "$body" "$key"
  post_lua "$WORK/bulk.lua" application/json "$body" "$key"
  local etag
  etag=$(curl -sf -D - -o /dev/null -X POST "http://127.0.0.1:$PORT/ofrep/v1/evaluate/flags" \
    -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$body" |
    awk 'tolower($1)=="etag:" {print $2}' | tr -d '\r')
  post_lua "$WORK/bulk304.lua" application/json "$body" "$key"
  echo "wrk.headers[\"If-None-Match\"] = '$etag'" >> "$WORK/bulk304.lua"
  # Warm: the flags, the tenant, the key and each result are in memory.
  curl -sf -o /dev/null -X POST "http://127.0.0.1:$PORT/ofrep/v1/evaluate/flags/flag-2" \
    -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$body"
  local n1 n2
  n1=$(load "http://127.0.0.1:$NGINX_PORT/")
  SINGLE=$(load -s "$WORK/single.lua" "http://127.0.0.1:$PORT/ofrep/v1/evaluate/flags/flag-2")
  n2=$(load "http://127.0.0.1:$NGINX_PORT/")
  BULK=$(load -s "$WORK/bulk.lua" "http://127.0.0.1:$PORT/ofrep/v1/evaluate/flags")
  BULK304=$(wrk -t2 -c64 -d"$DUR" --latency -s "$WORK/bulk304.lua" "http://127.0.0.1:$PORT/ofrep/v1/evaluate/flags" |
    tee "$WORK/304.txt" | wrk_stats)
  read -r a _ _ _ <<<"$n1"; read -r b _ _ _ <<<"$n2"
  NGINX=$(python3 -c "print(round(($a + $b) / 2))")
  echo "$1: nginx $n1 / $n2; single $SINGLE; bulk $BULK; bulk 304 $BULK304"
}

run_store sqlite "sqlite:$WORK/bench.db"
s_nginx=$NGINX; s_single=$SINGLE; s_bulk=$BULK; s_304=$BULK304
psql "$BREAKPILOT_TEST_PG" -qc "SET client_min_messages = warning" -qc "DROP DATABASE IF EXISTS bp_flags_bench" -qc "CREATE DATABASE bp_flags_bench"
run_store postgres "${BREAKPILOT_TEST_PG%/*}/bp_flags_bench"
p_nginx=$NGINX; p_single=$SINGLE; p_bulk=$BULK; p_304=$BULK304

row() {  # row STATS -> "N req/s (p50 x ms, p99 y ms)"
  read -r rps p50 p99 _ <<<"$1"
  echo "$(python3 -c "print(round($rps))") req/s (p50 $p50 ms, p99 $p99 ms)"
}
pct() { read -r rps _ <<<"$1"; python3 -c "print(round(100 * $rps / $2))"; }
cat > "$WORK/section.md" <<MD
<!-- flags:begin -->
## Feature flags over OFREP (issue 26)

\`bench/flags_bench.sh\` on this machine ($(nproc) cores), $(date -u +%Y-%m-%d), release build,
wrk -t2 -c64, $DUR per run. 50 flags in the built-in store (half boolean with a plan rule and a
30% rollout, half variant flags targeting the tenant); the caller is an API key with
\`flags:read\`. The flags, the tenant, the key and each result are in memory, so an evaluation
is answered on the I/O thread. Single: \`POST /ofrep/v1/evaluate/flags/flag-2\`. Bulk: all 50
flags for the tenant (about 5 KB), then the same with \`If-None-Match\` (304, no body). nginx
\`return 200\` (one worker per core) is measured before and after the single evaluations.

| store | single evaluation | share of nginx (aim ≥ 60%) | bulk, 50 flags | bulk, 304 | nginx |
|---|---|---|---|---|---|
| SQLite | $(row "$s_single") | $(pct "$s_single" "$s_nginx")% | $(row "$s_bulk") | $(row "$s_304") | $s_nginx req/s |
| PostgreSQL | $(row "$p_single") | $(pct "$p_single" "$p_nginx")% | $(row "$p_bulk") | $(row "$p_304") | $p_nginx req/s |

A flag change reaches the other replicas' answers in milliseconds (LISTEN/NOTIFY; the
FlagsReplicas test prints the delay it measured). A 304 saves the transfer, not the work: the
tag is the hash of the answers (the same on every replica), so each request still evaluates the
50 flags and hashes the answer; on loopback it was no faster (within this machine's noise).
What limits the single evaluation: the HTTP path itself (parse, the API key's cached check, the
JSON answer) on the I/O threads that share two cores with wrk and nginx's measurement.
<!-- flags:end -->
MD
python3 bench/write_section.py flags "$WORK/section.md"
cat "$WORK/section.md"
