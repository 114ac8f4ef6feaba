#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, and runs the default test suites:
# unit + integration in the dev and asan-ubsan presets, then every libFuzzer target for a
# bounded time (fuzz preset, PVHV_FUZZ_SECONDS each). Slow suites have their own scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --with-fuzz
for preset in dev asan-ubsan; do
  echo "=== preset $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  ctest --preset "$preset"
done
echo "=== preset fuzz"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
ctest --preset fuzz
