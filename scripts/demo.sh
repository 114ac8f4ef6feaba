#!/usr/bin/env bash
# The README's demo command: installs dependencies, builds, and boots the demo test guest with
# `pvctl create -F`, which prints the guest's console and exits with its shutdown code.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset dev >/dev/null
cmake --build --preset dev
exec build/dev/bin/pvctl create -F tests/guests/hello.cfg
