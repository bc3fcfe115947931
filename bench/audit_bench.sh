#!/usr/bin/env bash
# make bench (part 2): the audit trail on PostgreSQL with 10,000,000 events, 1,000,000 of them in
# one tenant. Writes its section of docs/PERFORMANCE.md (between the audit markers).
# Needs BREAKPILOT_TEST_PG (scripts/with-postgres.sh provides it).
#
# The generator (bench/audit_gen.cpp) writes chained rows exactly as the platform does, loaded
# with COPY with the secondary indexes dropped and rebuilt (setup, not measured as ingest):
#   tenant bench-1     1,000,000 events, 200 users, spread over the last 365 days
#   tenant bench-2        10,000 events (the PDF)
#   bench-3..bench-1000    9,009 events each (8,990,982)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/breakpilot}
GEN=${2:-build/audit_gen}
TOKEN=bench-staff-token-0123456789
WORK=$(mktemp -d /tmp/breakpilot-audit-bench.XXXXXX)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
: "${BREAKPILOT_TEST_PG:?run through scripts/with-postgres.sh}"
ADMIN=$BREAKPILOT_TEST_PG
DB=${BREAKPILOT_TEST_PG%/*}/audit_bench
q() { psql "$DB" -qAtX -v ON_ERROR_STOP=1 "$@"; }
now_ns() { date +%s%N; }
secs() { python3 -c "print(round(($2 - $1) / 1e9, 2))"; }

# AUDIT_BENCH_REUSE=1 keeps the generated database of the previous run (AUDIT_BENCH_KEEP=1).
REUSE=${AUDIT_BENCH_REUSE:-0}
tenant() { q -c "SELECT id FROM tenants WHERE slug = 'bench-$1'"; }
if [ "$REUSE" = 1 ] && psql "$ADMIN" -qAtX -c "SELECT 1 FROM pg_database WHERE datname = 'audit_bench'" | grep -q 1; then
  q -c "DELETE FROM audit_log WHERE tenant_id IN (SELECT id FROM tenants WHERE slug IN ('bench-1001', 'bench-1002'))"
  q -c "DELETE FROM audit_chains WHERE chain LIKE 'baseline-%' OR chain IN (SELECT id::text FROM tenants WHERE slug IN ('bench-1001', 'bench-1002'))"
  q -c "DELETE FROM api_keys"
else
REUSE=0
psql "$ADMIN" -qX -c "DROP DATABASE IF EXISTS audit_bench" -c "CREATE DATABASE audit_bench"
"$BIN" migrate --database "$DB" >/dev/null
q -c "INSERT INTO tenants (id, slug, name, kind, status, plan, status_changed_at, created_at,
        updated_at)
      SELECT gen_random_uuid(), 'bench-' || i, 'Bench ' || i, 'customer', 'active', 'starter',
             now(), now(), now() FROM generate_series(1, 1002) AS i"
fi
BIG=$(tenant 1)
PDF=$(tenant 2)
if [ "$REUSE" = 0 ]; then
{
  echo "$BIG 1000000 200"
  echo "$PDF 10000 20"
  q -c "SELECT id || ' 9009 50' FROM tenants WHERE slug ~ '^bench-[0-9]+$'
          AND substr(slug, 7)::int BETWEEN 3 AND 1000"
} > "$WORK/tenants.txt"

echo "audit bench: generating and loading 10M events" >&2
t0=$(now_ns)
q -c "SELECT indexdef FROM pg_indexes WHERE tablename = 'audit_log'
        AND indexname <> 'audit_log_pkey'" > "$WORK/indexes.sql"
q -c "SELECT 'DROP INDEX ' || indexname || ';' FROM pg_indexes WHERE tablename = 'audit_log'
        AND indexname <> 'audit_log_pkey'" | q
q -c "ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey"
"$GEN" copy "$WORK/tenants.txt" "$(date +%s)" 2> "$WORK/heads.tsv" |
  q -c "\copy audit_log (id, chain, hash, tenant_id, product, action, actor_id, actor_name,
        target_type, target_id, target_name, description, source_ip, seq, crud, is_failure,
        request_id, fields, detail, created_at, received_at, demo) FROM STDIN"
q -c "\copy audit_chains (chain, head_seq, head_hash, base_seq, base_hash, demo) FROM '$WORK/heads.tsv'"
t1=$(now_ns)
{
  echo "SET maintenance_work_mem = '1GB'; SET max_parallel_maintenance_workers = 2;"
  echo "ALTER TABLE audit_log ADD PRIMARY KEY (id);"
  sed 's/$/;/' "$WORK/indexes.sql"
  # VACUUM as well as ANALYZE: a table loaded this way has never been vacuumed, so autovacuum
  # would start on its 10M rows a few minutes in and scan 4 GB while the measurements run.
  echo "VACUUM (ANALYZE) audit_log; ANALYZE audit_chains; ANALYZE tenants;"
} | q
t2=$(now_ns)
LOAD_NOTE="loading took $(secs "$t0" "$t1") s (COPY) + $(secs "$t1" "$t2") s (indexes, VACUUM ANALYZE)"
else
LOAD_NOTE="loaded by an earlier run (AUDIT_BENCH_REUSE)"
fi
TOTAL=$(q -c "SELECT count(*) FROM audit_log")
TABLE_MB=$(q -c "SELECT pg_total_relation_size('audit_log') / 1048576")

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
BREAKPILOT_ADMIN_TOKEN=$TOKEN "$BIN" serve --listen "127.0.0.1:$PORT" --database "$DB" \
  --access-log=false 2>"$WORK/server.log" &
SERVER_PID=$!
BASE=http://127.0.0.1:$PORT
until curl -sf "$BASE/readyz" >/dev/null; do sleep 0.05; done
AUTH=(-H "Authorization: Bearer $TOKEN")

# 1. Everything user X did across all products last month, through the API.
read -r FROM TO <<<"$(python3 -c "
import datetime as d
t = d.datetime.now(d.timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
p = (t - d.timedelta(days=1)).replace(day=1)
print(p.strftime('%Y-%m-%dT%H:%M:%SZ'), t.strftime('%Y-%m-%dT%H:%M:%SZ'))")"
python3 - "$BASE" "$BIG" "$FROM" "$TO" > "$WORK/queries.cfg" <<'PY'
import random, sys
base, tenant, frm, to = sys.argv[1:]
users = list(range(200))
random.seed(3)
for _ in range(2):
    random.shuffle(users)
    for u in users:
        print(f'url = "{base}/audit?tenant_id={tenant}&actor_id=user-{u}&from={frm}&to={to}&limit=1000"')
        print('output = "/dev/null"')
PY
curl -s "${AUTH[@]}" -K "$WORK/queries.cfg" -w '%{http_code}\n' > /dev/null  # warm the cache
curl -s "${AUTH[@]}" -K "$WORK/queries.cfg" -w '%{http_code} %{time_total}\n' > "$WORK/query-times.txt"
read -r Q_N Q_P50 Q_P95 Q_P99 Q_BAD <<<"$(python3 -c "
import sys
rows = [l.split() for l in open('$WORK/query-times.txt')]
t = sorted(float(r[1]) * 1000 for r in rows)
bad = sum(1 for r in rows if r[0] != '200')
pick = lambda p: round(t[min(len(t) - 1, int(p * len(t)))], 2)
print(len(t), pick(0.5), pick(0.95), pick(0.99), bad)")"
Q_ROWS=$(curl -s "${AUTH[@]}" "$BASE/audit?tenant_id=$BIG&actor_id=user-7&from=$FROM&to=$TO&limit=1000" |
  python3 -c "import json,sys; d=json.load(sys.stdin); print(len(d['items']), 'more' if d['next_cursor'] else 'all')")

# 2. Bulk ingest through the API (Retraced bulk path, 1,000 per batch, two tenants in parallel)
#    against the same rows as multi-row INSERTs through psql (1,000 per statement, two sessions).
N=100000
"$GEN" json "$N" 1000 > "$WORK/batches.jsonl"
mkdir -p "$WORK/b"
split -l 1 -d -a 4 "$WORK/batches.jsonl" "$WORK/b/batch-"
key_for() {
  curl -sf "${AUTH[@]}" -H 'Content-Type: application/json' "$BASE/api-keys" \
    -d "{\"tenant_id\":\"$1\",\"name\":\"bench\",\"scopes\":[\"audit:write\"]}" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['secret'])"
}
# One request per batch: curl's `next` separates them (data would be concatenated otherwise).
ingest_cfg() {
  local first=1
  for f in "$WORK"/b/batch-*; do
    [ $first = 1 ] || echo next
    first=0
    echo "url = \"$BASE/publisher/v1/project/certifai/event/bulk\""
    echo "header = \"Authorization: token=$1\""
    echo 'header = "Content-Type: application/json"'
    echo "data-binary = \"@$f\""
    echo 'output = "/dev/null"'
    echo 'write-out = "%{http_code}\\n"'
  done
}
T1001=$(tenant 1001)
T1002=$(tenant 1002)
ingest_cfg "$(key_for "$T1001")" > "$WORK/ingest1.cfg"
ingest_cfg "$(key_for "$T1002")" > "$WORK/ingest2.cfg"
t0=$(now_ns)
curl -s -K "$WORK/ingest1.cfg" > "$WORK/ingest1.txt" &
c1=$!
curl -s -K "$WORK/ingest2.cfg" > "$WORK/ingest2.txt" &
c2=$!
wait $c1 $c2
t1=$(now_ns)
API_BAD=$(cat "$WORK/ingest1.txt" "$WORK/ingest2.txt" | grep -vc '^201$' || true)
API_RATE=$(python3 -c "print(round(2 * $N / (($t1 - $t0) / 1e9)))")
"$GEN" insert baseline-a "$T1001" "$N" 1000 > "$WORK/a.sql"
"$GEN" insert baseline-b "$T1002" "$N" 1000 > "$WORK/b.sql"
t0=$(now_ns)
q -f "$WORK/a.sql" & p1=$!
q -f "$WORK/b.sql" & p2=$!
wait $p1 $p2
t1=$(now_ns)
SQL_RATE=$(python3 -c "print(round(2 * $N / (($t1 - $t0) / 1e9)))")
INGESTED=$(q -c "SELECT count(*) FROM audit_log WHERE tenant_id IN ('$T1001', '$T1002') AND chain NOT LIKE 'baseline-%'")

# 3. CSV export of the big tenant (1,000,000 rows), three times: the median rate, and the server's
# peak RSS growth over the first export. First a CHECKPOINT, so that the ingest's dirty pages are
# written before the exports rather than during them, and one read of the tenant's rows, so that
# every export and every ceiling below reads them from memory (after the ingest, the first read
# came from disk: about 120k rows/s in one run, against 316k warm).
q -c "CHECKPOINT"
q -c "SET enable_seqscan = off" -c "SET enable_bitmapscan = off" \
  -c "SELECT sum(length(description)) FROM audit_log WHERE tenant_id = '$BIG'" >/dev/null
rss() { awk "/^$2:/ {print \$2}" "/proc/$1/status"; }
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
RSS0=$(rss "$SERVER_PID" VmRSS)
echo 5 > "/proc/$SERVER_PID/clear_refs"  # reset the peak (VmHWM) to the current RSS
CSV_RATES=()
for run in 1 2 3; do
  t0=$(now_ns)
  LINES=$(curl -sf "${AUTH[@]}" "$BASE/audit/export?format=csv&tenant_id=$BIG" | wc -l)
  t1=$(now_ns)
  [ "$run" = 1 ] && PEAK=$(rss "$SERVER_PID" VmHWM)
  CSV_ROWS=$((LINES - 1))
  CSV_RATES+=("$(python3 -c "print(round($CSV_ROWS / (($t1 - $t0) / 1e9)))")")
done
CSV_RATE=$(median "${CSV_RATES[@]}")
CSV_S=$(python3 -c "print(round($CSV_ROWS / $CSV_RATE, 2))")
CSV_GROWTH_MB=$(python3 -c "print(round(($PEAK - $RSS0) / 1024, 1))")

# ... and the machine's own ceilings: PostgreSQL writing the same rows, same order, as CSV (text
# output functions) and in its binary format (what our export reads), three times each.
copy_rate() {
  local t0 t1
  t0=$(now_ns)
  q -c "SET enable_sort = off" -c "\copy (SELECT id, created_at, received_at, tenant_id, product,
          action, crud, actor_id, actor_name, target_type, target_id, target_name, description,
          is_failure, source_ip, request_id, fields, seq, hash FROM audit_log
          WHERE tenant_id = '$BIG' ORDER BY created_at DESC, id DESC) TO '/dev/null' $1"
  t1=$(now_ns)
  python3 -c "print(round(1000000 / (($t1 - $t0) / 1e9)))"
}
COPY_RATE=$(median "$(copy_rate CSV)" "$(copy_rate CSV)" "$(copy_rate CSV)")
BINARY_RATE=$(median "$(copy_rate "(FORMAT binary)")" "$(copy_rate "(FORMAT binary)")" \
  "$(copy_rate "(FORMAT binary)")")

# 4. A 10,000-row PDF.
t0=$(now_ns)
curl -sf "${AUTH[@]}" -o "$WORK/export.pdf" "$BASE/audit/export?format=pdf&tenant_id=$PDF"
t1=$(now_ns)
PDF_S=$(secs "$t0" "$t1")
PDF_PAGES=$(pdfinfo "$WORK/export.pdf" | awk '/^Pages:/ {print $2}')
PDF_KB=$(( $(stat -c %s "$WORK/export.pdf") / 1024 ))

# 5. Verifying the big tenant's chain (1,000,000 hashes) with the CLI.
t0=$(now_ns)
"$BIN" audit verify --database "$DB" --tenant bench-1 > "$WORK/verify.json"
t1=$(now_ns)
VERIFY_S=$(secs "$t0" "$t1")
VERIFY_OK=$(python3 -c "import json; print(json.load(open('$WORK/verify.json'))['ok'])")

verdict() { python3 -c "print('met' if $1 else 'missed')"; }
{
  echo "<!-- audit:begin -->"
  echo "## Audit trail (issue 4), PostgreSQL"
  echo
  echo "Run on $(date -u +%Y-%m-%d) with $(nproc) cores; PostgreSQL $(psql "$ADMIN" -qAtX -c 'SHOW server_version') started"
  echo "by scripts/with-postgres.sh (fsync off, shared_buffers $(psql "$ADMIN" -qAtX -c 'SHOW shared_buffers'), for both sides of every comparison). Data: $TOTAL"
  echo "events in 1,000 tenants ($TABLE_MB MiB with indexes), generated by bench/audit_gen.cpp with real chain"
  echo "hashes; $LOAD_NOTE, not counted anywhere below."
  echo
  echo "| measure | this run | target | verdict |"
  echo "|---|---|---|---|"
  echo "| \"everything user X did last month\" (\`GET /audit?tenant_id&actor_id&from&to&limit=1000\`, 1M-event tenant, $Q_N requests over 200 users, warm) | p50 $Q_P50 ms, **p95 $Q_P95 ms**, p99 $Q_P99 ms ($Q_ROWS rows for one user; $Q_BAD non-200) | p95 <= 25 ms | $(verdict "$Q_P95 <= 25 and $Q_BAD == 0") |"
  echo "| bulk ingest through the API (Retraced bulk path, 1,000/batch, 2 clients) | $API_RATE events/s ($INGESTED stored; $API_BAD non-201) | | |"
  echo "| the same rows as multi-row INSERT through psql (1,000/statement, 2 sessions) | $SQL_RATE rows/s | | |"
  echo "| API ingest / raw INSERT | **$(python3 -c "print(round(100 * $API_RATE / $SQL_RATE))")%** | >= 50% | $(verdict "$API_RATE >= 0.5 * $SQL_RATE and $API_BAD == 0") |"
  echo "| CSV export of the 1M-event tenant (streamed; median of 3) | **$CSV_RATE rows/s** ($CSV_ROWS rows in $CSV_S s; runs: ${CSV_RATES[*]}) | >= 300,000 rows/s | $(verdict "$CSV_RATE >= 300000") |"
  echo "| ... PostgreSQL's own \`COPY (SELECT ... ORDER BY created_at DESC) TO STDOUT CSV\` of the same rows (median of 3) | $COPY_RATE rows/s; our export is **$(python3 -c "print(round(100 * $CSV_RATE / $COPY_RATE))")%** of it | | |"
  echo "| ... the same \`COPY\` in PostgreSQL's binary format (what the export reads; median of 3) | $BINARY_RATE rows/s; our export is **$(python3 -c "print(round(100 * $CSV_RATE / $BINARY_RATE))")%** of it | | |"
  echo "| ... server peak RSS growth during the first export | **$CSV_GROWTH_MB MB** | <= 32 MB | $(verdict "$CSV_GROWTH_MB <= 32") |"
  echo "| PDF of 10,000 events | **$PDF_S s** ($PDF_PAGES pages, $PDF_KB KiB) | <= 2 s | $(verdict "$PDF_S <= 2") |"
  echo "| \`breakpilot audit verify\` of the 1M-event chain | $VERIFY_S s (ok: $VERIFY_OK) | | |"
  echo
  echo "SQLite: not run at this size; the embedded default is for one small deployment. The same"
  echo "code paths run on SQLite in the test suite."
  echo "<!-- audit:end -->"
} > "$WORK/section.md"
python3 bench/write_section.py audit "$WORK/section.md"
cat "$WORK/section.md"
kill "$SERVER_PID" && wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=
[ "${AUDIT_BENCH_KEEP:-0}" = 1 ] || psql "$ADMIN" -qX -c "DROP DATABASE IF EXISTS audit_bench" >/dev/null 2>&1 || true
