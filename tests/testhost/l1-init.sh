#!/bin/sh
# /init of the L1 test host (installed by build-l1.sh): mount, load the KVM modules, run one scenario,
# report "TESTHOST-RESULT: <code>" on the serial console and power off.
# Kernel command line: pvhv.scenario=NAME (runs /scenarios/NAME.sh; default /scenario.sh), pvhv.shell=1
# (interactive shell on the console after the scenario instead of powering off).
export PATH=/usr/local/bin:/usr/bin:/usr/sbin:/bin:/sbin
export HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
ip link set lo up 2>/dev/null

up() { cut -d' ' -f1 /proc/uptime; }
t_init=$(up)
echo
echo "TESTHOST-PHASE: init uptime=$t_init"

finish() {
  echo "TESTHOST-RESULT: $1"
  if grep -q 'pvhv.shell=1' /proc/cmdline; then
    echo "TESTHOST: pvhv.shell=1, starting a shell (exit it to power off)"
    setsid cttyhack sh
  fi
  sync
  poweroff -f
  sleep 5
  echo "TESTHOST: poweroff failed"
  while :; do sleep 3600; done
}

for m in $(cat /etc/testhost/modules); do
  if ! out=$(insmod "$m" 2>&1); then
    echo "TESTHOST-ERROR: insmod $m failed: $out"
    dmesg | tail -5
    finish 90
  fi
done
t_mod=$(up)
if [ ! -c /dev/kvm ]; then
  echo "TESTHOST-ERROR: /dev/kvm missing after loading $(cat /etc/testhost/modules | tr '\n' ' ')"
  dmesg | grep -i -E 'kvm|svm' | tail -5
  finish 91
fi
echo "TESTHOST-PHASE: modules-loaded uptime=$t_mod took=$(awk "BEGIN{printf \"%.2f\", $t_mod - $t_init}")"
echo "TESTHOST-INFO: kernel $(uname -r), $(grep -c '^processor' /proc/cpuinfo) cpus, $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB, cpu flags: $(grep -m1 '^flags' /proc/cpuinfo | grep -o -w -E 'svm|npt|nrip_save|vgif|avic|x2apic' | tr '\n' ' ')"

scenario=/scenario.sh
name=$(cat /etc/testhost/scenario-name 2>/dev/null || echo scenario)
for arg in $(cat /proc/cmdline); do
  case "$arg" in pvhv.scenario=*) name="${arg#pvhv.scenario=}"; scenario="/scenarios/$name.sh" ;; esac
done
if [ ! -f "$scenario" ]; then
  echo "TESTHOST-ERROR: no scenario $scenario"
  finish 92
fi
echo "TESTHOST-PHASE: scenario-start name=$name uptime=$(up)"
mkdir -p /tmp/work
cd /tmp/work || finish 92
sh "$scenario"
rc=$?
t_end=$(up)
echo "TESTHOST-PHASE: scenario-done uptime=$t_end took=$(awk "BEGIN{printf \"%.2f\", $t_end - $t_mod}")"
finish "$rc"
