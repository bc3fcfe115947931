#!/usr/bin/env bash
# make bench: the tenant move of physical isolation (issue 26, M18.2) on both stores, in rows per
# second, beside one plain INSERT ... SELECT of the same rows in the same run and database
# (bench/tenant_move_bench.cpp). Writes its section of docs/PERFORMANCE.md between the
# tenant-move markers. Needs BREAKPILOT_TEST_PG.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${1:-build/tenant_move_bench}
: "${BREAKPILOT_TEST_PG:?run through scripts/with-postgres.sh}"
ADMIN=$BREAKPILOT_TEST_PG
DB=${BREAKPILOT_TEST_PG%/*}/move_bench
WORK=$(mktemp -d /tmp/breakpilot-move-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
N=${MOVE_BENCH_ROWS:-200000}

echo "tenant move bench: $N rows of one tenant beside as many of another" >&2
for run in 1 2; do
  psql "$ADMIN" -qX -c "DROP DATABASE IF EXISTS move_bench" -c "CREATE DATABASE move_bench" >/dev/null
  "$BENCH" "$DB" "$N" | tee -a "$WORK/runs.jsonl" >&2
  rm -rf "$WORK/sqlite" && mkdir -p "$WORK/sqlite"
  "$BENCH" "$WORK/sqlite/move.db" "$N" | tee -a "$WORK/runs.jsonl" >&2
done
# Roles outlive a dropped database; the bench drops its tenant's place itself.
psql "$ADMIN" -qX -c "DROP DATABASE IF EXISTS move_bench" >/dev/null 2>&1 || true

python3 - "$WORK/runs.jsonl" > "$WORK/section.md" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
print('<!-- tenant-move:begin -->')
print('## Tenant move: physical isolation (issue 26)')
print()
print('`bench/tenant_move_bench.sh` (part of `make bench`): the SDK\'s TenantStore moves one tenant\'s')
print('rows (echo-bot\'s `echoes` table: id, tenant, project, message, actor, created; an index on')
print('tenant and id) out of the shared table, beside as many rows of another tenant: batches of')
print('1,000 copied, the switch (catch-up and count check under the tenant\'s lock), the shared rows')
print('deleted in batches. PostgreSQL: into a new schema owned by a new role; SQLite: into a file of')
print('its own. Beside it, in the same run and database, one plain `INSERT ... SELECT` of the same')
print('rows into a new table with the same columns and index (copy only: no verification, no delete).')
print()
print('| store | rows | move | move rows/s | INSERT ... SELECT | its rows/s | move / INSERT ... SELECT |')
print('|---|---|---|---|---|---|---|')
for store in ('postgres', 'sqlite'):
    mine = [r for r in runs if r['store'] == store]
    r = min(mine, key=lambda r: r['move_rows_per_second'])  # the slower of the runs
    share = round(100 * r['move_rows_per_second'] / r['insert_select_rows_per_second'])
    print(f"| {store} | {r['rows']:,} | {r['move_seconds']:.2f} s | **{r['move_rows_per_second']:,.0f}** "
          f"| {r['insert_select_seconds']:.2f} s | {r['insert_select_rows_per_second']:,.0f} | {share}% |")
print()
print('The slower of two runs per store. The move does more than the copy: it reads the shared rows')
print('a second time to verify them at the switch, and deletes them afterwards; each batch is its own')
print('transaction so the tenant keeps writing meanwhile.')
print('<!-- tenant-move:end -->')
PY
python3 bench/write_section.py tenant-move "$WORK/section.md"
cat "$WORK/section.md"
