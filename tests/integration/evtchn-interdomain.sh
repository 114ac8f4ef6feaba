#!/usr/bin/env bash
# Two guests on one pvd find each other through xenstore and ping-pong events over an
# interdomain event channel; both must exit 0 with PASS lines.
# Usage: evtchn-interdomain.sh PVCTL PVD CFG_A CFG_B   (77 = skipped)
set -uo pipefail
pvctl=$1 pvd=$2 cfg_a=$3 cfg_b=$4

source "$(dirname "$0")/common.sh"
require_kvm
start_private_pvd "$pvd"
trap 'kill $pid_a $pid_b 2>/dev/null; stop_private_pvd' EXIT

out_a=$PVHV_RUNTIME_DIR/a.out out_b=$PVHV_RUNTIME_DIR/b.out
timeout 60 "$pvctl" create -F "$cfg_a" >"$out_a" 2>&1 &
pid_a=$!
timeout 60 "$pvctl" create -F "$cfg_b" >"$out_b" 2>&1 &
pid_b=$!
wait $pid_a; rc_a=$?
wait $pid_b; rc_b=$?
echo "--- guest a"; cat "$out_a"
echo "--- guest b"; cat "$out_b"
for g in a b; do
  rc_var=rc_$g out_var=out_$g
  [[ ${!rc_var} -eq 0 ]] || { echo "FAIL: guest $g exited ${!rc_var}"; cat "$PVHV_RUNTIME_DIR/pvd.stderr"; exit 1; }
  grep -q '^PASS: ping_pong' "${!out_var}" || { echo "FAIL: guest $g did not finish the ping-pong"; exit 1; }
  grep -q '^FAIL' "${!out_var}" && { echo "FAIL: guest $g reported a failure"; exit 1; }
done
echo "ok: both guests exchanged their events and passed"
