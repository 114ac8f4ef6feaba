# Helpers for the scripts the L2 guest runs (pvhv.run=NAME runs /l2/NAME.sh; they source this file).
# Busybox sh inside the guest; every line a test checks starts with "PVHV-L2-".

mark() { echo "PVHV-L2-$*"; }

# cmdline_arg KEY: the value of pvhv.KEY=VALUE on the guest's command line (exit 1 when absent).
cmdline_arg() {
  for a in $(cat /proc/cmdline); do
    case "$a" in "pvhv.$1="*) echo "${a#*=}"; return 0 ;; esac
  done
  return 1
}

# wait_for PATH SECONDS: true once PATH exists (front-ends attach asynchronously, after xenbus probes).
wait_for() {
  i=0
  while [ ! -e "$1" ]; do
    i=$((i + 1))
    [ "$i" -gt $(($2 * 10)) ] && return 1
    usleep 100000
  done
}

# eth0_up ADDR/PREFIX SECONDS: waits up to SECONDS for eth0 (xen-netfront's or virtio-net's: it
# appears once the front-end has connected), gives it ADDR and brings it up; false if any step fails.
eth0_up() {
  wait_for /sys/class/net/eth0 "$2" || return 1
  ip link set lo up
  ip addr add "$1" dev eth0 && ip link set eth0 up
}
