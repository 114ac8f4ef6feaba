#!/usr/bin/env bash
# Hostile guests run one after another against a long-lived pvd; pvd must stay up and boot the
# next guest (the last cfg), which must pass.
# Usage: pvd-survives-hostile.sh PVCTL PVD HOSTILE_CFG... NEXT_CFG   (77 = skipped)
set -uo pipefail
pvctl=$1 pvd=$2
shift 2
cfgs=("$@")
next=${cfgs[-1]}
unset 'cfgs[-1]'

source "$(dirname "$0")/common.sh"
require_kvm
start_private_pvd "$pvd"
trap stop_private_pvd EXIT

for hostile in "${cfgs[@]}"; do
  timeout 60 "$pvctl" create -F "$hostile"; rc=$?
  [[ $rc -eq 0 ]] || { echo "FAIL: hostile guest $hostile exited $rc"; exit 1; }
  kill -0 $pvd_pid || { echo "FAIL: pvd died"; cat "$PVHV_RUNTIME_DIR/pvd.stderr"; exit 1; }
  "$pvctl" list || { echo "FAIL: pvd does not answer after $hostile"; exit 1; }
done
timeout 60 "$pvctl" create -F "$next"; rc=$?
[[ $rc -eq 0 ]] || { echo "FAIL: $next after the hostile guests exited $rc"; exit 1; }
kill -0 $pvd_pid || { echo "FAIL: pvd died"; exit 1; }
echo "ok: pvd survived the hostile guests and booted the next one"
