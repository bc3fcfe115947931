#!/usr/bin/env bash
# Installs what the build, the tests and the benchmarks need, and only what is missing.
# Idempotent: a second run does nothing but check. Debian 12, run as root (or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev sqlite3 libpq-dev postgresql postgresql-client
  libyaml-cpp-dev libcjose-dev libjansson-dev libargon2-dev libhpdf-dev poppler-utils libcli11-dev libgtest-dev libgmock-dev
  libcurl4-openssl-dev zlib1g-dev libzip-dev zipcmp zipmerge ziptool libkainjow-mustache-dev
  libhowardhinnant-date-dev tzdata python3-aiosmtpd
  libbenchmark-dev libgoogle-perftools-dev
  clang-format clang-tidy clang libclang-rt-14-dev
  curl nodejs npm wrk nginx-light strace openssl
  chromium fonts-dejavu-core
  prometheus caddy dnsmasq
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# node and npm may come from outside Debian on a developer machine: accept them when present.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages present"
fi

# The cluster Debian creates is not ours: tests start their own on a free port.
if systemctl is-active --quiet postgresql 2>/dev/null; then :; fi

# npm packages (pinned in package-lock.json): the OpenAPI linter and validator, swagger-ui.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
else
  echo "setup: npm packages present"
fi
