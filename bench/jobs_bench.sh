#!/usr/bin/env bash
# make bench (part 3): the durable job queue on PostgreSQL. Jobs claimed and completed per
# second with 3 workers (issue 5 aims at 2,000 or more), beside this machine's own ceiling in the
# same run: pgbench committing one-row UPDATE transactions from 3 clients (each job costs one
# such fenced commit, plus its share of a batched claim). Writes its section of
# docs/PERFORMANCE.md between the jobs markers. Needs BREAKPILOT_TEST_PG.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${1:-build/jobs_bench}
: "${BREAKPILOT_TEST_PG:?run through scripts/with-postgres.sh}"
ADMIN=$BREAKPILOT_TEST_PG
DB=${BREAKPILOT_TEST_PG%/*}/jobs_bench
WORK=$(mktemp -d /tmp/breakpilot-jobs-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
N=${JOBS_BENCH_N:-30000}
psql "$ADMIN" -qX -c "DROP DATABASE IF EXISTS jobs_bench" -c "CREATE DATABASE jobs_bench" >/dev/null

echo "jobs bench: $N jobs, 3 workers (and 1 and 6 for the shape)" >&2
run() { "$BENCH" "$DB" "$N" "$1" "$2" | tee -a "$WORK/runs.jsonl" >&2; }
run 3 16
run 3 16
run 1 16
run 6 16
run 3 1

# The ceiling: one-row UPDATE commits from 3 clients (the same durability settings).
psql "$DB" -qX -c "DROP TABLE IF EXISTS ceiling" \
  -c "CREATE TABLE ceiling (id int PRIMARY KEY, n bigint NOT NULL)" \
  -c "INSERT INTO ceiling SELECT i, 0 FROM generate_series(1, 30000) i" >/dev/null
cat > "$WORK/ceiling.sql" <<'SQL'
\set id random(1, 30000)
UPDATE ceiling SET n = n + 1 WHERE id = :id;
SQL
pgbench -n -c 3 -j 2 -T 10 -f "$WORK/ceiling.sql" "$DB" > "$WORK/pgbench.txt" 2>&1
CEIL=$(awk '/^tps = /{print int($3)}' "$WORK/pgbench.txt" | head -1)

python3 - "$WORK/runs.jsonl" "$CEIL" > "$WORK/section.md" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
ceil = int(sys.argv[2])
main = [r for r in runs if r['workers'] == 3 and r['batch'] == 16]
best = min(r['per_second'] for r in main)  # the lower of the two runs
print('<!-- jobs:begin -->')
print('## Durable jobs (issue 5)')
print()
print('`bench/jobs_bench.sh` (part of `make bench`): `bench/jobs_bench.cpp` enqueues no-op jobs, all due,')
print('and runs them through the server\'s own `jobs::Runner` on PostgreSQL: claims of 16 with')
print('`FOR UPDATE SKIP LOCKED`, then per job one transaction that checks the lease and marks it done.')
print('Same run, same database: pgbench committing one-row UPDATEs from 3 clients is the ceiling.')
print()
print('| workers | claim batch | jobs | jobs/s |')
print('|---|---|---|---|')
for r in runs:
    print(f"| {r['workers']} | {r['batch']} | {r['jobs']:,} | {r['per_second']:,} |")
print()
verdict = 'met' if best >= 2000 else 'MISSED'
print(f"| figure | value | target | |")
print('|---|---|---|---|')
print(f"| jobs claimed and completed per second, 3 workers (lower of two runs) | **{best:,}/s** | >= 2,000/s | {verdict} |")
print(f"| ... pgbench one-row UPDATE commits, 3 clients (ceiling) | {ceil:,} tps; jobs/s is **{round(100 * best / ceil)}%** of it | | |")
print('<!-- jobs:end -->')
PY
python3 bench/write_section.py jobs "$WORK/section.md"
cat "$WORK/section.md"
psql "$ADMIN" -qX -c "DROP DATABASE IF EXISTS jobs_bench" >/dev/null 2>&1 || true
