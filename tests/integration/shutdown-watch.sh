#!/usr/bin/env bash
# pvctl reboot/shutdown through xenstore's control/shutdown, against a long-lived pvd:
#  1. shutdown_watch: `reboot -w` restarts it once (on_reboot = restart), `shutdown -w` powers it
#     off; its `pvctl create -F` then exits 0 with both requests acknowledged by the guest.
#  2. shutdown_watch_ignore (watches, never acts): `shutdown -w -t 1` fails with the timeout and
#     leaves it running; `reboot -w -F -t 1` resets it (it boots again); `shutdown -w -F -t 1`
#     destroys it, so its `pvctl create -F` exits 125.
# Usage: shutdown-watch.sh PVCTL PVD WATCH_CFG IGNORE_CFG   (77 = skipped)
set -uo pipefail
pvctl=$1 pvd=$2 watch_cfg=$3 ignore_cfg=$4

source "$(dirname "$0")/common.sh"
require_kvm
start_private_pvd "$pvd"
guest_pid=
cleanup() {
  [[ -n $guest_pid ]] && kill "$guest_pid" 2>/dev/null
  stop_private_pvd
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  echo "--- guest output"; cat "$out" 2>/dev/null
  echo "--- pvd log"; cat "$PVHV_RUNTIME_DIR/pvd.stderr"
  exit 1
}

# Waits until the guest has printed its "waiting" line N times (once per boot).
wait_ready() {
  local n=$1
  for _ in $(seq 100); do
    (( $(grep -c '^waiting for control/shutdown' "$out") >= n )) && return 0
    sleep 0.1
  done
  fail "the guest did not reach its watch (boot $n)"
}

# --- 1. a guest that cooperates --------------------------------------------------------------
out=$PVHV_RUNTIME_DIR/watch.out
"$pvctl" create -F "$watch_cfg" >"$out" 2>&1 &
guest_pid=$!
wait_ready 1
timeout 30 "$pvctl" reboot -w shutdown_watch || fail "pvctl reboot -w failed"
wait_ready 2
grep -q '^PASS: reboot_requested' "$out" || fail "the guest did not see the reboot request"
grep -q 'restarted as id' "$out" || fail "pvctl create -F did not report the restart"
timeout 30 "$pvctl" shutdown -w shutdown_watch || fail "pvctl shutdown -w failed"
wait $guest_pid; rc=$?
guest_pid=
[[ $rc -eq 0 ]] || fail "pvctl create -F exited $rc after the poweroff, expected 0"
grep -q '^PASS: poweroff_requested' "$out" || fail "the guest did not see the poweroff request"
grep -q '^FAIL' "$out" && fail "the guest reported a failure"
echo "ok: reboot restarted the guest once, shutdown powered it off (exit 0)"

# --- 2. a guest that ignores the requests ----------------------------------------------------
out=$PVHV_RUNTIME_DIR/ignore.out
"$pvctl" create -F "$ignore_cfg" >"$out" 2>&1 &
guest_pid=$!
wait_ready 1
msg=$(timeout 30 "$pvctl" shutdown -w -t 1 shutdown_watch_ignore 2>&1); rc=$?
[[ $rc -eq 1 ]] || fail "shutdown -w -t 1 of an ignoring guest exited $rc, expected 1"
grep -q 'did not shut down within 1 s' <<<"$msg" || fail "no timeout message: $msg"
"$pvctl" list | grep -q shutdown_watch_ignore || fail "the guest should still run after a timeout"
timeout 30 "$pvctl" reboot -w -F -t 1 shutdown_watch_ignore || fail "reboot -F failed"
wait_ready 2
timeout 30 "$pvctl" shutdown -w -F -t 1 shutdown_watch_ignore || fail "shutdown -F failed"
wait $guest_pid; rc=$?
guest_pid=
[[ $rc -eq 125 ]] || fail "pvctl create -F exited $rc after shutdown -F, expected 125 (destroyed)"
grep -q '^FAIL' "$out" && fail "the guest reported a failure"
kill -0 $pvd_pid || fail "pvd died"
echo "ok: an ignoring guest times out, is reset by reboot -F and destroyed by shutdown -F"
