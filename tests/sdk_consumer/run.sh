#!/usr/bin/env bash
# Installs breakpilot-sdk from the build tree into a fresh prefix, copies this consumer out of
# the repository, and builds it twice against that prefix alone: with CMake's find_package and
# with pkg-config. Then runs both. Usage: run.sh BUILD_DIR [CXX_FLAGS]
set -euo pipefail
build=$1
flags=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/sdk-consumer.XXXXXX)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
for f in include/breakpilot/sdk.hpp include/breakpilot/product.hpp; do
  test -f "$work/prefix/$f" || { echo "missing $f in the install"; exit 1; }
done
pc=$(find "$work/prefix" -name breakpilot-sdk.pc)
config=$(find "$work/prefix" -name breakpilot-sdk-config.cmake)
test -n "$pc" && test -n "$config" || { echo "no .pc or CMake package config installed"; exit 1; }
cp -r "$here" "$work/src"
rm -f "$work/src/run.sh"

# 1. CMake: find_package(breakpilot-sdk) from the prefix alone.
cmake -S "$work/src" -B "$work/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
"$work/cmake-build/consumer"

# 2. pkg-config.
export PKG_CONFIG_PATH=$(dirname "$pc")
# shellcheck disable=SC2046,SC2086
c++ $flags -o "$work/pc-consumer" "$work/src/main.cpp" $(pkg-config --cflags --libs breakpilot-sdk)
"$work/pc-consumer"
echo "sdk_install: the installed SDK builds a product with CMake and with pkg-config"
