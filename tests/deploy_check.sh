#!/usr/bin/env bash
# The deployment files in deploy/ checked by the tools that read them (label: deploy):
#   promtool   the Prometheus rules (check rules) and their unit tests (test rules)
#   caddy      the Caddyfile (validate, through the Caddyfile adapter)
#   systemd    the unit (systemd-analyze verify, the binary under test put in ExecStart)
# Usage: tests/deploy_check.sh promtool|caddy|systemd BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
case "$1" in
  promtool)
    promtool check rules deploy/prometheus/*rules*.yml
    (cd deploy/prometheus && promtool test rules breakpilot.test.yml)
    ;;
  caddy)
    # Caddy keeps its state under XDG dirs: a scratch one, so a check leaves nothing behind.
    # Once in a clean-clone run it failed in 40 ms with no word, and passed on every run since:
    # what caddy said is printed now, and a second try is allowed (an invalid file fails both).
    validate() {
      XDG_DATA_HOME=$scratch XDG_CONFIG_HOME=$scratch caddy validate --config deploy/Caddyfile \
        --adapter caddyfile 2>&1
    }
    out=$(validate) || true
    if [ "$(tail -1 <<<"$out")" != 'Valid configuration' ]; then
      echo "caddy validate, first try:"; echo "$out"
      out=$(validate) || true
      [ "$(tail -1 <<<"$out")" = 'Valid configuration' ] || { echo "$out"; exit 1; }
    fi
    echo "Caddyfile: valid"
    ;;
  systemd)
    if ! command -v systemd-analyze >/dev/null; then
      echo "systemd-analyze is not installed here"
      exit 77
    fi
    sed "s|/usr/local/bin/breakpilot|$2|" deploy/systemd/breakpilot.service > "$scratch/breakpilot.service"
    out=$(systemd-analyze verify "$scratch/breakpilot.service" 2>&1 || true)
    if [ -n "$out" ]; then
      echo "$out"
      exit 1
    fi
    echo "breakpilot.service: verified"
    ;;
  *) echo "usage: tests/deploy_check.sh promtool|caddy|systemd BINARY" >&2; exit 2 ;;
esac
