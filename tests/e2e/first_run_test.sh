#!/usr/bin/env bash
# A quiet, local first run (issue 21): the binary started exactly as `make run` starts it
# (scripts/run.sh: demo seed, then serve on SQLite with the sample catalog) for 30 seconds, under
# strace. It passes when
#   - the log holds no warning and no error,
#   - no line of it (nor of what run.sh printed) carries a source path, file:line or a library's
#     type names,
#   - the start-up banner names the sample products it will not call (they live elsewhere),
#   - echo-bot runs beside it, holds the demo tenant's fixture and takes the demo admin's token,
#   - the process made no outbound connection: every connect() went to a Unix socket or to a
#     loopback address (a DNS lookup would show as one to a resolver).
#
#   tests/e2e/first_run_test.sh BINARY [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$1
SECONDS_TO_WATCH=${2:-30}
WORK=$(mktemp -d /tmp/breakpilot-first-run.XXXXXX)
SERVER=""
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  if [ -n "$SERVER" ]; then kill -KILL "$SERVER" 2>/dev/null || true; fi
  if [ -z "${BREAKPILOT_KEEP_TEST_DIRS:-}" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
fail() { echo "first run: $*" >&2; exit 1; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
ECHO_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
export BREAKPILOT_VAR_DIR=$WORK/var BREAKPILOT_MAIL_DIR=$WORK/var/mail ECHO_BOT_ADDR=127.0.0.1:$ECHO_PORT
# The sanitizer build's leak check cannot run under ptrace (strace): it would abort at start.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
unset BREAKPILOT_ADMIN_TOKEN
strace -f -qq -e trace=connect -o "$WORK/connect.txt" \
  bash scripts/run.sh "$BIN" "127.0.0.1:$PORT" "sqlite:$WORK/var/breakpilot.db" \
  >"$WORK/stdout.txt" 2>"$WORK/log.jsonl" &
STRACE=$!

for _ in $(seq 1 600); do
  grep -q '"msg":"listening"' "$WORK/log.jsonl" 2>/dev/null && break
  kill -0 "$STRACE" 2>/dev/null || { cat "$WORK/log.jsonl" >&2; fail "the server did not start"; }
  sleep 0.1
done
grep -q '"msg":"listening"' "$WORK/log.jsonl" || fail "no 'listening' line in 60 s"
SERVER=$(pgrep -f "serve --listen 127.0.0.1:$PORT" | head -1)
[ -n "$SERVER" ] || fail "cannot find the server process"
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || fail "/healthz does not answer"
# echo-bot, the sample product, runs beside it and got the demo tenant's fixture.
curl -sf "http://127.0.0.1:$ECHO_PORT/v1/health" >/dev/null || fail "echo-bot does not answer"
# The demo tenant booked echo-bot (demo_products): its admin gets a token echo-bot accepts.
token=$(curl -s "http://127.0.0.1:$PORT/oauth/token" -d grant_type=password -d username=demo-admin \
          --data-urlencode "password=$(cat "$WORK/var/demo-password")" -d audience=echo-bot |
        sed -nE 's/.*"access_token":"([^"]+)".*/\1/p')
[ -n "$token" ] || fail "no echo-bot token for the demo tenant's admin"
curl -sf "http://127.0.0.1:$ECHO_PORT/v1/projects" -H "Authorization: Bearer $token" |
  grep -q demo-welcome || fail "echo-bot does not show the demo tenant its fixture"
sleep "$SECONDS_TO_WATCH"
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || fail "/readyz does not answer after ${SECONDS_TO_WATCH} s"
kill -TERM "$SERVER"
wait "$STRACE" || true
SERVER=""

status=0
if grep -E '"level":"(warn|error)"' "$WORK/log.jsonl"; then
  echo "first run: the lines above are warnings or errors" >&2; status=1
fi
if grep -nE '/usr/include|\.(c|cc|cpp|hpp|h|ipp):[0-9]|boost::|std::|__cxx11|'"$PWD"'/src' \
     "$WORK/log.jsonl" "$WORK/stdout.txt"; then
  echo "first run: the lines above carry source paths or library internals" >&2; status=1
fi
banner=$(grep '"msg":"listening"' "$WORK/log.jsonl")
for product in certifai breakpilot-compliance; do
  grep -q "\"products_not_called\":\[[^]]*\"$product\"" <<<"$banner" ||
    { echo "first run: the banner does not say $product is not called: $banner" >&2; status=1; }
done
# connect(3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.2")}, 16) = 0
outbound=$(grep -E 'connect\(' "$WORK/connect.txt" | grep -vE 'AF_UNIX|AF_LOCAL' |
           grep -vE 'inet_addr\("127\.|inet_pton\(AF_INET6, "::1"' || true)
if [ -n "$outbound" ]; then
  echo "first run: outbound connections:" >&2; echo "$outbound" >&2; status=1
fi
if ! python3 - "$WORK/var/echo-bot.db" <<'PY'
import sqlite3, sys
n = sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM projects WHERE tenant = 'demo'").fetchone()[0]
sys.exit(0 if n > 0 else 1)
PY
then
  echo "first run: echo-bot holds no demo fixture: the demo reset did not reach it" >&2; status=1
fi
echo "first run: ${SECONDS_TO_WATCH} s watched; $(wc -l <"$WORK/log.jsonl") log lines;" \
     "$(grep -cE 'connect\(' "$WORK/connect.txt" || true) connect() calls"
exit $status
