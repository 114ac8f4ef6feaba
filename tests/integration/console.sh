#!/usr/bin/env bash
# Interactive consoles on /dev/kvm with the `console` test guest: typed input through pvctl into
# the PV console ring or COM1, echoed back; pause/unpause; a hostile ring. Own pvd per run.
# Usage: console.sh PVCTL PVD SCENARIO CFG [CFG2]      (exit 77 = skipped)
#   echo-create-F      pvctl create -F, a line on stdin, the guest echoes it uppercased; the
#                      big and wrapping ring writes arrive intact; exit code 0
#   echo-attach-pause  pvctl create, then pvctl console NAME; the domain is paused while the line
#                      is typed, nothing is echoed until unpause; list shows the p flag
#   serial-create-c    pvctl create -c of a guest without a PV console: input goes to COM1
#   hostile            hostile ring indexes: pvd stays up, logs one line per ring, and serves
#                      the next console guest (CFG2)
set -uo pipefail
pvctl=$1 pvd=$2 scenario=$3 cfg=$4 cfg2=${5:-}

source "$(dirname "$0")/common.sh"
require_kvm
start_private_pvd "$pvd"
dir=$PVHV_RUNTIME_DIR
pvctl_pid=
cleanup() {
  exec 3>&- 2>/dev/null
  [[ -n $pvctl_pid ]] && kill "$pvctl_pid" 2>/dev/null
  stop_private_pvd
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  echo "--- pvctl output"; cat "$dir/out" 2>/dev/null
  echo "--- pvd log"; cat "$dir/pvd.stderr"
  exit 1
}
# wait_for FILE PATTERN: up to 30 s for a line matching PATTERN (grep -E) in FILE.
wait_for() {
  for _ in $(seq 300); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "no '$2' in $1 within 30 s"
}
name_of() { sed -n 's/^name *= *"\(.*\)"/\1/p' "$1"; }
# The guest's verdict, from pvd's copy of its console.
check_report() {
  local log=$dir/console/$1.log
  grep -q '^FAIL:' "$log" && fail "the guest reported a failure: $(grep '^FAIL:' "$log")"
  grep -q '^RESULT: PASS' "$log" || fail "the guest did not report RESULT: PASS"
}
# pvctl reads its input from a fifo that this script holds open on fd 3.
mkfifo "$dir/in"
start_pvctl() {
  timeout 60 "$pvctl" "$@" <"$dir/in" >"$dir/out" 2>&1 &
  pvctl_pid=$!
  exec 3>"$dir/in"
}
finish_pvctl() {
  wait "$pvctl_pid"
  rc=$?
  exec 3>&-
}

case $scenario in
  echo-create-F)
    name=$(name_of "$cfg")
    start_pvctl create -F "$cfg"
    wait_for "$dir/out" '^READY'
    printf 'hello pvhv, from a pipe\n' >&3
    finish_pvctl
    [[ $rc -eq 0 ]] || fail "pvctl create -F exited $rc, expected 0"
    grep -q '^ECHO: HELLO PVHV, FROM A PIPE$' "$dir/out" || fail "no uppercased echo"
    [[ $(grep -c '^BIG [0-9][0-9] .\{64\}$' "$dir/out") -eq 40 ]] || fail "the 40 BIG lines are not intact"
    for l in $(seq 0 39); do
      grep -q "^BIG $(printf %02d "$l") " "$dir/out" || fail "BIG line $l missing"
    done
    grep -q '^WRAP: this line straddles the end of the ring$' "$dir/out" || fail "the wrapping line is torn"
    check_report "$name"
    ;;
  echo-attach-pause)
    name=$(name_of "$cfg")
    "$pvctl" create -q "$cfg" || fail "pvctl create failed"
    wait_for "$dir/console/$name.log" '^READY'   # before attaching: the log has everything
    start_pvctl console "$name"
    "$pvctl" pause "$name" || fail "pvctl pause failed"
    "$pvctl" list >"$dir/list" || fail "pvctl list failed"
    grep -qE "^$name +[0-9]+ .* --p--- " "$dir/list" || fail "list does not show $name paused: $(cat "$dir/list")"
    "$pvctl" pause "$name" 2>"$dir/err" && fail "pausing a paused domain succeeded"
    grep -q 'already paused' "$dir/err" || fail "no clear error for a second pause: $(cat "$dir/err")"
    printf 'typed while paused\n' >&3
    sleep 0.5
    grep -q 'ECHO:' "$dir/console/$name.log" && fail "a paused guest echoed"
    "$pvctl" unpause "$name" || fail "pvctl unpause failed"
    finish_pvctl   # the console ends when the guest powers off
    [[ $rc -eq 0 ]] || fail "pvctl console exited $rc, expected 0"
    grep -q '^ECHO: TYPED WHILE PAUSED$' "$dir/out" || fail "no echo in the attached console"
    check_report "$name"
    ;;
  serial-create-c)
    name=$(name_of "$cfg")
    start_pvctl create -c "$cfg"
    wait_for "$dir/out" '^READY'
    printf 'hello com1\n' >&3
    wait_for "$dir/out" '^RESULT:'
    finish_pvctl   # -c: exits 0 once the domain is gone
    [[ $rc -eq 0 ]] || fail "pvctl create -c exited $rc, expected 0"
    grep -q '^ECHO: HELLO COM1$' "$dir/out" || fail "no echo from COM1"
    check_report "$name"
    ;;
  hostile)
    timeout 60 "$pvctl" create -F "$cfg" </dev/null >"$dir/out" 2>&1
    rc=$?
    [[ $rc -eq 0 ]] || fail "the hostile console guest exited $rc, expected 0"
    check_report "$(name_of "$cfg")"
    kill -0 "$pvd_pid" || fail "pvd died"
    n_out=$(grep -c 'console: hostile ring indexes (out_prod' "$dir/pvd.stderr")
    n_in=$(grep -c 'console: hostile ring indexes (in_cons' "$dir/pvd.stderr")
    # The guest kicked 20 times per ring: one line per episode, not one per kick.
    [[ $n_out -eq 1 && $n_in -eq 1 ]] || fail "expected one log line per hostile ring, got $n_out and $n_in"
    grep -q '^hostile: RECOVERED$' "$dir/out" || fail "the repaired ring did not work"
    [[ $(grep -c '^hostile: RECOVERED$' "$dir/out") -eq 1 ]] || fail "old output was read twice"
    timeout 60 "$pvctl" create -F "$cfg2" </dev/null >"$dir/out" 2>&1
    rc=$?
    [[ $rc -eq 0 ]] || fail "the console guest after the hostile one exited $rc"
    kill -0 "$pvd_pid" || fail "pvd died"
    ;;
  *)
    echo "unknown scenario $scenario"
    exit 2
    ;;
esac
echo "ok: $scenario"
