#!/usr/bin/env bash
# Runs one test-host scenario: builds (or reuses) the L1 image, boots it under QEMU TCG (-cpu max, which
# emulates AMD SVM) from the uncompressed vmlinux (PVH direct boot), captures the serial log, times the
# phases and exits with the scenario's TESTHOST-RESULT.
#
# Usage: run-scenario.sh [options] SCENARIO        (SCENARIO: a name in scenarios/ or a path)
#   --bin SRC[:DEST]   add an executable (+ its libraries) to L1 (default DEST /usr/bin/NAME)
#   --file SRC:DEST    add a file or directory to L1
#   --with-qemu        add QEMU to L1 (implied by "# testhost-needs: qemu" in the scenario)
#   --timeout SEC      wall-clock limit for the whole L1 run (default: scenario's "# testhost-timeout:" or 900)
#   --log-dir DIR      where l1.cpio, serial.log and serial.tlog go (default $PVHV_CACHE_DIR/run/SCENARIO)
#   --image FILE       boot a prebuilt L1 image (build-l1.sh without --scenario, e.g. ctest's
#                      testhost.l1-image) and pick the scenario with pvhv.scenario=NAME: the image is
#                      built once for a whole suite; --bin/--file/--with-qemu then belong to build-l1.sh
#   --append ARGS      extra L1 kernel command-line arguments (e.g. pvhv.l2quiet=1)
#   --bzimage          boot L1 from vmlinuz instead of vmlinux (slower: decompression runs under TCG)
#   --shell            interactive: serial on this terminal, shell in L1 after the scenario
# Environment (README.md, "Flaky test host", has the runs behind the defaults):
#   PVHV_L1_CPUS       L1's CPU count (default 1: with 2, L2s of pvd and QEMU alike stalled or
#                      crashed in most runs; README "Flaky test host")
#   PVHV_L1_ACCEL      QEMU -accel for L1 (default tcg,thread=single: one TCG thread runs all of L1's
#                      CPUs; multi-threaded TCG crashed SMP Xen guests in 4 of 6 runs, this 0 of 5;
#                      plain SMP guests stalled 2 of 3 times with it, never multi-threaded)
#   PVHV_L1_CPU_MODEL  QEMU -cpu for L1 (default max,-xsave: TCG's nested SVM lets L2's XSETBV by
#                      L1's KVM, so CPUID 0xD stays stale and Linux warns "XSAVE consistency problem")
# Exit: the scenario's code; 77 when it cannot run here (no qemu, kernel unreachable, a needed --bin missing);
#       1 on timeout or when L1 printed no TESTHOST-RESULT.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

bins=() files=() with_qemu=0 timeout="" log_dir="" append="" bzimage=0 shell=0 scen="" image=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) bins+=("$2"); shift 2 ;;
    --file) files+=("$2"); shift 2 ;;
    --with-qemu) with_qemu=1; shift ;;
    --timeout) timeout="$2"; shift 2 ;;
    --log-dir) log_dir="$2"; shift 2 ;;
    --image) image="$2"; shift 2 ;;
    --append) append="$2"; shift 2 ;;
    --bzimage) bzimage=1; shift ;;
    --shell) shell=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    -*) th_die "unknown option: $1" ;;
    *) [[ -z "$scen" ]] || th_die "one scenario at a time"; scen="$1"; shift ;;
  esac
done
[[ -n "$scen" ]] || th_die "no scenario given (see --help)"
sfile="$scen"
[[ -f "$sfile" ]] || sfile="$PVHV_TESTHOST_DIR/scenarios/$scen.sh"
[[ -f "$sfile" ]] || th_die "no scenario '$scen' (looked for $sfile)"
name="$(basename "$sfile" .sh)"

if [[ -n "$image" ]]; then
  [[ ${#bins[@]} -eq 0 && ${#files[@]} -eq 0 && $with_qemu -eq 0 ]] ||
    th_die "--image: --bin, --file and --with-qemu go to build-l1.sh when the image is built"
  # A missing image means its build was skipped (no kernel from the archive): skip as it did.
  [[ -f "$image" ]] || th_skip "no L1 image $image (its build was skipped or failed)"
fi

# Scenario header directives: "# testhost-needs: qemu pvd pvctl", "# testhost-timeout: SEC".
# With --image, what the image holds is listed in its manifest (written by build-l1.sh).
needs="$(sed -n 's/^# testhost-needs: *//p' "$sfile" | tr '\n' ' ')"
for n in $needs; do
  if [[ -n "$image" ]]; then
    grep -qx "$n" "$image.manifest" 2>/dev/null || th_skip "scenario $name needs '$n', which image $image lacks"
    continue
  fi
  case "$n" in
    qemu) with_qemu=1 ;;
    *)
      have=0
      for b in "${bins[@]}"; do [[ "$(basename "${b%%:*}")" == "$n" || "${b#*:}" == */"$n" ]] && have=1; done
      [[ $have -eq 1 ]] || th_skip "scenario $name needs '$n' (pass --bin PATH/$n; not built yet?)"
      ;;
  esac
done
[[ -n "$timeout" ]] || timeout="$(sed -n 's/^# testhost-timeout: *//p' "$sfile" | head -1)"
timeout="${timeout:-900}"

command -v qemu-system-x86_64 >/dev/null || th_skip "qemu-system-x86_64 not installed (scripts/install-deps.sh --with-testhost)"
th_load_kernel
log_dir="${log_dir:-$PVHV_CACHE/run/$name}"
mkdir -p "$log_dir"
log="$log_dir/serial.log" tlog="$log_dir/serial.tlog"

t_build0=$EPOCHREALTIME
if [[ -n "$image" ]]; then
  l1_image="$image"
  append="pvhv.scenario=$name${append:+ $append}"
else
  l1_image="$log_dir/l1.cpio"
  args=(--out "$l1_image" --scenario "$sfile")
  for b in "${bins[@]}"; do args+=(--bin "$b"); done
  for f in "${files[@]}"; do args+=(--file "$f"); done
  [[ $with_qemu -eq 1 ]] && args+=(--with-qemu)
  rc=0
  "$PVHV_TESTHOST_DIR/build-l1.sh" "${args[@]}" >/dev/null || rc=$?
  [[ $rc -eq $PVHV_SKIP ]] && exit "$PVHV_SKIP"
  [[ $rc -eq 0 ]] || th_die "build-l1.sh failed ($rc)"
fi
t_build1=$EPOCHREALTIME

kernel="$VMLINUX"
[[ $bzimage -eq 1 ]] && kernel="$VMLINUZ"
cmdline="console=ttyS0 quiet panic=-1${append:+ $append}"  # the scenario is baked in as /scenario.sh
[[ $shell -eq 1 ]] && cmdline="$cmdline pvhv.shell=1"
qemu=(qemu-system-x86_64 -accel "${PVHV_L1_ACCEL:-tcg,thread=single}" -cpu "${PVHV_L1_CPU_MODEL:-max,-xsave}" -m 2048 -smp "${PVHV_L1_CPUS:-1}" -nographic -no-reboot -nodefaults
      -no-user-config -kernel "$kernel" -initrd "$l1_image" -append "$cmdline")
th_log "scenario $name: image $(du -h "$l1_image" | cut -f1) ready in $(awk "BEGIN{printf \"%.1f\", $t_build1 - $t_build0}") s; booting L1 (timeout ${timeout}s); serial log: $log"

result_of() { sed -n 's/.*TESTHOST-RESULT: \([0-9]*\).*/\1/p' "$1" | tail -1; }

if [[ $shell -eq 1 ]]; then
  "${qemu[@]}" -serial mon:stdio | tee "$log"
  result="$(result_of "$log")"
  exit "${result:-1}"
fi

# Every serial line goes to serial.log as is and to serial.tlog with the host's seconds since QEMU started.
t0=$EPOCHREALTIME
set +e
{ timeout --foreground -k 10 "$timeout" "${qemu[@]}" -serial stdio </dev/null 2>&1; echo "QEMU-EXIT: $?"; } \
  | {
    : >"$log"; : >"$tlog"
    while IFS= read -r line; do
      line="${line%$'\r'}"
      cs=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 10000 ))
      printf -v rel '%4d.%02d' $((cs / 100)) $((cs % 100))
      if [[ "$line" == QEMU-EXIT:* ]]; then echo "$line" >"$log_dir/qemu.exit"; continue; fi
      printf '%s\n' "$line" >>"$log"
      printf '[%s] %s\n' "$rel" "$line" >>"$tlog"
      if [[ -n "${TESTHOST_VERBOSE:-}" ]]; then
        printf '[%s] %s\n' "$rel" "$line" >&2
      else
        case "$line" in
          *TESTHOST-PHASE:*|*TESTHOST-RESULT:*|*TESTHOST-ERROR:*|SCENARIO*|*L2-TIMES*)
            printf '[%s] %s\n' "$rel" "$line" >&2 ;;
        esac
      fi
    done
  }
set -e
t_end=$EPOCHREALTIME
qemu_rc="$(sed -n 's/^QEMU-EXIT: //p' "$log_dir/qemu.exit" 2>/dev/null || true)"

# Host-side phase times from the timestamped log; L1's own uptimes from the lines themselves.
stamp() { { grep -m1 -F "$1" "$tlog" || true; } | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'; }
t_init="$(stamp 'TESTHOST-PHASE: init')"
t_mod="$(stamp 'TESTHOST-PHASE: modules-loaded')"
t_sdone="$(stamp 'TESTHOST-PHASE: scenario-done')"
guest_init="$(sed -n 's/.*TESTHOST-PHASE: init uptime=\([0-9.]*\).*/\1/p' "$log" | head -1)"
guest_mod="$(sed -n 's/.*TESTHOST-PHASE: modules-loaded .*took=\([0-9.]*\).*/\1/p' "$log" | head -1)"
diff_s() { if [[ -n "$1" && -n "$2" ]]; then awk "BEGIN{printf \"%.2f s\", $2 - $1}"; else echo "n/a"; fi; }
secs() { if [[ -n "$1" ]]; then echo "$1 s"; else echo "n/a"; fi; }
echo "run-scenario: $name timings (host wall clock since QEMU start; L1's own uptime in parentheses):"
echo "  L1 boot to /init     $(secs "$t_init") ($(secs "$guest_init"))"
echo "  module loading       $(diff_s "$t_init" "$t_mod") ($(secs "$guest_mod"))"
echo "  scenario             $(diff_s "$t_mod" "$t_sdone")"
echo "  total (QEMU run)     $(diff_s "$t0" "$t_end"); image build $(diff_s "$t_build0" "$t_build1")"

result="$(result_of "$log")"
if [[ -z "$result" ]]; then
  if [[ "$qemu_rc" == 124 || "$qemu_rc" == 137 ]]; then
    echo "run-scenario: $name: TIMEOUT after ${timeout}s without TESTHOST-RESULT (serial log: $log)" >&2
  else
    echo "run-scenario: $name: L1 ended (QEMU exit ${qemu_rc:-?}) without TESTHOST-RESULT (serial log: $log)" >&2
  fi
  echo "--- last lines of $log:" >&2
  tail -n 25 "$log" >&2
  exit 1
fi
if [[ "$result" != 0 ]]; then
  echo "run-scenario: $name: FAILED, TESTHOST-RESULT $result (serial log: $log)" >&2
  grep -E 'SCENARIO-FAIL|TESTHOST-ERROR' "$log" >&2 || true
  # 77 is reserved for "cannot run here"; a scenario that fails with it still fails.
  [[ "$result" == "$PVHV_SKIP" ]] && exit 1
else
  echo "run-scenario: $name: PASSED (serial log: $log)"
fi
exit "$result"
