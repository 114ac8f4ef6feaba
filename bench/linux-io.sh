#!/usr/bin/env bash
# Linux I/O benchmark (bench/LINUX-IO.md): Debian's kernel as a Xen PVH guest under pvd and, as the
# anchor, the same kernel and L2 initramfs under QEMU with virtio, both inside one test-host L1
# (tests/testhost, scenario bench-linux), RUNS times each; bench/linux_io_report.py prints the table
# (medians, pvd/QEMU ratios) and writes results.tsv and plot.svg.
#
#   bench/linux-io.sh [--runs N] [--mib N] [--net-mib N] [--quick] [--l1-cpus N] [--bin-dir DIR] [--out DIR]
#
#   --runs N     runs per hypervisor, order alternating (default 3)
#   --mib N      MiB per disk phase: dd write, dd read (default 32)
#   --net-mib N  MiB nc sends from guest a to guest b (default 16: ~0.5 MB/s under TCG)
#   --quick      --runs 1 --mib 8 --net-mib 4
#   --l1-cpus N  L1's CPU count (default 1: with 2, 7 of 8 QEMU runs stalled and 3 of 7 pvd runs
#                crashed today; LINUX-IO.md, "The test host's CPUs")
#   --bin-dir    where pvd and pvctl are (default build/release/bin; nothing is built here)
#   --out DIR    results (default build/release/bench/linux-io): l1/serial.log, results.tsv,
#                plot.svg, table.md
# Exit 77 when the test host cannot run here (no qemu, no kernel, no pvd/pvctl).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
runs=3 mib=32 net_mib=16 l1_cpus=1 bin_dir=$src/build/release/bin out=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift ;;
    --mib) mib=$2; shift ;;
    --net-mib) net_mib=$2; shift ;;
    --quick) runs=1 mib=8 net_mib=4 ;;
    --l1-cpus) l1_cpus=$2; shift ;;
    --bin-dir) bin_dir=$2; shift ;;
    --out) out=$2; shift ;;
    *) sed -n '2,19p' "$0" >&2; exit 2 ;;
  esac
  shift
done
out=${out:-$src/build/release/bench/linux-io}
for b in pvd pvctl; do
  [[ -x $bin_dir/$b ]] || { echo "SKIP: no $bin_dir/$b (cmake --build --preset release --target pvd pvctl)"; exit 77; }
done
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
mkdir -p "$out"
echo "== bench-linux in the test host (L1: $l1_cpus CPU(s)): $runs runs, $mib MiB per disk phase, $net_mib MiB over the network, pvd from $bin_dir"
rc=0
PVHV_L1_CPUS=$l1_cpus "$src/tests/testhost/run-scenario.sh" --bin "$bin_dir/pvd" --bin "$bin_dir/pvctl" --log-dir "$out/l1" \
  --append "pvhv.bench_runs=$runs pvhv.bench_mib=$mib pvhv.bench_net_mib=$net_mib" bench-linux || rc=$?
[[ $rc -eq 77 ]] && exit 77
[[ -f $out/l1/serial.log ]] || { echo "FAIL: no serial log"; exit 1; }
# The table from whatever runs completed (a failed run is reported by the scenario above).
python3 "$here/linux_io_report.py" "$out/l1/serial.log" "$out" | tee "$out/table.md"
report_rc=${PIPESTATUS[0]}
[[ $rc -ne 0 ]] && echo "FAIL: scenario bench-linux exited $rc (serial log $out/l1/serial.log)"
[[ $rc -eq 0 ]] && rc=$report_rc
exit "$rc"
