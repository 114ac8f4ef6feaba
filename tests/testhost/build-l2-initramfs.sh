#!/usr/bin/env bash
# Builds the L2 guest's busybox initramfs: /init prints marker lines (init reached, uname -r, CPU count,
# hypervisor seen) on the console, loads the front-end modules (Xen's blkfront and netfront, virtio's for
# the QEMU anchor, ext4: the closure over the kernel's modules.dep), echoes a typed line with pvhv.echo=1
# on its command line, runs the scripts named by pvhv.run=NAME[,NAME...] (tests/testhost/l2/NAME.sh,
# baked in as /l2/NAME.sh) and optional hooks /etc/pvhv-l2.d/*.sh, gives a shell on the console with
# pvhv.shell=1, then powers off (poweroff -f: ACPI S5 when the platform has it, otherwise Linux halts
# all vCPUs).
#
# Usage: build-l2-initramfs.sh [--out FILE] [--file SRC:DEST]...
#   default output: $PVHV_CACHE_DIR/l2/l2.cpio (rebuilt only when its inputs change); the path is printed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

out="$PVHV_CACHE/l2/l2.cpio"
files=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --file) files+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) th_die "unknown argument: $1" ;;
  esac
done

# Front-ends a guest may need; each one that does not fit the platform (Xen's on QEMU, virtio's under pvd
# find no device but load) fails to load quietly. crc32c_generic before ext4: ext4 asks the crypto API
# for "crc32c" at mount time (a softdep, not in modules.dep; without it every mount fails with "Cannot
# load crc32c driver").
l2_modules=(xen-blkfront xen-netfront virtio_pci virtio_blk virtio_net crc32c_generic ext4)
th_load_kernel --no-system-map

init_script() {
  cat <<'EOF'
#!/bin/sh
# L2 guest init (pvhv test host): report, run hooks, power off.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "PVHV-L2-MARKER: init reached"
echo "PVHV-L2-UNAME: $(uname -r)"
echo "PVHV-L2-CPUS: $(grep -c '^processor' /proc/cpuinfo)"
echo "PVHV-L2-UPTIME: $(cut -d' ' -f1 /proc/uptime)"
hv="$(dmesg | grep -m1 -o 'Hypervisor detected: .*')"
echo "PVHV-L2-HYPERVISOR: ${hv:-none}"
loaded="" failed=""
for m in $(cat /etc/pvhv-l2-modules); do
  n=$(basename "$m" .ko)
  if insmod "$m" 2>/dev/null; then loaded="$loaded $n"; else failed="$failed $n"; fi
done
echo "PVHV-L2-MODULES: loaded:${loaded:- none} not loaded:${failed:- none}"
# pvhv.echo=1 (scenario linux-plain-input): read a line typed into the console (pvctl), echo it
# uppercased.
if grep -q 'pvhv.echo=1' /proc/cmdline; then
  echo "PVHV-L2-INPUT: ready"
  if read -t 120 line; then
    echo "PVHV-L2-ECHO: $(echo "$line" | tr 'a-z' 'A-Z')"
  else
    echo "PVHV-L2-ECHO-TIMEOUT"
  fi
fi
rc=0
# pvhv.run=NAME[,NAME...]: the scenario's scripts in the guest, in order; each reports its own markers.
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    pvhv.run=*)
      for s in $(echo "${arg#pvhv.run=}" | tr ',' ' '); do
        if [ -f "/l2/$s.sh" ]; then
          src=0; sh "/l2/$s.sh" || src=$?
          [ "$src" = 0 ] || rc=$src
          echo "PVHV-L2-RUN: $s exit=$src"
        else
          echo "PVHV-L2-RUN: $s missing"; rc=127
        fi
      done ;;
  esac
done
for h in /etc/pvhv-l2.d/*.sh; do
  [ -f "$h" ] || continue
  sh "$h" || rc=$?
  echo "PVHV-L2-HOOK: $h exit=$rc"
done
echo "PVHV-L2-DONE: rc=$rc"
# pvhv.shell=1: an interactive shell on the console (the last console= on the command line, hvc0 for
# a Xen guest); leaving it powers off.
if grep -q 'pvhv.shell=1' /proc/cmdline; then
  echo "PVHV-L2-SHELL: ready"
  setsid cttyhack sh
fi
# Linux 6.1 turns this into a halt ("reboot: System halted", every vCPU in cli;hlt) when it has no
# power-off method (no ACPI S5); it does not return either way.
poweroff -f
EOF
}

# /sbin/poweroff and /sbin/reboot. Busybox's would only signal PID 1 without -f, and PID 1 is /init, a
# shell script that ignores the signals. Linux runs them when the toolstack asks through xenstore
# control/shutdown (drivers/xen/manage.c: orderly_poweroff() runs /sbin/poweroff, orderly_reboot()
# /sbin/reboot, without arguments): with no init daemon to ask, sync and act at once, and say so
# ("PVHV-L2-END: poweroff"). Busybox's ash runs its own applets for `poweroff -f` in /init or typed in
# the shell, so those never come here (and a typed `poweroff` without -f does nothing).
end_script() {
  cat <<'EOF'
#!/bin/sh
what=$(basename "$0")
echo "PVHV-L2-END: $what${*:+ $*}" >/dev/console
sync
exec /bin/busybox "$what" -f
EOF
}

key="$( { init_script; end_script; busybox --list 2>/dev/null; readlink -f "$(command -v busybox)" | xargs cat 2>/dev/null | sha256sum
          echo "$KVER $KVERSION"; th_module_order "${l2_modules[@]}"
          for f in "$PVHV_TESTHOST_DIR"/l2/*; do echo "$f"; cat "$f"; done
          for f in "${files[@]}"; do echo "$f"; cat "${f%%:*}" 2>/dev/null; done; } | sha256sum | cut -c1-16)"
if [[ -f "$out" && "$(cat "$out.key" 2>/dev/null)" == "$key" ]]; then
  echo "$out"; exit 0
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
th_stage_busybox "$stage"
init_script >"$stage/init"
chmod 755 "$stage/init"
for c in poweroff reboot; do
  rm -f "$stage/sbin/$c"
  end_script >"$stage/sbin/$c"
  chmod 755 "$stage/sbin/$c"
done
mkdir -p "$stage/etc/pvhv-l2.d" "$stage/l2"
th_stage_modules "$stage" /etc/pvhv-l2-modules "${l2_modules[@]}"
cp "$PVHV_TESTHOST_DIR"/l2/* "$stage/l2/"
for f in "${files[@]}"; do
  src="${f%%:*}" dest="${f#*:}"
  [[ -e "$src" && "$f" == *:* ]] || th_die "--file $f: expected SRC:DEST with an existing SRC"
  mkdir -p "$stage/$(dirname "$dest")"
  cp -a "$src" "$stage/$dest"
done
th_pack_cpio "$stage" "$out"
echo "$key" >"$out.key"
th_log "built $out ($(du -h "$out" | cut -f1))"
echo "$out"
