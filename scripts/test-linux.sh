#!/usr/bin/env bash
# The Linux scenarios (ctest label `linux`): Debian's kernel booted by pvd inside the QEMU/TCG
# test host (DESIGN §4). Slow (minutes) and needs the Debian archive for the kernel package.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --with-testhost
cmake --preset release >/dev/null
cmake --build --preset release
ctest --preset linux
