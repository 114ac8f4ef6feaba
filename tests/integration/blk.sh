#!/usr/bin/env bash
# The blk_* test guests against a private pvd, with image files this script makes and checks.
# Usage: blk.sh PVCTL PVD SCENARIO CFG [CFG2]     (exit 77 = skipped)
#   integrity   CFG = blk_integrity (or a run of it): the guest's checks pass, and the image
#               holds exactly what its IMAGE lines say (zeros elsewhere)
#   readonly    CFG = blk_readonly: an image full of the host's pattern, access=ro; the guest's
#               checks pass and the image is unchanged
#   flush-kill  CFG = blk_flush: once the guest says its flush was answered, kill -9 pvd; the
#               flushed sectors are in the image
#   hostile     CFG = blk_hostile (three disks), CFG2 = blk_integrity: pvd answers after the hostile
#               guest, and then serves blk_integrity
set -uo pipefail
pvctl=$1 pvd=$2 scenario=$3 cfg=$4 cfg2=${5:-}
here=$(dirname "$0")

source "$here/common.sh"
require_kvm
command -v python3 >/dev/null || { echo "SKIP: python3 is needed to make and check images"; exit 77; }
start_private_pvd "$pvd"
dir=$PVHV_RUNTIME_DIR
pvctl_pid=
cleanup() {
  [[ -n $pvctl_pid ]] && kill "$pvctl_pid" 2>/dev/null
  stop_private_pvd
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  echo "--- pvd log"; cat "$dir/pvd.stderr"
  exit 1
}
# image NAME [SECTORS]: a zero-filled image file in the runtime dir (4 MiB by default).
image() {
  local img=$dir/$1.img
  truncate -s $((${2:-8192} * 512)) "$img"
  echo "$img"
}
disk() { echo "format=raw, vdev=$1, access=${3:-rw}, target=$2"; }
# run_guest OUT CFG [KEY=VALUE...]: pvctl create -F; the exit code must be 0 and the report PASS.
run_guest() {
  local out=$1
  shift
  timeout 120 "$pvctl" create -F "$@" >"$out" 2>&1
  local rc=$?
  cat "$out"
  [[ $rc -eq 0 ]] || fail "$2 exited $rc"
  grep -q '^FAIL' "$out" && fail "$2 reported a failure"
  grep -q '^RESULT: PASS' "$out" || fail "$2 did not report RESULT: PASS"
}
pvd_answers() {
  kill -0 "$pvd_pid" 2>/dev/null || fail "pvd died"
  "$pvctl" list >/dev/null || fail "pvd does not answer pvctl list"
}

case $scenario in
  integrity)
    img=$(image integrity)
    run_guest "$dir/out" "$cfg" "disk=['$(disk xvda "$img")']"
    python3 "$here/blk_image.py" check "$img" <"$dir/out" || fail "the image differs from what the guest wrote"
    ;;
  readonly)
    img=$(image readonly)
    python3 "$here/blk_image.py" fill "$img" 77 0 8192
    before=$(sha256sum <"$img")
    run_guest "$dir/out" "$cfg" "disk=['$(disk xvda "$img" ro)']"
    [[ $(sha256sum <"$img") == "$before" ]] || fail "the read-only image changed"
    ;;
  flush-kill)
    img=$(image flush)
    timeout 120 "$pvctl" create -F "$cfg" "disk=['$(disk xvda "$img")']" >"$dir/out" 2>&1 &
    pvctl_pid=$!
    wait_for_line "$dir/out" '^BLK_FLUSH_ACKED|^RESULT' 60 || { cat "$dir/out"; fail "no flush marker within 60 s"; }
    grep -q '^BLK_FLUSH_ACKED' "$dir/out" || { cat "$dir/out"; fail "the guest ended before its flush"; }
    kill -9 "$pvd_pid"
    wait "$pvd_pid" 2>/dev/null
    cat "$dir/out"
    python3 "$here/blk_image.py" expect "$img" 21 0 256 || fail "flushed data missing after kill -9 of pvd"
    ;;
  hostile)
    a=$(image hostile_a) b=$(image hostile_b) c=$(image hostile_c)
    run_guest "$dir/out" "$cfg" "disk=['$(disk xvda "$a")', '$(disk xvdb "$b")', '$(disk xvdc "$c")']"
    pvd_answers
    python3 "$here/blk_image.py" expect "$b" 33 0 64 || fail "the well-behaved disk lost its data"
    img=$(image integrity)
    run_guest "$dir/out2" "$cfg2" "disk=['$(disk xvda "$img")']"
    pvd_answers
    ;;
  *)
    echo "blk.sh: unknown scenario $scenario"
    exit 2
    ;;
esac
echo "ok: $scenario"
