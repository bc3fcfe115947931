#!/usr/bin/env bash
# The restore drill (M1.3): restores the newest backup of a directory into a scratch database,
# migrates it, verifies every tenant's audit hash chain and compares every table with the
# backup's manifest (row counts; contents too while the schema is the backup's). Exits non-zero
# on any difference, naming it. Run it on a schedule beside the backups: a backup is only as good
# as its last restore.
#
#   scripts/restore-drill.sh --backups DIR --scratch URL [--binary PATH]
#
# DIR holds backups made by `breakpilot backup` (FILE and FILE.manifest.json); the newest by
# modification time is taken. URL is an empty database of the backup's kind: `sqlite:PATH` (a
# file that does not exist yet) or a PostgreSQL URL of a database made for the drill.
set -euo pipefail
BACKUPS="" SCRATCH="" BIN="${BREAKPILOT_BINARY:-breakpilot}"
while [ $# -gt 0 ]; do
  case "$1" in
    --backups) BACKUPS=$2; shift 2 ;;
    --scratch) SCRATCH=$2; shift 2 ;;
    --binary) BIN=$2; shift 2 ;;
    *) echo "restore-drill: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$BACKUPS" ] || [ -z "$SCRATCH" ]; then
  echo "usage: scripts/restore-drill.sh --backups DIR --scratch URL [--binary PATH]" >&2
  exit 2
fi
latest=""
for manifest in $(ls -t "$BACKUPS"/*.manifest.json 2>/dev/null); do
  latest=${manifest%.manifest.json}
  [ -f "$latest" ] && break
  latest=""
done
if [ -z "$latest" ]; then
  echo "restore-drill: no backup with a manifest in $BACKUPS" >&2
  exit 1
fi
step() { echo "restore-drill: $*" >&2; }
step "1/4 restoring $latest"
"$BIN" restore --database "$SCRATCH" --input "$latest" >/dev/null
step "2/4 migrating the restored database"
"$BIN" migrate --database "$SCRATCH" >/dev/null 2>&1
step "3/4 verifying every audit hash chain"
if ! "$BIN" audit verify --database "$SCRATCH" >"${TMPDIR:-/tmp}/restore-drill-audit.$$" 2>/dev/null; then
  cat "${TMPDIR:-/tmp}/restore-drill-audit.$$" >&2
  rm -f "${TMPDIR:-/tmp}/restore-drill-audit.$$"
  step "FAILED: an audit chain does not verify"
  exit 1
fi
rm -f "${TMPDIR:-/tmp}/restore-drill-audit.$$"
step "4/4 comparing every table with the manifest"
if ! "$BIN" restore-check --database "$SCRATCH" --manifest "$latest.manifest.json"; then
  step "FAILED: the restored database differs from the backup's manifest"
  exit 1
fi
step "passed: $latest restores, migrates, verifies and matches"
