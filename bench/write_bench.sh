#!/usr/bin/env bash
# make bench (part 4): the write path and the password storm (issue 21), on this machine, each
# beside its ceiling in the same run. Writes its section of docs/PERFORMANCE.md between the
# write markers.
#
#   bench/write_bench.sh BINARY [BEFORE_BINARY]
#
# - Writes: POST /tenants (a tenant, its audit event and three trial jobs in one transaction)
#   at 64 connections, as a share of GET /healthz on the same server, on SQLite and on
#   PostgreSQL. PostgreSQL runs with its durable defaults (fsync on, synchronous_commit on):
#   run this under scripts/with-postgres.sh with BREAKPILOT_PG_SETTINGS="-c fsync=on" (make
#   bench does).
# - Password storm: GET /healthz p99 (4 connections) alone, then while 64 connections send
#   password grants with made-up usernames (SQLite, default argon2 cost). With BEFORE_BINARY
#   (a build of an earlier commit) the storm runs against it too, for the before/after figure.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/breakpilot}
BEFORE=${2:-}
DUR=${BENCH_DURATION:-10s}
TOKEN=bench-staff-token-0123456789
: "${BREAKPILOT_TEST_PG:?run through scripts/with-postgres.sh}"

# shellcheck source=bench/common.sh
source bench/common.sh
bench_scratch breakpilot-write-bench

# wrk_run URL THREADS CONNS [SCRIPT] -> "rps p50_ms p99_ms non2xx"
wrk_run() {
  local args=(-t"$2" -c"$3" -d"$DUR" --latency -H "Authorization: Bearer $TOKEN")
  [ -n "${4:-}" ] && args+=(-s "$4")
  wrk "${args[@]}" "$1" | wrk_stats
}
start_server() {  # BINARY DB_URL [FLAG...] -> SERVER_PID SERVER_PORT
  local log="$WORK/server-$RANDOM.log"
  BREAKPILOT_ADMIN_TOKEN=$TOKEN "$1" serve --listen 127.0.0.1:0 --database "$2" \
    --access-log=false --seed-demo "${@:3}" 2>"$log" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for _ in $(seq 1 3000); do grep -q '"msg":"listening"' "$log" 2>/dev/null && break; sleep 0.01; done
  SERVER_PORT=$(grep -o '"url":"http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$')
  until curl -sf "http://127.0.0.1:$SERVER_PORT/readyz" >/dev/null; do sleep 0.01; done
}
stop_server() { kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; }
metric() { curl -sf "http://127.0.0.1:$SERVER_PORT/metrics" | awk -v m="$1" '$1==m {print $2}'; }

unique_post_lua "$WORK/post.lua" /tenants application/json '{"slug":"%s","name":"Bench tenant"}'
unique_post_lua "$WORK/storm.lua" /oauth/token application/x-www-form-urlencoded \
  'grant_type=password&username=nobody-%s&password=not-the-password'

declare -A R
bench_writes() {  # NAME DB_URL
  start_server "$BIN" "$2"
  R[$1,healthz]=$(wrk_run "http://127.0.0.1:$SERVER_PORT/healthz" 2 64)
  R[$1,post]=$(wrk_run "http://127.0.0.1:$SERVER_PORT/tenants" 2 64 "$WORK/post.lua")
  if [ "$1" = sqlite ]; then
    R[$1,commits]=$(metric breakpilot_sqlite_commits_total)
    R[$1,writes]=$(metric breakpilot_sqlite_writes_total)
  fi
  stop_server
}

echo "write bench: SQLite" >&2
bench_writes sqlite "sqlite:$WORK/bench.db"
echo "write bench: PostgreSQL" >&2
psql "$BREAKPILOT_TEST_PG" -qX -c "DROP DATABASE IF EXISTS bp_write_bench" -c "CREATE DATABASE bp_write_bench" >/dev/null
PG_URL="${BREAKPILOT_TEST_PG%/*}/bp_write_bench"
PG_SETTINGS=$(psql "$PG_URL" -qAtX -c "SELECT string_agg(name || ' ' || setting, ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync','synchronous_commit','wal_sync_method','commit_delay')")
bench_writes pg "$PG_URL"
# The ceiling of commits on this disk: pgbench, one-row INSERT transactions from 64 clients.
psql "$PG_URL" -qX -c "CREATE TABLE ceiling (id bigserial PRIMARY KEY, v text)" >/dev/null
echo "INSERT INTO ceiling (v) VALUES ('x');" > "$WORK/ceiling.sql"
PGB=$(pgbench -n -c 64 -j 2 -T "${DUR%s}" -f "$WORK/ceiling.sql" "$PG_URL" 2>/dev/null | awk '/^tps = /{print int($3); exit}')

echo "write bench: password storm" >&2
storm() {  # BINARY LABEL [FLAG...]
  start_server "$1" "sqlite:$WORK/storm-$2.db" "${@:3}"
  R[$2,alone]=$(wrk_run "http://127.0.0.1:$SERVER_PORT/healthz" 1 4)
  wrk -t1 -c64 -d"$DUR" -s "$WORK/storm.lua" "http://127.0.0.1:$SERVER_PORT/oauth/token" \
    > "$WORK/storm-$2.txt" 2>&1 &
  local storm_pid=$!
  sleep 1
  R[$2,during]=$(DUR=$(( ${DUR%s} - 2 ))s wrk_run "http://127.0.0.1:$SERVER_PORT/healthz" 1 4)
  wait "$storm_pid" || true
  R[$2,grants]=$(awk '/Requests\/sec/ {print $2}' "$WORK/storm-$2.txt")
  R[$2,refused]=$(metric 'breakpilot_password_checks_total{outcome="refused"}')
  R[$2,checked]=$(metric 'breakpilot_password_checks_total{outcome="done"}')
  stop_server
}
# The storm is made-up usernames from one address: the per-address budget would refuse nearly
# all of it at once, so it is lifted here, to measure what the password pool alone does.
storm "$BIN" after --password-attempts-per-minute 1000000
storm "$BIN" defaults
if [ -n "$BEFORE" ]; then storm "$BEFORE" before; fi

ratio() { python3 -c "print(f'{100*float($1)/float($2):.1f}%')"; }
verdict() { python3 -c "print('met' if $1 else 'missed')"; }
{
  echo "<!-- write:begin -->"
  echo "## Writes and the password storm (issue 21)"
  echo
  echo "Written by \`bench/write_bench.sh\` on $(date -u +%Y-%m-%dT%H:%MZ); wrk -c64 -d$DUR, loopback,"
  echo "the cores shared with wrk. A POST /tenants writes the tenant, its audit event (hash chain)"
  echo "and its three trial jobs in one transaction. SQLite commits concurrent writes in groups"
  echo "(\`synchronous=NORMAL\`, WAL); PostgreSQL ran with $PG_SETTINGS."
  echo
  echo "| store | GET /healthz req/s | POST /tenants req/s | share | POST p50 ms | POST p99 ms | non-2xx |"
  echo "|---|---|---|---|---|---|---|"
  for s in sqlite pg; do
    read -r h_rps _ _ _ <<<"${R[$s,healthz]}"
    read -r p_rps p_p50 p_p99 p_bad <<<"${R[$s,post]}"
    echo "| $s | $(printf '%.0f' "$h_rps") | $(printf '%.0f' "$p_rps") | $(ratio "$p_rps" "$h_rps") | $p_p50 | $p_p99 | $p_bad |"
  done
  echo
  if [ -n "${R[sqlite,commits]:-}" ] && [ "${R[sqlite,commits]}" != 0 ]; then
    echo "SQLite: ${R[sqlite,writes]} write calls in ${R[sqlite,commits]} commits, $(python3 -c "print(round(${R[sqlite,writes]}/${R[sqlite,commits]},1))") per commit on average."
  fi
  echo "PostgreSQL's own commit ceiling here: pgbench, one-row INSERT transactions from 64 clients: ${PGB:-?} tps."
  echo
  echo "| target | this run | verdict |"
  echo "|---|---|---|"
  for s in sqlite pg; do
    read -r h_rps _ _ _ <<<"${R[$s,healthz]}"
    read -r p_rps _ p_p99 _ <<<"${R[$s,post]}"
    echo "| POST /tenants >= 10% of GET /healthz, $s | $(ratio "$p_rps" "$h_rps") | $(verdict "$p_rps >= 0.1 * $h_rps") |"
    echo "| ... p99 <= 50 ms at 64 connections, $s | $p_p99 ms | $(verdict "$p_p99 <= 50") |"
  done
  echo
  echo "Password storm (SQLite, argon2id at the default cost): GET /healthz from 4 connections,"
  echo "alone and while 64 connections send password grants for made-up usernames."
  echo
  echo "| binary | /healthz p99 alone, ms | /healthz p99 in the storm, ms | /healthz req/s in the storm | grants answered/s | passwords checked | refused, queue full (503) |"
  echo "|---|---|---|---|---|---|---|"
  for k in before after defaults; do
    [ -n "${R[$k,alone]:-}" ] || continue
    case $k in
      before) label="before: argon2 on the request threads (the build given as BEFORE_BINARY)";;
      after) label="after: checks on the password pool (per-address budget lifted)";;
      defaults) label="after, defaults (30 grants a minute per address)";;
    esac
    read -r _ _ a_p99 _ <<<"${R[$k,alone]}"
    read -r d_rps _ d_p99 _ <<<"${R[$k,during]}"
    # wrk reports a p99 of 0 when no request came back at all.
    if python3 -c "import sys; sys.exit(0 if float('$d_rps') == 0 else 1)"; then
      d_p99="no answer in $(( ${DUR%s} - 2 )) s"
    fi
    echo "| $label | $a_p99 | $d_p99 | $(printf '%.0f' "$d_rps") | ${R[$k,grants]} | ${R[$k,checked]:-n/a} | ${R[$k,refused]:-n/a} |"
  done
  echo "<!-- write:end -->"
} > "$WORK/section.md"
python3 bench/write_section.py write "$WORK/section.md"
cat "$WORK/section.md"
