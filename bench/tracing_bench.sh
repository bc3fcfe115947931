#!/usr/bin/env bash
# What traces cost (issue 26, §1.9): GET /tenants/{id} on SQLite under wrk, with tracing off,
# off with a caller's traceparent (passed through), and on (--otlp-endpoint) with every request
# sampled, each with the server's CPU per request (/proc/<pid>/stat). The "collector" is nginx
# answering 200 to every POST /v1/traces, so what is measured is our side: the spans and the
# exporter. nginx `return 200` is the ceiling, measured in the same run. Writes the section
# "tracing" of docs/PERFORMANCE.md.
#   bash bench/tracing_bench.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build}/breakpilot
DUR=${BENCH_DURATION:-10s}
TOKEN=bench-staff-token-0123456789
# shellcheck source=bench/common.sh
source bench/common.sh
bench_scratch breakpilot-tracing
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
start_nginx
CALLER="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# measure PID URL [HEADER] -> "rps p50 p99 non2xx cpu_us_per_request"
measure() {
  local pid=$1 url=$2 t0 t1 out stats
  shift 2
  t0=$(ticks "$pid")
  out=$(wrk -t2 -c64 -d"$DUR" --latency -H "Authorization: Bearer $TOKEN" "$@" "$url")
  t1=$(ticks "$pid")
  stats=$(wrk_stats <<<"$out")
  n=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "$stats $(python3 -c "print(round(($t1 - $t0) * 1e6 / $(getconf CLK_TCK) / $n, 1))")"
}
# serve NAME ARGS... -> starts the platform, sets PID, BASE and DEMO
serve() {
  shift
  local port; port=$(free_port)
  rm -f "$WORK"/b.db*
  BREAKPILOT_ADMIN_TOKEN=$TOKEN "$BIN" serve --listen "127.0.0.1:$port" --database "sqlite:$WORK/b.db" \
    --access-log=false --seed-demo "$@" 2>"$WORK/server-$port.log" &
  PID=$!
  PIDS+=("$PID")
  BASE=http://127.0.0.1:$port
  until curl -sf "$BASE/readyz" >/dev/null; do
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/server-$port.log"; exit 1; }
    sleep 0.05
  done
  DEMO=$(curl -sf "$BASE/tenants?kind=demo" -H "Authorization: Bearer $TOKEN" | json_field '["items"][0]["id"]')
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; }
metric() { curl -sf "$BASE/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

NGINX=$(wrk -t2 -c64 -d"$DUR" --latency "http://127.0.0.1:$NGINX_PORT/" | wrk_stats | cut -d' ' -f1)
serve off
OFF=$(measure "$PID" "$BASE/tenants/$DEMO")
PASS=$(measure "$PID" "$BASE/tenants/$DEMO" -H "traceparent: $CALLER")
stop
serve on --otlp-endpoint "http://127.0.0.1:$NGINX_PORT"
ON=$(measure "$PID" "$BASE/tenants/$DEMO")
sleep 2  # the last batches
EXPORTED=$(metric breakpilot_trace_spans_exported_total)
DROPPED=$(metric breakpilot_trace_spans_dropped_total)
stop

row() {  # row STATS -> "| N req/s | x% | p50 / p99 ms | cpu us |"
  read -r rps p50 p99 _ cpu <<<"$1"
  echo "$(python3 -c "print(round($rps))") req/s | $(python3 -c "print(round(100 * $rps / $NGINX))")% | $p50 / $p99 ms | $cpu us"
}
cat > "$WORK/section.md" <<MD
<!-- tracing:begin -->
## What traces cost (issue 26)

\`bench/tracing_bench.sh\` on this machine ($(nproc) cores), $(date -u +%Y-%m-%d), release build,
SQLite, wrk -t2 -c64, $DUR per run: \`GET /tenants/{id}\` with the staff token, answered on
the I/O thread. "On" sends every request's span (100% sampled) to \`--otlp-endpoint\`, here
nginx answering 200 to the batches, so the figures are the platform's side (making the spans,
encoding and posting them), not a collector's. nginx \`return 200\` is the ceiling:
$(python3 -c "print(round($NGINX))") req/s. One run of each, one after the other: differences
under about 10% are within this machine's noise.

| tracing | throughput | share of nginx | latency p50 / p99 | server CPU per request |
|---|---|---|---|---|
| off | $(row "$OFF") |
| off, the caller sends a traceparent (passed through) | $(row "$PASS") |
| on, every request recorded | $(row "$ON") |

The row with a caller's traceparent also parses a longer request and writes the header back
(the server answers with the traceparent it was given), which is most of its difference from
the first row: nothing is recorded there. With tracing on, $EXPORTED spans were exported and $DROPPED dropped (a full queue drops new
spans rather than slow a request). Where the time goes when it is on: two random ids, the
span's attributes (six strings), the queue's lock, and the protobuf encoding and the POST on
the exporter's thread, which shares the two cores with the I/O threads and wrk.
<!-- tracing:end -->
MD
python3 bench/write_section.py tracing "$WORK/section.md"
cat "$WORK/section.md"
