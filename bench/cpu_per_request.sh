#!/usr/bin/env bash
# CPU per request: nginx `return 200`, GET /healthz and POST /internal/api-keys/verify (warm
# cache) under wrk (-t2 -c64), each with the user and kernel CPU its process(es) used
# (/proc/<pid>/stat) and the context switches of all its threads, divided by the requests
# answered, and the CPU wrk itself spent per request (user and system). The server runs on
# SQLite. Prints one line per load; ROUNDS="1 2 3" repeats them.
#   bash bench/cpu_per_request.sh [BIN]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/breakpilot}
DUR=${BENCH_DURATION:-5s}
TOKEN=bench-staff-token-0123456789
# shellcheck source=bench/common.sh
source bench/common.sh
bench_scratch breakpilot-cpu
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

start_nginx
PORT=$(free_port)
BREAKPILOT_ADMIN_TOKEN=$TOKEN "$BIN" serve --listen "127.0.0.1:$PORT" --database "sqlite:$WORK/b.db" \
  --access-log=false --seed-demo 2>"$WORK/server.log" &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
base=http://127.0.0.1:$PORT
until curl -sf "$base/readyz" >/dev/null; do sleep 0.05; done
demo=$(curl -sf "$base/tenants?kind=demo" -H "Authorization: Bearer $TOKEN" | json_field '["items"][0]["id"]')
secret=$(curl -sf -X POST "$base/service-clients" -H "Authorization: Bearer $TOKEN" \
         -H 'Content-Type: application/json' -d '{"client_id":"cpu"}' | json_field '["client_secret"]')
token=$(curl -sf "$base/oauth/token" -d grant_type=client_credentials -d client_id=cpu \
        -d "client_secret=$secret" | json_field '["access_token"]')
key=$(curl -sf -X POST "$base/api-keys" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
      -d "{\"tenant_id\":\"$demo\",\"name\":\"cpu\",\"scopes\":[\"certifai:read\"]}" | json_field '["secret"]')
post_lua "$WORK/verify.lua" application/json "{\"key\":\"$key\"}" "$token"
NGINX_WORKERS=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')

ticks() {  # PIDS... -> "user system" clock ticks
  local u=0 s=0 a b
  for p in "$@"; do read -r a b < <(awk '{print $14, $15}' "/proc/$p/stat"); u=$((u + a)); s=$((s + b)); done
  echo "$u $s"
}
switches() {  # PIDS... -> context switches of all their threads
  local t=0
  for p in "$@"; do
    for f in /proc/"$p"/task/*/status; do t=$((t + $(awk '/ctxt_switches/ {s += $2} END {print s}' "$f"))); done
  done
  echo "$t"
}
measure() {  # NAME "PIDS" WRK-ARGS...
  local name=$1 u0 s0 c0 u1 s1 c1 out
  local -a pids
  read -r -a pids <<<"$2"
  shift 2
  read -r u0 s0 < <(ticks "${pids[@]}"); c0=$(switches "${pids[@]}")
  # `times` in the same subshell prints wrk's own user and system CPU (its last line).
  out=$(wrk -t2 -c64 -d"$DUR" --latency "$@"; times)
  read -r u1 s1 < <(ticks "${pids[@]}"); c1=$(switches "${pids[@]}")
  python3 - "$name" "$out" "$u0" "$s0" "$c0" "$u1" "$s1" "$c1" "$(getconf CLK_TCK)" <<'PY'
import re, sys
name, out = sys.argv[1], sys.argv[2]
u0, s0, c0, u1, s1, c1, hz = map(int, sys.argv[3:])
n = int(re.search(r'(\d+) requests in', out).group(1))
rps = float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1))
p99 = re.search(r'^\s*99%\s+(\S+)', out, re.M).group(1)  # the latency line, not a stdev ending in 99%
us = 1e6 / hz / n
wrk_s = sum(int(m) * 60 + float(s) for m, s in re.findall(r'(\d+)m([\d.]+)s', out.splitlines()[-1]))
print(f'{name:8} {rps:9.0f} req/s  p99 {p99:>7}  user {(u1-u0)*us:5.1f} us  kernel {(s1-s0)*us:5.1f} us'
      f'  context switches {(c1-c0)/n:.3f} per request  wrk {wrk_s * 1e6 / n:5.1f} us')
PY
}
for _ in ${ROUNDS:-1}; do
  measure nginx "$NGINX_WORKERS" "http://127.0.0.1:$NGINX_PORT/"
  measure healthz "$SERVER_PID" "$base/healthz"
  measure verify "$SERVER_PID" -s "$WORK/verify.lua" "$base/internal/api-keys/verify"
done
