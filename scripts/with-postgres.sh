#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh COMMAND...
# Starts a throwaway PostgreSQL on a free loopback port, runs COMMAND with
# BREAKPILOT_TEST_PG=postgresql://postgres@127.0.0.1:PORT/postgres, then stops and removes it,
# whatever COMMAND's outcome. Works as root (runs the server as the postgres user).
# BREAKPILOT_PG_SETTINGS adds server settings, e.g. "-c shared_buffers=6GB" (make bench sets it).
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$PGBIN/initdb" ] || { echo "with-postgres: PostgreSQL server binaries not found" >&2; exit 2; }

DIR=$(mktemp -d /tmp/breakpilot-pg.XXXXXX)
RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres:postgres "$DIR"
  RUN_AS=(runuser -u postgres --)
fi
chmod 700 "$DIR"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

cleanup() {
  "${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

"${RUN_AS[@]}" "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust --no-sync -E UTF8 >"$DIR/initdb.log" 2>&1 \
  || { cat "$DIR/initdb.log" >&2; exit 2; }
for attempt in 1 2 3 4 5; do
  PORT=$(free_port)
  if "${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c max_connections=300 ${BREAKPILOT_PG_SETTINGS:-}" \
      start >/dev/null; then
    break
  fi
  [ "$attempt" -eq 5 ] && { cat "$DIR/server.log" >&2; exit 2; }
done
export BREAKPILOT_TEST_PG="postgresql://postgres@127.0.0.1:$PORT/postgres"
echo "with-postgres: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT"
set +e
"$@"
status=$?
set -e
exit $status
