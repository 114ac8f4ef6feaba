# Helpers for scenario scripts running inside L1 (busybox sh; sourced, not a scenario itself).
up() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk "BEGIN{printf \"%.2f\", $2 - $1}"; }
say() { echo "SCENARIO: $*"; }
fail() { echo "SCENARIO-FAIL: $*"; exit "${2:-1}"; }
need() { for f in "$@"; do [ -e "$f" ] || fail "missing $f in the L1 image" 2; done; }
need_cmd() { for c in "$@"; do command -v "$c" >/dev/null || fail "'$c' not in the L1 image (pass it with --bin)" 2; done; }

# timed_out START SECONDS: true when at least SECONDS passed since uptime START (busybox timeout
# returns the child's status, not 124).
timed_out() { awk "BEGIN{exit !($(up) - $1 >= $2 - 0.5)}"; }

# run_logged LOG TIMEOUT CMD...: runs CMD with output to LOG and, prefixed "L2| ", to the console.
# Sets RUN_RC (command's exit code; 124 on timeout) and MARKER_UPTIME (when the L2 marker was printed).
run_logged() {
  log="$1" tmo="$2"; shift 2
  : >"$log"
  rm -f /tmp/.run_rc /tmp/.marker_up
  t_start=$(up)
  { timeout "$tmo" "$@" </dev/null 2>&1; echo $? >/tmp/.run_rc; } | while IFS= read -r line; do
    case "$line" in *PVHV-L2-MARKER*) up >/tmp/.marker_up ;; esac
    echo "$line" >>"$log"
    echo "L2| $line"
  done
  RUN_RC=$(cat /tmp/.run_rc 2>/dev/null || echo 255)
  timed_out "$t_start" "$tmo" && RUN_RC=124
  MARKER_UPTIME=$(cat /tmp/.marker_up 2>/dev/null || true)
}

# The L2 markers every Linux scenario checks (printed by build-l2-initramfs.sh's /init).
check_l2_markers() {
  log="$1"
  grep -q 'PVHV-L2-MARKER: init reached' "$log" || return 1
  say "L2 reported: $(grep -E '^PVHV-L2-(UNAME|CPUS|UPTIME|HYPERVISOR):' "$log" | tr -d '\r' | tr '\n' ' ')"
}

# follow FILE PREFIX: copies FILE's lines (also those appended later) to the console with PREFIX,
# until unfollow. Lets a hung guest's progress show up in the serial log.
follow() {
  { tail -F -n +1 -s 1 "$1" 2>/dev/null & echo $! >>/tmp/.follow_pids; wait; } | sed -e "s/^/$2/" &
}
unfollow() {
  sleep 0.5
  for p in $(cat /tmp/.follow_pids 2>/dev/null); do kill "$p" 2>/dev/null; done
  rm -f /tmp/.follow_pids
}

# stop_on_pattern LOG NAME PATTERN: in the background, destroys domain NAME as soon as LOG matches the
# extended regex PATTERN (a guest that panics early halts for good; waiting for the timeout wastes
# minutes of TCG time). Sets STOPPED_BY_PATTERN=1 in /tmp/.stopped when it fired.
stop_on_pattern() {
  rm -f /tmp/.stopped
  ( while :; do
      if grep -q -E "$3" "$1" 2>/dev/null; then
        sleep 2  # let the rest of the panic text reach the log
        echo 1 >/tmp/.stopped
        pvctl destroy "$2" >/dev/null 2>&1
        exit 0
      fi
      sleep 1
    done ) &
  echo $! >/tmp/.stop_pid
}

# run_pvctl_create CFG NAME TIMEOUT (set STOP_PATTERN to end the guest when its console matches) (L1 cmdline pvhv.guest_timeout=SEC overrides): `pvctl create -F CFG`
# (pvctl starts pvd on demand). pvctl's output (it relays the guest console) streams live as "PVCTL| ",
# pvd's log as "PVD| ". Sets PVCTL_RC (the guest's shutdown reason: 0 poweroff, 1 reboot, 3 crash; 124
# timeout; 125 destroyed; 126 not created), CONSOLE_LOG (pvd's $PVHV_RUNTIME_DIR/console/NAME.log, the
# file the checks read) and PVCTL_SECONDS (create to exit).
run_pvctl_create() {
  cfg="$1" name="$2" tmo="$3"
  for a in $(cat /proc/cmdline); do case "$a" in pvhv.guest_timeout=*) tmo="${a#*=}" ;; esac; done
  export PVHV_RUNTIME_DIR=/run/pvhv
  CONSOLE_LOG="$PVHV_RUNTIME_DIR/console/$name.log"
  say "pvctl create -F $cfg (timeout $tmo s):"
  sed -e 's/^/CFG| /' "$cfg"
  follow "$PVHV_RUNTIME_DIR/pvd.log" "PVD| "
  : >/tmp/work/pvctl.out
  [ -n "${STOP_PATTERN:-}" ] && stop_on_pattern "$CONSOLE_LOG" "$name" "$STOP_PATTERN"
  t0=$(up)
  { timeout "$tmo" pvctl create -F "$cfg" </dev/null 2>&1; echo $? >/tmp/.pvctl_rc; } | while IFS= read -r line; do
    echo "$line" >>/tmp/work/pvctl.out
    echo "PVCTL| $line"
  done
  PVCTL_RC=$(cat /tmp/.pvctl_rc 2>/dev/null || echo 255)
  [ -f /tmp/.stop_pid ] && { kill "$(cat /tmp/.stop_pid)" 2>/dev/null; rm -f /tmp/.stop_pid; }
  t1=$(up)
  timed_out "$t0" "$tmo" && PVCTL_RC=124
  unfollow
  PVCTL_SECONDS=$(elapsed "$t0" "$t1")
  say "pvctl exited $PVCTL_RC after $PVCTL_SECONDS s"
  if [ "$PVCTL_RC" = 124 ]; then
    say "timed out after $tmo s"
    timeout 20 pvctl list 2>&1 | sed -e 's/^/PVCTL| /'
  fi
  if [ ! -f "$CONSOLE_LOG" ]; then
    say "pvd wrote no console log $CONSOLE_LOG; checking pvctl's output instead"
    CONSOLE_LOG=/tmp/work/pvctl.out
  elif ! grep -q 'Linux version' /tmp/work/pvctl.out; then
    sed -e 's/^/L2| /' "$CONSOLE_LOG"  # pvctl did not relay the console: show pvd's copy
  fi
}

# report_xen_boot: after run_pvctl_create of a Xen PVH Linux (xen_cpuid = 1), prints pvd's hypercall
# rewrite, which boot milestones $CONSOLE_LOG shows, the last console lines and any kernel warning.
report_xen_boot() {
  grep -E 'hypercall rewrite|rewrote|System.map' /run/pvhv/pvd.log 2>/dev/null | sed -e 's/^/SCENARIO: pvd: /'
  reached=0 total=0
  while IFS='|' read -r what pattern; do
    total=$((total + 1))
    if grep -q -E "$pattern" "$CONSOLE_LOG"; then
      reached=$((reached + 1)); say "milestone reached: $what"
    else
      say "milestone MISSING: $what"
    fi
  done <<'M'
kernel started|Linux version
Xen detected|Hypervisor detected: Xen
Xen version reported|Xen version
Xen event channels|xen:events|Xen HVM callback vector
Xen timer|installing Xen timer for CPU 0
Xen clocksource|Switched to clocksource xen
xenbus|xenbus|XENBUS
hvc0 console|console .hvc0. enabled
init reached|PVHV-L2-MARKER: init reached
powered off|reboot: Power down
M
  say "boot progress: $reached of $total milestones; last console lines:"
  tail -n 5 "$CONSOLE_LOG" | sed -e "s/^/SCENARIO: last: /"
  grep -E 'WARNING:' "$CONSOLE_LOG" | sort -u | sed -e 's/^/SCENARIO: kernel warning: /'
  grep -q 'reboot: Power down' "$CONSOLE_LOG" ||
    grep -E 'kernel BUG|Kernel panic|RIP:|could not calculate TSC khz' "$CONSOLE_LOG" | head -n 3 |
    sed -e 's/^/SCENARIO: stopped at: /'
  say "L2-TIMES: pvctl create to exit $PVCTL_SECONDS s (pvctl exit $PVCTL_RC)"
}

# check_xen_boot LAST_CPU: what works with the Xen leaves today: both hypercall sites rewritten, Xen
# detected and answering, Xen's pvclock as clocksource, a Xen timer on CPUs 0..LAST_CPU, init
# reached and a clean power-off (pvctl exit 0).
check_xen_boot() {
  grep -q 'rewritten; xen_hypercall_amd.*xen_hypercall_intel' /run/pvhv/pvd.log ||
    fail "pvd did not rewrite both hypercall sites (see PVD| lines)"
  grep -q 'Hypervisor detected: Xen' "$CONSOLE_LOG" || fail "Linux did not detect Xen (xen_cpuid = 1)"
  grep -q 'Xen version 4\.17' "$CONSOLE_LOG" || fail "no XENVER_version answer through the rewritten sites"
  grep -q 'Switched to clocksource xen' "$CONSOLE_LOG" || fail "Linux does not use Xen's pvclock"
  for c in $(seq 0 "$1"); do
    grep -q "installing Xen timer for CPU $c" "$CONSOLE_LOG" || fail "no Xen timer on CPU $c"
  done
  check_l2_markers "$CONSOLE_LOG" || fail "no PVHV-L2-MARKER in $CONSOLE_LOG (pvctl exit $PVCTL_RC)"
  [ "$PVCTL_RC" = 0 ] || fail "pvctl create -F exited $PVCTL_RC (want 0: poweroff)"
}

# xen_guest_cfg NAME CMDLINE [LINE...]: prints an xl.cfg for Debian's kernel as a Xen PVH guest (pvd
# rewrites its hypercall sites from /guest/System.map) with the L2 initramfs: console on hvc0 only
# (each serial line costs L2 time) followed by CMDLINE, 256 MiB (L1 has 2 GiB: room for three
# guests), one vCPU, then each LINE (`disk = [...]`, `vif = [...]`, `on_reboot = "restart"`); every
# on_poweroff/on_reboot/on_crash no LINE sets is "destroy".
xen_guest_cfg() {
  name=$1 cmdline=$2
  shift 2
  echo "name = \"$name\""
  echo 'type = "pvh"'
  echo 'kernel = "/guest/vmlinux"'
  echo 'ramdisk = "/guest/l2.cpio"'
  echo "cmdline = \"console=hvc0 $cmdline\""
  echo 'memory = 256'
  echo 'vcpus = 1'
  echo 'xen_cpuid = 1'
  for line in "$@"; do echo "$line"; done
  for key in on_poweroff on_reboot on_crash; do
    printf '%s\n' "$@" | grep -q "^$key *=" || echo "$key = \"destroy\""
  done
}

# bridge_up NAME [ADDR/PREFIX]: a Linux bridge in L1 (no forwarding delay), up, with ADDR if given; the
# guests' vifs (pvd's netback TAPs) or QEMU's TAPs are attached to it.
bridge_up() {
  brctl addbr "$1" || fail "brctl addbr $1"
  brctl setfd "$1" 0 2>/dev/null
  ip link set "$1" up || fail "ip link set $1 up"
  if [ -n "${2:-}" ]; then ip addr add "$2" dev "$1" || fail "ip addr add $2 dev $1"; fi
  say "bridge $1 up in L1${2:+ with $2}"
}
