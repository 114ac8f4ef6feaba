#!/usr/bin/env bash
# A hostile guest runs against a long-lived pvd; pvd must stay up and boot the next guest.
# Usage: pvd-survives-hostile.sh PVCTL PVD HOSTILE_CFG HELLO_CFG   (77 = skipped)
set -uo pipefail
pvctl=$1 pvd=$2 hostile=$3 hello=$4

source "$(dirname "$0")/lib.sh"
require_kvm
start_private_pvd "$pvd"

timeout 60 "$pvctl" create -F "$hostile"; rc=$?
[[ $rc -eq 0 ]] || { echo "FAIL: hostile guest exited $rc"; exit 1; }
kill -0 $pvd_pid || { echo "FAIL: pvd died"; cat "$PVHV_RUNTIME_DIR/pvd.stderr"; exit 1; }
"$pvctl" list || { echo "FAIL: pvd does not answer after the hostile guest"; exit 1; }
timeout 60 "$pvctl" create -F "$hello"; rc=$?
[[ $rc -eq 0 ]] || { echo "FAIL: hello after hostile exited $rc"; exit 1; }
kill -0 $pvd_pid || { echo "FAIL: pvd died"; exit 1; }
echo "ok: pvd survived the hostile guest and booted the next one"
