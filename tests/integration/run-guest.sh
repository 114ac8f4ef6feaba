#!/usr/bin/env bash
# Boots one test guest with `pvctl create -F CFG` on /dev/kvm and checks its exit code and report.
# Usage: run-guest.sh PVCTL CFG EXPECTED_EXIT   (exit 77 = skipped, for ctest SKIP_RETURN_CODE)
set -uo pipefail
pvctl=$1 cfg=$2 expected=$3

source "$(dirname "$0")/common.sh"
require_kvm

# A private pvd for this test: its own runtime dir, gone when the test ends.
export PVHV_RUNTIME_DIR
PVHV_RUNTIME_DIR=$(mktemp -d /tmp/pvhv-test.XXXXXX)
trap 'rm -rf "$PVHV_RUNTIME_DIR"' EXIT

out=$(timeout 60 "$pvctl" create -F "$cfg" 2>&1)
rc=$?
printf '%s\n' "$out"
if [[ $rc -ne $expected ]]; then
  echo "FAIL: pvctl create -F exited $rc, expected $expected"
  exit 1
fi
if grep -q '^FAIL:' <<<"$out"; then
  echo "FAIL: the guest reported a failure"
  exit 1
fi
if ! grep -q '^PASS:' <<<"$out"; then
  echo "FAIL: the guest reported no PASS line"
  exit 1
fi
echo "ok: exit $rc as expected"
