#!/usr/bin/env bash
# PV I/O benchmark (bench/README.md): the bench_blk and bench_net test guests through pvd's
# blkback and netback, pvd's counters per operation, pvd's and the back-ends' host
# instructions per operation (callgrind), and the host itself doing the same operations as the
# anchor; bench/pv_io_report.py prints the table and writes results.tsv and plot.svg.
#
#   sudo bench/pv-io.sh [--quick] [--build-dir DIR] [--no-build] [--out DIR]
#
# Root: KVM, a network namespace of its own (never the machine's: DESIGN §4) with a bridge for
# the guests and veth pairs for the anchor. --quick: a few operations per phase (the ctest
# smoke run, label `bench`). Exit 77 when root, KVM or a tool is missing.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build=$src/build/release
out=""
quick=0
do_build=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) quick=1 ;;
    --no-build) do_build=0 ;;
    --build-dir) build=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "usage: $0 [--quick] [--build-dir DIR] [--no-build] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
out=${out:-$build/bench/pv-io}

source "$src/tests/integration/common.sh"
require_kvm
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (KVM, a network namespace, a bridge)"; exit 77; }
for tool in ip valgrind python3; do
  command -v $tool >/dev/null || { echo "SKIP: no $tool (scripts/install-deps.sh --with-bench)"; exit 77; }
done

if ((do_build)); then
  (cd "$src" && cmake --preset release >/dev/null &&
     cmake --build --preset release --target pvd pvctl test_guests pvhv-anchor-blk \
       pvhv-anchor-net pvhv-blk-request-cost pvhv-netback-path) || exit 1
fi
pvd=$build/bin/pvd pvctl=$build/bin/pvctl guests=$build/tests/guests
for f in "$pvd" "$pvctl" "$guests/bench_blk.cfg" "$guests/bench_net.cfg" "$guests/bench_net_b.cfg" \
         "$build/bench/anchor/pvhv-anchor-blk" "$build/bench/anchor/pvhv-anchor-net" \
         "$build/bench/blk/pvhv-blk-request-cost" "$build/bench/net/pvhv-netback-path"; do
  [[ -e $f ]] || { echo "FAIL: $f is missing (build the release preset, or pass --build-dir)"; exit 1; }
done

# Operations per phase: enough for a second or more of each on the development KVM.
if ((quick)); then
  blk_ops=16 rand_ops=16 pp_ops=16 stream_ops=32 ir_ops=200
else
  blk_ops=1000 rand_ops=2000 pp_ops=1000 stream_ops=3000 ir_ops=2000
fi
rm -rf "$out"
mkdir -p "$out/pv" "$out/anchor" "$out/ir"
ns=pvhv-bench-$$
img=/dev/shm/pvhv-bench-$$.img   # tmpfs
cleanup() {
  [[ -n ${pvd_pid:-} ]] && stop_private_pvd
  ip netns del "$ns" 2>/dev/null
  rm -f "$img"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  [[ -n ${PVHV_RUNTIME_DIR:-} && -f $PVHV_RUNTIME_DIR/pvd.stderr ]] && tail -30 "$PVHV_RUNTIME_DIR/pvd.stderr"
  exit 1
}

# pvd in the namespace (its TAPs land there), optionally under callgrind; waits for its socket.
start_pvd() {  # start_pvd [callgrind-out-file]
  if [[ -n ${1:-} ]]; then
    start_private_pvd ip netns exec "$ns" valgrind --tool=callgrind --callgrind-out-file="$1" "$pvd"
  else
    start_private_pvd ip netns exec "$ns" "$pvd"
  fi
  local i
  for ((i = 0; i < 600; i++)); do [[ -S $PVHV_RUNTIME_DIR/pvd.sock ]] && return 0; sleep 0.1; done
  fail "pvd did not start"
}
pvd_runs=0
stop_pvd() {  # keeps pvd's log beside the results
  pvd_runs=$((pvd_runs + 1))
  kill "$pvd_pid" 2>/dev/null
  wait "$pvd_pid" 2>/dev/null  # (callgrind writes its file as pvd exits)
  cp "$PVHV_RUNTIME_DIR/pvd.stderr" "$out/pvd-$pvd_runs.log" 2>/dev/null
  stop_private_pvd
  pvd_pid=""
}

# One guest run kept after it powers off (preserve), so `top -l` still has its counters.
# run_guest NAME CFG CMDLINE [KEY=VALUE...]: console in $out/pv/NAME.console.
run_guest() {
  local name=$1 cfg=$2 cmdline=$3
  shift 3
  timeout 600 "$pvctl" create -c -q "$cfg" "name=\"$name\"" "cmdline=\"$cmdline\"" \
    'on_poweroff="preserve"' "$@" </dev/null >"$out/pv/$name.console" 2>&1
}
check_guest() {
  grep -q '^RESULT: PASS' "$out/pv/$1.console" || { cat "$out/pv/$1.console"; fail "guest $1"; }
}
top_and_destroy() {  # top_and_destroy FILE NAME...
  "$pvctl" top -l >"$1" || fail "pvctl top -l"
  shift
  for n in "$@"; do "$pvctl" destroy "$n" >/dev/null || fail "destroy $n"; done
}

ip netns add "$ns" || { echo "SKIP: cannot create a network namespace"; exit 77; }
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up
in_ns ip link add pvhvbench0 type bridge || { echo "SKIP: no bridge support"; exit 77; }
in_ns ip link set pvhvbench0 up

# --- block: one guest per phase on a 64 MiB image in tmpfs, written out so reads find pages.
blk_phases=("seqwrite 64 1 $blk_ops" "seqwrite 64 8 $blk_ops" "seqread 64 1 $blk_ops"
            "seqread 64 8 $blk_ops" "randread 4 1 $rand_ops")
dd if=/dev/zero of="$img" bs=1M count=64 status=none || fail "cannot write $img"
disk="disk=['format=raw, vdev=xvda, access=rw, target=$img']"
start_pvd
echo "== block phases (pvd $pvd)"
run_guest blk-baseline "$guests/bench_blk.cfg" "mode=seqread size=64 qd=1 ops=0" "$disk"
check_guest blk-baseline
top_and_destroy "$out/pv/blk-baseline.top.json" blk-baseline
for p in "${blk_phases[@]}"; do
  read -r mode kib qd ops <<<"$p"
  name=blk-$mode-${kib}k-qd$qd
  run_guest "$name" "$guests/bench_blk.cfg" "mode=$mode size=$kib qd=$qd ops=$ops" "$disk"
  check_guest "$name"
  grep '^BENCH' "$out/pv/$name.console"
  top_and_destroy "$out/pv/$name.top.json" "$name"
done
stop_pvd
# The anchors take well under a second a phase: three runs each, the report takes the median
# (the machine is shared; one run can catch another's burst).
echo "== block anchor (the host, io_uring on the same file)"
for p in "${blk_phases[@]}"; do
  read -r mode kib qd ops <<<"$p"
  for _ in 1 2 3; do
    "$build/bench/anchor/pvhv-anchor-blk" "$img" "$mode" "$kib" "$qd" "$ops" || exit 1
  done | tee "$out/anchor/blk-$mode-${kib}k-qd$qd.out" || fail "anchor blk $p"
done

# --- network: guests a and b on the bridge; a drives the phase.
mac_a=00:16:3e:00:00:1a mac_b=00:16:3e:00:00:1b
net_pair() {  # net_pair NAME MODE SIZE OPS: both guests, then top -l, then destroy
  local name=$1 args="mode=$2 size=$3 ops=$4"
  run_guest "$name-b" "$guests/bench_net_b.cfg" "role=b peer=$mac_a $args" &
  local pid_b=$!
  run_guest "$name" "$guests/bench_net.cfg" "role=a peer=$mac_b $args"
  wait $pid_b
  check_guest "$name"
  check_guest "$name-b"
  top_and_destroy "$out/pv/$name.top.json" "$name" "$name-b"
}
net_phases=("pingpong 60 $pp_ops" "stream 1514 $stream_ops")
start_pvd
echo "== network phases"
net_pair net-baseline pingpong 60 0
for p in "${net_phases[@]}"; do
  read -r mode size ops <<<"$p"
  net_pair "net-$mode-$size" "$mode" "$size" "$ops"
  grep '^BENCH' "$out/pv/net-$mode-$size.console"
done
stop_pvd

# pvd's own instructions per operation: pvd under callgrind for a baseline and each phase
# (valgrind 3.19 hangs in io_uring_enter, KDE bug 463859, so blkback is measured below instead).
echo "== pvd under callgrind (network phases)"
for p in "baseline pingpong 60 0" "pingpong pingpong 60 $pp_ops" "stream stream 1514 $stream_ops"; do
  read -r tag mode size ops <<<"$p"
  start_pvd "$out/ir/pvd-net-$tag.callgrind"
  net_pair "cg-net-$tag" "$mode" "$size" "$ops"
  stop_pvd
  echo "$ops" >"$out/ir/pvd-net-$tag.ops"
done

echo "== network anchor (the host, AF_PACKET over veth pairs on a bridge)"
in_ns ip link add pvhvanchor0 type bridge && in_ns ip link set pvhvanchor0 up || fail "anchor bridge"
for end in a b; do
  in_ns ip link add "host$end" type veth peer name "port$end" || fail "veth"
  in_ns ip link set "port$end" master pvhvanchor0
  in_ns ip link set "port$end" up
  in_ns ip link set "host$end" up
done
for p in "${net_phases[@]}"; do
  read -r mode size ops <<<"$p"
  for _ in 1 2 3; do
    in_ns "$build/bench/anchor/pvhv-anchor-net" hosta hostb "$mode" "$size" "$ops" || exit 1
  done | tee "$out/anchor/net-$mode-$size.out" || fail "anchor net $p"
done

# The back-ends' own instructions per operation, in-process with a fake front-end (bench/blk,
# bench/net): the request or packet path a phase takes, ir_ops times.
echo "== back-ends under callgrind"
backend_ir() {  # backend_ir TAG TOGGLE PROGRAM ARGS...
  local tag=$1 toggle=$2
  shift 2
  valgrind --tool=callgrind --toggle-collect="$toggle" --callgrind-out-file="$out/ir/backend-$tag.callgrind" \
    "$@" >"$out/ir/backend-$tag.stdout" 2>"$out/ir/backend-$tag.stderr" || fail "callgrind $*"
}
cost=$build/bench/blk/pvhv-blk-request-cost path=$build/bench/net/pvhv-netback-path
backend_ir blk-seqwrite-64k-qd1 'blk_bench_*' "$cost" write 64 1 "$ir_ops"
backend_ir blk-seqwrite-64k-qd8 'blk_bench_*' "$cost" write 64 8 $((ir_ops / 8))
backend_ir blk-seqread-64k-qd1 'blk_bench_*' "$cost" read 64 1 "$ir_ops"
backend_ir blk-seqread-64k-qd8 'blk_bench_*' "$cost" read 64 8 $((ir_ops / 8))
backend_ir blk-randread-4k-qd1 'blk_bench_*' "$cost" read 4 1 "$ir_ops"
echo "$ir_ops" >"$out/ir/backend-ops"
backend_ir net-tx-60 net_bench_serve "$path" tx 60 1 "$ir_ops"
backend_ir net-rx-60 net_bench_serve "$path" rx 60 1 "$ir_ops"
backend_ir net-tx-1514 net_bench_serve "$path" tx 1514 1 "$ir_ops"
backend_ir net-rx-1514 net_bench_serve "$path" rx 1514 1 "$ir_ops"

python3 "$here/pv_io_report.py" "$out" || fail "report"
