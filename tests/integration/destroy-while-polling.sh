#!/usr/bin/env bash
# A vCPU sleeping in SCHEDOP_poll (no timeout) must not hold up `pvctl destroy`.
# Usage: destroy-while-polling.sh PVCTL PVD POLL_HANG_CFG   (77 = skipped)
set -uo pipefail
pvctl=$1 pvd=$2 cfg=$3

source "$(dirname "$0")/common.sh"
require_kvm
start_private_pvd "$pvd"
create_pid=
trap '[[ -n $create_pid ]] && kill $create_pid 2>/dev/null; stop_private_pvd' EXIT

timeout 60 "$pvctl" create -F "$cfg" >"$PVHV_RUNTIME_DIR/create.out" 2>&1 &
create_pid=$!
log=$PVHV_RUNTIME_DIR/console/poll_hang.log
for _ in $(seq 300); do
  grep -q "polling with no timeout" "$log" 2>/dev/null && break
  kill -0 $create_pid 2>/dev/null || break
  sleep 0.1
done
if ! grep -q "polling with no timeout" "$log" 2>/dev/null; then
  echo "FAIL: the guest never reached its endless poll"; cat "$PVHV_RUNTIME_DIR/create.out" "$log"; exit 1
fi
sleep 0.2  # let the vCPU thread get into the poll
if ! timeout 10 "$pvctl" destroy poll_hang; then
  echo "FAIL: pvctl destroy did not return within 10 s"; exit 1
fi
wait $create_pid; rc=$?
cat "$PVHV_RUNTIME_DIR/create.out"
[[ $rc -eq 125 ]] || { echo "FAIL: pvctl create -F exited $rc, expected 125 (destroyed)"; exit 1; }
grep -q '^FAIL:' "$log" && { echo "FAIL: the guest reported a failure"; exit 1; }
kill -0 $pvd_pid || { echo "FAIL: pvd died"; exit 1; }
echo "ok: the polling domain was destroyed"
