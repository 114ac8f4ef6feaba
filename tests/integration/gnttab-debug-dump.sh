#!/usr/bin/env bash
# The gnttab guest on a long-lived pvd, preserved after it powers off: `pvctl debug-dump` shows
# where it placed its grant frames and the entry it wrote; `pvctl top` counts its reads of the
# address a frame moved away from. Usage: gnttab-debug-dump.sh PVCTL PVD GNTTAB_CFG (77 = skipped)
set -uo pipefail
pvctl=$1 pvd=$2 cfg=$3

source "$(dirname "$0")/common.sh"
require_kvm
start_private_pvd "$pvd"
trap stop_private_pvd EXIT

fail() { echo "FAIL: $*"; cat "$PVHV_RUNTIME_DIR/pvd.stderr"; exit 1; }
expect() {  # expect WHAT TEXT PATTERN
  grep -qF -- "$3" <<<"$2" || { printf '%s\n' "$2"; fail "$1: no '$3'"; }
}

# -c: stream the console until the guest powers off; preserve keeps the domain for inspection.
out=$(timeout 60 "$pvctl" create -c -q "$cfg" 'on_poweroff="preserve"' 2>&1) || fail "create exited $?"
expect "guest report" "$out" "RESULT: PASS"

dump=$("$pvctl" debug-dump gnttab) || fail "debug-dump exited $?"
printf '%s\n' "$dump"
expect debug-dump "$dump" "event channels (2-level): "  # pvd's xenstore port, if any
expect debug-dump "$dump" "grant table v1: 2 of 64 frames, 1024 entries"
expect debug-dump "$dump" "frame 0: gfn 0x2200"
expect debug-dump "$dump" "frame 1: gfn 0x2220"
expect debug-dump "$dump" "ref 0x0005 flags 0x0001 (permit) domid 0 frame 0x1234"
expect debug-dump "$dump" "pages placed at run time (grant frames): 2"

top=$("$pvctl" top) || fail "top exited $?"
expect top "$top" "$(printf '  %-10s %-24s %14s' mmio '(unclaimed)' 4)"

"$pvctl" destroy gnttab || fail "destroy exited $?"
"$pvctl" debug-dump gnttab 2>/dev/null && fail "debug-dump of a destroyed domain succeeded"
kill -0 $pvd_pid || fail "pvd died"
echo "ok: debug-dump shows the guest's grant frames and entry"
