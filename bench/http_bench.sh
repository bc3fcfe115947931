#!/usr/bin/env bash
# make bench: wrk against the release binary on SQLite and PostgreSQL, and against nginx
# `return 200` in the same run, on this machine; writes docs/PERFORMANCE.md.
# Needs BREAKPILOT_TEST_PG (scripts/with-postgres.sh provides it). BENCH_DURATION=10s by default.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/breakpilot}
DUR=${BENCH_DURATION:-10s}
CONN=64
THREADS=2
TOKEN=bench-staff-token-0123456789

# shellcheck source=bench/common.sh
source bench/common.sh
bench_scratch breakpilot-bench

# wrk_run NAME URL [SCRIPT] -> "rps p50_ms p99_ms"
wrk_run() {
  local url=$1 script=${2:-}
  local args=(-t"${WRK_THREADS:-$THREADS}" -c"$CONN" -d"$DUR" --latency -H "Authorization: Bearer $TOKEN")
  [ -n "$script" ] && args+=(-s "$script")
  wrk "${args[@]}" "$url" | tee "$WORK/last-wrk.txt" | wrk_stats
}

# nginx: the HTTP ceiling of this machine. One worker per core, beside the server with one I/O
# thread per core, wrk sharing the cores with both; and one worker, for the "one core each" runs
# (see one_core_each).
start_nginx 1
NGINX_ONE_PORT=$NGINX_PORT NGINX_ONE_PID=$NGINX_PID
start_nginx

# start_server DB_URL [FLAG...] -> sets SERVER_PID SERVER_PORT READY_US WALL_READY_MS. It listens
# on LISTEN_PORT when set (a restart keeps the issuer its tokens name), else on a free port.
start_server() {
  local log="$WORK/server-$RANDOM.log"
  local t0; t0=$(date +%s%N)
  BREAKPILOT_ADMIN_TOKEN=$TOKEN "$BIN" serve --listen "127.0.0.1:${LISTEN_PORT:-0}" --database "$1" \
    --access-log=false --seed-demo "${@:2}" 2>"$log" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for _ in $(seq 1 2000); do
    if grep -q '"msg":"listening"' "$log" 2>/dev/null; then break; fi
    sleep 0.001
  done
  SERVER_PORT=$(grep -o '"url":"http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$')
  until curl -sf "http://127.0.0.1:$SERVER_PORT/readyz" >/dev/null; do sleep 0.001; done
  WALL_READY_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
  READY_US=$(grep -o '"ready_us":[0-9]*' "$log" | grep -o '[0-9]*$')
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() {  # PID... -> user + system clock ticks of these processes so far
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$t"
}

unique_post_lua "$WORK/post.lua" /tenants application/json '{"slug":"%s","name":"Bench tenant"}'

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# bench_identity NAME: API key verify (warm cache), claims and token issuance (client credentials).
bench_identity() {
  local name=$1 base="http://127.0.0.1:$SERVER_PORT" demo secret token user
  demo=$(curl -sf "$base/tenants?kind=demo" -H "Authorization: Bearer $TOKEN" |
         python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  secret=$(curl -sf -X POST "$base/service-clients" -H "Authorization: Bearer $TOKEN" \
           -H 'Content-Type: application/json' -d "{\"client_id\":\"bench-$name\"}" | json_field client_secret)
  SERVICE_TOKEN=$(curl -sf "$base/oauth/token" -d grant_type=client_credentials \
                  -d "client_id=bench-$name" -d "client_secret=$secret" | json_field access_token)
  KEY=$(curl -sf -X POST "$base/api-keys" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d "{\"tenant_id\":\"$demo\",\"name\":\"bench\",\"scopes\":[\"certifai:read\"]}" | json_field secret)
  user=$(curl -sf -X POST "$base/users" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
         -d "{\"username\":\"bench-$name\",\"memberships\":[{\"tenant_id\":\"$demo\",\"org_roles\":[\"IT_ADMIN\"]}]}" | json_field id)
  post_lua "$WORK/verify.lua" application/json "{\"key\":\"$KEY\"}" "$SERVICE_TOKEN"
  post_lua "$WORK/claims.lua" application/json "{\"user_id\":\"$user\",\"org_id\":\"$demo\"}" "$SERVICE_TOKEN"
  post_lua "$WORK/token.lua" application/x-www-form-urlencoded \
    "grant_type=client_credentials&client_id=bench-$name&client_secret=$secret" ""
  warm_verify
  paired "$name,verify" "$base/internal/api-keys/verify" "$WORK/verify.lua" "$NGINX_PORT" "$NGINX_PID"
  paired "$name,claims" "$base/internal/claims" "$WORK/claims.lua" "$NGINX_PORT" "$NGINX_PID"
  R[$name,token]=$(wrk_run "$base/oauth/token" "$WORK/token.lua")
}
# warm_verify: one verify of the bench key, which must be valid; it fills the key cache.
warm_verify() {
  curl -sf -X POST "http://127.0.0.1:$SERVER_PORT/internal/api-keys/verify" \
    -H "Authorization: Bearer $SERVICE_TOKEN" -H 'Content-Type: application/json' \
    -d "{\"key\":\"$KEY\"}" | grep -q '"valid":true'
}

# one_core_each NAME DB_URL TENANT_ID: verify and claims again (and on SQLite, issue 2's
# GET /tenants/{id}), the server restarted on the same database
# with one I/O thread, against nginx with one worker, each under wrk -t1. Each process then has a
# core to itself, as when the clients are on other machines. With wrk's threads, the server's and
# nginx's workers all sharing two cores, whichever is descheduled holds its connections' answers
# for a time slice: nginx's own p99 there is 5-8 ms on this machine, so a p99 target of 3 ms is
# judged here, where nginx's has been 1.2-2.2 ms.
one_core_each() {
  local name=$1 base
  LISTEN_PORT=$SERVER_PORT start_server "$2" --threads 1
  base="http://127.0.0.1:$SERVER_PORT"
  warm_verify
  WRK_THREADS=1 paired "$name,verify,one" "$base/internal/api-keys/verify" "$WORK/verify.lua" \
    "$NGINX_ONE_PORT" "$NGINX_ONE_PID"
  WRK_THREADS=1 paired "$name,claims,one" "$base/internal/claims" "$WORK/claims.lua" \
    "$NGINX_ONE_PORT" "$NGINX_ONE_PID"
  if [ "$name" = sqlite ]; then
    WRK_THREADS=1 paired "$name,get,one" "$base/tenants/$3" "" "$NGINX_ONE_PORT" "$NGINX_ONE_PID"
  fi
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true
}

declare -A R
# paired KEY URL SCRIPT NGINX_PORT NGINX_PID: the loads whose targets are a share of nginx.
# SLICES (30 by default) pairs of one-second runs, nginx then the load, alternated; the share is
# the load's mean req/s over nginx's mean req/s in those slices. Short alternated slices, because
# this machine's speed moves within seconds: in one-second slices the server's user and kernel
# CPU per request both rose 1.7 times for a second at a time, and three 10-second rounds of the
# same load gave shares 20-30 points apart (bench/NOTES.md, "Slices instead of rounds"). Sets
# R[KEY] to the load's "rps p50 p99 non2xx" (mean req/s; p50 and p99 the median of the slices'),
# R[KEY,nginx] to nginx's mean req/s, R[KEY,p99] and R[KEY,nginx_p99] to the median p99 of the
# load's and nginx's slices, R[KEY,cores] to the CPU nginx and the server used over their slices,
# in cores (user + system time over the slices' length: a process short of its cores was held
# back by wrk, not by its own work), and R[KEY,spread] to the spread of the slices' shares (each
# against the nginx slice just before it), for the record.
paired() {
  local key=$1 url=$2 script=$3 port=$4 workers slices=() n t c0 c1 c2 c3 nf
  local slice=${SLICE:-1s}
  workers=$(pgrep -P "$5" | tr '\n' ' ')
  for _ in $(seq 1 "${SLICES:-30}"); do
    # shellcheck disable=SC2086 # a list of pids
    c0=$(cpu_ticks $workers)
    n=$(DUR=$slice wrk_run "http://127.0.0.1:$port/")
    # shellcheck disable=SC2086
    c1=$(cpu_ticks $workers)
    c2=$(cpu_ticks "$SERVER_PID")
    t=$(DUR=$slice wrk_run "$url" "$script")
    c3=$(cpu_ticks "$SERVER_PID")
    read -r -a nf <<<"$n"
    slices+=("${nf[0]} ${nf[2]} $((c1 - c0)) $((c3 - c2)) $t")
  done
  local picked
  picked=$(printf '%s\n' "${slices[@]}" | python3 -c '
import statistics, sys
hz, secs = float(sys.argv[1]), float(sys.argv[2])
rows = [[float(x) for x in l.split()] for l in sys.stdin if l.strip()]
med = lambda i: round(statistics.median(r[i] for r in rows), 3)
nginx, load = statistics.fmean(r[0] for r in rows), statistics.fmean(r[4] for r in rows)
span = secs * len(rows)
cores = f"nginx {sum(r[2] for r in rows) / hz / span:.2f}, server {sum(r[3] for r in rows) / hz / span:.2f}"
shares = sorted(100 * r[4] / r[0] for r in rows)
q = statistics.quantiles(shares, n=10, method="inclusive")
spread = (f"{len(rows)} slices: 10th percentile {q[0]:.0f}%, median {statistics.median(shares):.0f}%, "
          f"90th {q[-1]:.0f}% (lowest {shares[0]:.0f}%, highest {shares[-1]:.0f}%)")
print(f"{nginx:.0f}", "|", f"{load:.0f} {med(5)} {med(6)} {sum(r[7] for r in rows):.0f}", "|",
      med(6), "|", med(1), "|", cores, "|", spread)' \
    "$(getconf CLK_TCK)" "${slice%s}")
  R[$key,nginx]=$(cut -d'|' -f1 <<<"$picked" | xargs)
  R[$key]=$(cut -d'|' -f2 <<<"$picked" | xargs)
  R[$key,p99]=$(cut -d'|' -f3 <<<"$picked" | xargs)
  R[$key,nginx_p99]=$(cut -d'|' -f4 <<<"$picked" | xargs)
  R[$key,cores]=$(cut -d'|' -f5 <<<"$picked" | xargs)
  R[$key,spread]=$(cut -d'|' -f6 <<<"$picked" | xargs)
}
bench_store() {  # NAME DB_URL
  local name=$1 url=$2
  start_server "$url"
  R[$name,ready_us]=$READY_US
  R[$name,wall_ready_ms]=$WALL_READY_MS
  sleep 0.5
  R[$name,idle_rss_kb]=$(rss_kb "$SERVER_PID")
  local id
  id=$(curl -sf -X POST "http://127.0.0.1:$SERVER_PORT/tenants" -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' -d '{"slug":"bench","name":"Bench"}' |
       python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  if [ "$name" = sqlite ]; then
    R[$name,healthz]=$(wrk_run "http://127.0.0.1:$SERVER_PORT/healthz")
  fi
  R[$name,get]=$(wrk_run "http://127.0.0.1:$SERVER_PORT/tenants/$id")
  R[$name,post]=$(wrk_run "http://127.0.0.1:$SERVER_PORT/tenants" "$WORK/post.lua")
  bench_identity "$name"
  R[$name,loaded_rss_kb]=$(rss_kb "$SERVER_PID")
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true
  one_core_each "$name" "$url" "$id"
}

echo "bench: nginx return 200"
NGINX=$(wrk_run "http://127.0.0.1:$NGINX_PORT/")
echo "bench: SQLite"
bench_store sqlite "sqlite:$WORK/bench.db"
echo "bench: PostgreSQL"
PG_URL=""
if [ -n "${BREAKPILOT_TEST_PG:-}" ]; then
  psql "$BREAKPILOT_TEST_PG" -qc "SET client_min_messages = warning" -qc "DROP DATABASE IF EXISTS bp_bench" -qc "CREATE DATABASE bp_bench"
  PG_URL="${BREAKPILOT_TEST_PG%/*}/bp_bench"
  bench_store pg "$PG_URL"
  PGB=$(PGOPTIONS='' pgbench -i -q "${BREAKPILOT_TEST_PG%/*}/bp_bench" >/dev/null 2>&1 &&
        pgbench -S -c 8 -j 2 -T "${DUR%s}" "${BREAKPILOT_TEST_PG%/*}/bp_bench" 2>/dev/null |
        awk '/^tps/ {print $3; exit}')
fi
REVOCATION=""
if [ -n "$PG_URL" ] && [ -x build/tests/e2e_tests ]; then
  echo "bench: revocation delay across two replicas (5 runs of the replica test)"
  for _ in 1 2 3 4 5; do
    d=$(build/tests/e2e_tests --gtest_filter='Replicas.*' 2>/dev/null |
        awk '/revocation reached the other replica after/ {print $7}')
    REVOCATION="$REVOCATION ${d:-nan}"
  done
fi
echo "bench: nginx again (the ceiling can drift during a run)"
NGINX2=$(wrk_run "http://127.0.0.1:$NGINX_PORT/")

read -r n_rps n_p50 n_p99 _ <<<"$NGINX"
read -r n2_rps _ _ _ <<<"$NGINX2"
ratio() { python3 -c "print(f'{100*float($1)/float($2):.0f}%')"; }
row() {  # LABEL "rps p50 p99 non2xx" [NGINX_RPS: the paired ceiling, else the run's first]
  read -r rps p50 p99 bad <<<"$2"
  echo "| $1 | $(printf '%.0f' "$rps") | $p50 | $p99 | $(ratio "$rps" "${3:-$n_rps}") | $bad |"
}
prow() {  # LABEL KEY: a paired load (see paired)
  row "$1 (${SLICES:-30} alternated slices)" "${R[$2]}" "${R[$2,nginx]}"
}
orow() {  # LABEL KEY: the same, one core each, after its nginx row
  echo "| nginx \`return 200\`, one worker (ceiling of the row below, its mean over the slices; p99: median of its slices) | $(printf '%.0f' "${R[$2,nginx]}") | | ${R[$2,nginx_p99]} | 100% | 0 |"
  row "$1, one core each (${SLICES:-30} alternated slices)" "${R[$2]}" "${R[$2,nginx]}"
}

CPU=$(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//')
{
  echo "<!-- http:begin -->"
  echo "## HTTP (bench/http_bench.sh)"
  echo
  echo "- Date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- Machine: $(nproc) cores ($CPU), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
  echo "- Binary: release preset (-O2), \`--access-log false\`; wrk and the server share the cores"
  echo "- Load: wrk -t$THREADS -c$CONN -d$DUR --latency, loopback"
  echo "- \"One core each\" rows: the server with \`--threads 1\` and nginx with one worker, each under"
  echo "  wrk -t1 -c$CONN, so that the load generator, sharing a ${THREADS}-core machine, does not preempt"
  echo "  the server it measures (see bench/http_bench.sh, one_core_each)"
  echo "- \"Alternated slices\" rows (the identity loads, and the tenant read one core each): ${SLICES:-30}"
  echo "  one-second runs of nginx and of the load, alternated; the share is the ratio of their mean"
  echo "  req/s (see bench/http_bench.sh, paired)"
  echo
  echo "| workload | req/s | p50 ms | p99 ms | vs nginx | non-2xx |"
  echo "|---|---|---|---|---|---|"
  echo "| nginx \`return 200\` (ceiling) | $(printf '%.0f' "$n_rps") | $n_p50 | $n_p99 | 100% | 0 |"
  row "GET /healthz (our HTTP layer alone)" "${R[sqlite,healthz]}"
  row "GET /tenants/{id}, SQLite" "${R[sqlite,get]}"
  orow "GET /tenants/{id}, SQLite" sqlite,get,one
  row "POST /tenants, SQLite" "${R[sqlite,post]}"
  prow "POST /internal/api-keys/verify (warm cache), SQLite" sqlite,verify
  prow "POST /internal/claims, SQLite" sqlite,claims
  orow "POST /internal/api-keys/verify (warm cache), SQLite" sqlite,verify,one
  orow "POST /internal/claims, SQLite" sqlite,claims,one
  row "POST /oauth/token (client credentials: ES256 signature), SQLite" "${R[sqlite,token]}"
  if [ -n "$PG_URL" ]; then
    row "GET /tenants/{id}, PostgreSQL" "${R[pg,get]}"
    row "POST /tenants, PostgreSQL" "${R[pg,post]}"
    prow "POST /internal/api-keys/verify (warm cache), PostgreSQL" pg,verify
    prow "POST /internal/claims, PostgreSQL" pg,claims
    orow "POST /internal/api-keys/verify (warm cache), PostgreSQL" pg,verify,one
    orow "POST /internal/claims, PostgreSQL" pg,claims,one
    row "POST /oauth/token (client credentials), PostgreSQL" "${R[pg,token]}"
  fi
  echo
  echo "nginx measured again at the end of the run: $(printf '%.0f' "$n2_rps") req/s."
  [ -n "${PGB:-}" ] && echo "PostgreSQL ceiling in the same run: \`pgbench -S -c 8 -j 2\` $(printf '%.0f' "$PGB") tps (select-only, one statement per transaction)."
  echo
  if [ -n "$REVOCATION" ]; then
    echo "### Revocation across replicas"
    echo
    echo "Two servers on one PostgreSQL; a key verified (and cached) on B is revoked through A; B is"
    echo "polled until it refuses the key (tests/e2e/replicas_e2etest.cpp). Delay after the DELETE"
    echo "returned, five runs, ms:$REVOCATION (seed target: under 60 s; our aim: under 1 s)."
    echo
  fi
  echo "### Process"
  echo
  echo "| store | start to ready (in process) | start to first /readyz 200 (outside) | idle RSS | RSS after load |"
  echo "|---|---|---|---|---|"
  for s in sqlite pg; do
    [ -n "${R[$s,ready_us]:-}" ] || continue
    echo "| $s | $(python3 -c "print(round(${R[$s,ready_us]}/1000,1))") ms | ${R[$s,wall_ready_ms]} ms | $(( ${R[$s,idle_rss_kb]} / 1024 )) MiB | $(( ${R[$s,loaded_rss_kb]} / 1024 )) MiB |"
  done
  echo
  echo "Start to ready (in process) is from main() to the listening socket, migrations and catalog"
  echo "load included, on a fresh database; the outside figure adds process start and one HTTP round trip."
  echo
  echo "### Targets (issue 2), checked against this run"
  echo
  read -r g_rps _ g_p99 _ <<<"${R[sqlite,get]}"
  verdict() { python3 -c "print('met' if $1 else 'missed')"; }
  # p99_verdict P99 TARGET [NGINX_P99]: as verdict, but "not judged here" when nginx's own p99 in
  # the same configuration (given for the rows with the cores shared) is itself over the target.
  p99_verdict() {
    if [ -n "${3:-}" ] && python3 -c "import sys; sys.exit(0 if $3 > $2 else 1)"; then
      echo "not judged here: nginx's own is over $2 ms (see one core each)"
    else
      verdict "$1 <= $2"
    fi
  }
  echo "| target | this run | verdict |"
  echo "|---|---|---|"
  echo "| GET /tenants/{id} on SQLite >= 40% of nginx req/s | $(ratio "$g_rps" "$n_rps") | $(verdict "$g_rps >= 0.4 * $n_rps") |"
  echo "| ... with p99 <= 5 ms at 64 connections (nginx's own: $n_p99 ms) | $g_p99 ms | $(p99_verdict "$g_p99" 5 "$n_p99") |"
  read -r o_rps _ _ _ <<<"${R[sqlite,get,one]}"
  o_n=${R[sqlite,get,one,nginx]}
  o_p99=${R[sqlite,get,one,p99]}
  echo "| GET /tenants/{id} on SQLite, one core each: >= 40% of nginx req/s (mean over the alternated slices) | $(ratio "$o_rps" "$o_n") | $(verdict "$o_rps >= 0.4 * $o_n") |"
  echo "| ... with p99 <= 5 ms at 64 connections (median of the slices; nginx's own: ${R[sqlite,get,one,nginx_p99]} ms) | $o_p99 ms | $(p99_verdict "$o_p99" 5) |"
  echo "| ... spread: each slice's share of the nginx slice just before it | ${R[sqlite,get,one,spread]} | |"
  echo "| idle RSS <= 30 MB | $(( ${R[sqlite,idle_rss_kb]} / 1024 )) MiB | $(verdict "${R[sqlite,idle_rss_kb]} <= 30 * 1024") |"
  echo "| start to ready <= 300 ms on SQLite | $(python3 -c "print(round(${R[sqlite,ready_us]}/1000,1))") ms | $(verdict "${R[sqlite,ready_us]} <= 300000") |"
  echo
  echo "### Targets (issue 3), checked against this run"
  echo
  echo "| target | this run | verdict |"
  echo "|---|---|---|"
  for s in sqlite pg; do
    [ -n "${R[$s,verify]:-}" ] || continue
    for load in verify claims; do
      for cfg in "" ",one"; do
        rk="$s,$load$cfg"
        [ -n "${R[$rk]:-}" ] || continue
        where="cores shared with wrk"
        [ -n "$cfg" ] && where="one core each"
        read -r l_rps _ _ _ <<<"${R[$rk]}"
        l_n=${R[$rk,nginx]}
        l_p99=${R[$rk,p99]}
        echo "| $load >= 60% of nginx req/s (mean over the alternated slices), $s, $where | $(ratio "$l_rps" "$l_n") | $(verdict "$l_rps >= 0.6 * $l_n") |"
        shared_nginx_p99=""
        [ -z "$cfg" ] && shared_nginx_p99=${R[$rk,nginx_p99]}
        echo "| ... p99 <= 3 ms at 64 connections (median of the slices; nginx's own: ${R[$rk,nginx_p99]} ms) | $l_p99 ms | $(p99_verdict "$l_p99" 3 "$shared_nginx_p99") |"
        echo "| ... spread: each slice's share of the nginx slice just before it | ${R[$rk,spread]} | |"
        echo "| ... CPU used over the slices, in cores | ${R[$rk,cores]} | |"
      done
    done
  done
  read -r t_rps _ _ _ <<<"${R[sqlite,token]}"
  echo "| token issuance on $(nproc) cores, beside Keycloak's published 120 client-credential grants/s per vCPU ($(( 120 * $(nproc) ))/s here) | $(printf '%.0f' "$t_rps")/s | $(verdict "$t_rps >= 120 * $(nproc)") |"
  echo "<!-- http:end -->"
} > "$WORK/section.md"
python3 bench/write_section.py http "$WORK/section.md"
cat "$WORK/section.md"
