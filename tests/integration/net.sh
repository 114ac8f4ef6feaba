#!/usr/bin/env bash
# The net_* test guests on a bridge inside a network namespace of this script's own (never the
# machine's: DESIGN §4), with pvd started inside it so its TAP devices land there.
# Usage: net.sh PVCTL PVD SCENARIO CFG [CFG2]     (exit 77 = skipped)
#   pingpong  CFG, CFG2 = net_pingpong's guests a and b: raw frames both ways through the bridge
#   echo      CFG = net_echo at 10.99.0.2: a peer at 10.99.0.1 on the bridge gets its UDP
#             datagrams (and, where the tools exist, pings and TCP data) back
set -uo pipefail
pvctl=$1 pvd=$2 scenario=$3 cfg=$4 cfg2=${5:-}
here=$(dirname "$0")

source "$here/common.sh"
require_kvm
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: network namespaces and bridges need root"
  exit 77
fi
command -v ip >/dev/null || { echo "SKIP: no ip (iproute2)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 is needed for the peer"; exit 77; }

ns=pvhv-net-$$
br=pvhvbr0
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  [[ -n ${pvd_pid:-} ]] && stop_private_pvd
  ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT
ip netns add "$ns" || { echo "SKIP: cannot create a network namespace"; exit 77; }
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up
in_ns ip link add "$br" type bridge || { echo "SKIP: no bridge support"; exit 77; }
in_ns ip link set "$br" up
start_private_pvd ip netns exec "$ns" "$pvd"
dir=$PVHV_RUNTIME_DIR

fail() {
  echo "FAIL: $*"
  for f in "$dir"/out.*; do [[ -f $f ]] && { echo "--- $f"; cat "$f"; }; done
  echo "--- bridge"; in_ns bridge link 2>&1
  echo "--- pvd log"; cat "$dir/pvd.stderr"
  exit 1
}
vif() { echo "vif=['bridge=$br, mac=$1']"; }
check_report() {
  grep -q '^FAIL' "$1" && fail "$(basename "$1") reported a failure"
  grep -q '^RESULT: PASS' "$1" || fail "$(basename "$1") did not report RESULT: PASS"
}

case $scenario in
  pingpong)
    timeout 120 "$pvctl" create -F "$cfg" "$(vif 00:16:3e:00:00:0a)" >"$dir/out.a" 2>&1 &
    pid_a=$!
    pids+=($pid_a)
    timeout 120 "$pvctl" create -F "$cfg2" "$(vif 00:16:3e:00:00:0b)" >"$dir/out.b" 2>&1 &
    pid_b=$!
    pids+=($pid_b)
    wait $pid_a; rc_a=$?
    wait $pid_b; rc_b=$?
    cat "$dir/out.a" "$dir/out.b"
    [[ $rc_a -eq 0 && $rc_b -eq 0 ]] || fail "guests exited $rc_a and $rc_b"
    check_report "$dir/out.a"
    check_report "$dir/out.b"
    grep -q '^PASS: ping_pong' "$dir/out.a" || fail "guest a did not finish its rounds"
    ;;
  echo)
    in_ns ip addr add 10.99.0.1/24 dev "$br"
    timeout 180 "$pvctl" create -F "$cfg" "$(vif 00:16:3e:00:00:0e)" >"$dir/out.echo" 2>&1 &
    pid=$!
    pids+=($pid)
    wait_for_line "$dir/out.echo" '^NET_ECHO_READY|^RESULT' 60 || fail "net_echo not ready within 60 s"
    grep -q '^NET_ECHO_READY' "$dir/out.echo" || fail "net_echo did not connect"
    in_ns python3 "$here/net_peer.py" udp 10.99.0.2 7 20 || fail "UDP echo"
    in_ns python3 "$here/net_peer.py" tcp 10.99.0.2 7 5 || fail "TCP echo"
    if command -v busybox >/dev/null; then
      in_ns busybox ping -c 3 -W 5 10.99.0.2 || fail "ping"
    else
      echo "note: no busybox here, ICMP echo not tried"
    fi
    in_ns python3 "$here/net_peer.py" quit 10.99.0.2 7 || fail "quit"
    wait $pid; rc=$?
    cat "$dir/out.echo"
    [[ $rc -eq 0 ]] || fail "net_echo exited $rc"
    check_report "$dir/out.echo"
    ;;
  *)
    echo "net.sh: unknown scenario $scenario"
    exit 2
    ;;
esac
kill -0 "$pvd_pid" 2>/dev/null || fail "pvd died"
echo "ok: $scenario"
