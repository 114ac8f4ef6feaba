# Helpers for the robustness scenarios (linux-xen-destroy-io, linux-xen-three, linux-xen-pvd-kill): several
# Xen PVH Linux guests side by side, looked at from outside. Sourced after common.sh; not a scenario.
# Each guest's `pvctl create -F` runs in the background: its output (the console relayed, then pvctl's
# last words) in /tmp/work/NAME.out, its exit code in /tmp/work/NAME.rc, followed live as "L2-NAME| ".
export PVHV_RUNTIME_DIR=/run/pvhv
R_TIMEOUT=400
for a in $(cat /proc/cmdline); do case "$a" in pvhv.guest_timeout=*) R_TIMEOUT="${a#*=}" ;; esac; done
R_NET=198.51.100   # L1 has no NIC: this subnet (TEST-NET-2) exists only on xenbr0
R_L1_IP=$R_NET.254

# r_cfg NAME CMDLINE-EXTRA [IMAGE [MAC]]: writes /tmp/work/NAME.cfg (common.sh's xen_guest_cfg, quiet) with
# a raw disk IMAGE as xvda and, with MAC, a vif on xenbr0.
r_cfg() {
  xen_guest_cfg "$1" "quiet panic=-1 $2" \
    ${3:+"disk = ['format=raw, vdev=xvda, access=rw, target=$3']"} \
    ${4:+"vif = ['bridge=xenbr0, mac=$4']"} >"/tmp/work/$1.cfg"
}

# r_image PATH: a fresh 64 MiB raw image.
r_image() { rm -f "$1" && truncate -s 64M "$1" || fail "truncate $1" 2; }

# r_start NAME: `pvctl create -F /tmp/work/NAME.cfg` in the background; returns once pvctl list shows
# NAME (so that the next pvctl finds the pvd this one started instead of racing to start another).
r_start() {
  rm -f "/tmp/work/$1.rc"
  sed -e "s/^/CFG| /" "/tmp/work/$1.cfg"
  ( timeout "$R_TIMEOUT" pvctl create -F "/tmp/work/$1.cfg" </dev/null >"/tmp/work/$1.out" 2>&1
    echo $? >"/tmp/work/$1.rc" ) &
  follow "/tmp/work/$1.out" "L2-$1| "
  i=0
  until pvctl list 2>/dev/null | grep -q "^$1 "; do
    i=$((i + 1)); [ $i -gt 60 ] && break
    [ -f "/tmp/work/$1.rc" ] && break
    sleep 1
  done
}

# r_wait_line NAME PATTERN SECONDS: true once NAME's output shows PATTERN (extended regex); false after
# SECONDS or once its pvctl exited without it.
r_wait_line() {
  i=0
  until grep -q -E "$2" "/tmp/work/$1.out" 2>/dev/null; do
    i=$((i + 1))
    [ $i -gt "$3" ] && return 1
    [ -f "/tmp/work/$1.rc" ] && ! grep -q -E "$2" "/tmp/work/$1.out" && return 1
    sleep 1
  done
}

# r_wait_exit NAME SECONDS: waits for NAME's pvctl to exit; sets R_RC (124: still running).
r_wait_exit() {
  i=0
  while [ ! -f "/tmp/work/$1.rc" ] && [ $i -lt "$2" ]; do sleep 1; i=$((i + 1)); done
  R_RC=$(cat "/tmp/work/$1.rc" 2>/dev/null || echo 124)
}

# r_why NAME: the first failure line of NAME's guest, for a SCENARIO-FAIL message.
r_why() {
  grep -m1 -E 'PVHV-L2-R[A-Z0-9]*-FAIL|Kernel panic|kernel BUG|^pvctl:' "/tmp/work/$1.out" 2>/dev/null | tr -d '\r'
}

# r_bridge_up: xenbr0 in L1 with $R_L1_IP/24.
r_bridge_up() { bridge_up xenbr0 "$R_L1_IP/24"; }

# r_vifs: the vif TAPs present in L1 (pvd names them vif<domid>.<devid>); r_ports: xenbr0's ports.
r_vifs() { ip -o link 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^vif' | tr '\n' ' '; }
r_ports() { ls /sys/class/net/xenbr0/brif 2>/dev/null | tr '\n' ' '; }

# r_pvd_lines LEVEL: pvd's log lines at LEVEL (error, warning).
r_pvd_lines() { grep -E " pvd $1: " /run/pvhv/pvd.log 2>/dev/null; }

# r_pvd_pid: the pid of the pvd serving /run/pvhv (L1 runs one pvd at a time).
r_pvd_pid() { pidof pvd; }

# r_sampler_start SECONDS / r_sampler_stop: every SECONDS, one "SCENARIO: sample:" line with L1's load,
# the CPU time (ticks) pvd's busiest threads used since the last sample, and the domains pvctl lists:
# where the time goes when guests seem to stall.
r_sampler_start() {
  ( prev=/tmp/work/.ticks.prev; : >"$prev"
    while :; do
      sleep "$1"
      pid=$(pidof pvd) || continue
      for t in /proc/"$pid"/task/*; do
        echo "$(cat "$t/comm" 2>/dev/null | tr ' ' _) ${t##*/} $(sed -e 's/^.*) //' "$t/stat" 2>/dev/null | awk '{print $12 + $13}')"
      done >/tmp/work/.ticks.now
      busy=$(awk 'NR == FNR { p[$2] = $3; next } { d = $3 - p[$2]; if (d > 0) print d, $1 }' "$prev" /tmp/work/.ticks.now |
             sort -rn | head -n 4 | awk '{printf "%s=%s ", $2, $1}')
      cp /tmp/work/.ticks.now "$prev"
      say "sample: load $(cut -d' ' -f1-3 /proc/loadavg); pvd threads (ticks): $busy; domains: $(pvctl list 2>/dev/null | awk 'NR > 1 {printf "%s ", $1}')"
    done ) &
  echo $! >/tmp/work/.sampler
}
r_sampler_stop() { kill "$(cat /tmp/work/.sampler 2>/dev/null)" 2>/dev/null; }
