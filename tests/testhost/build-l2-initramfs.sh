#!/usr/bin/env bash
# Builds the L2 guest's busybox initramfs: /init prints marker lines (init reached, uname -r, CPU count,
# hypervisor seen) on the console, echoes a typed line with pvhv.echo=1 on its command line, runs
# optional hooks /etc/pvhv-l2.d/*.sh, then powers off
# (poweroff -f: ACPI S5 when the platform has it, otherwise Linux halts all vCPUs).
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
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) th_die "unknown argument: $1" ;;
  esac
done

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
for h in /etc/pvhv-l2.d/*.sh; do
  [ -f "$h" ] || continue
  sh "$h" || rc=$?
  echo "PVHV-L2-HOOK: $h exit=$rc"
done
echo "PVHV-L2-DONE: rc=$rc"
# Linux 6.1 turns this into a halt ("reboot: System halted", every vCPU in cli;hlt) when it has no
# power-off method (no ACPI S5); it does not return either way.
poweroff -f
EOF
}

key="$( { init_script; busybox --list 2>/dev/null; readlink -f "$(command -v busybox)" | xargs cat 2>/dev/null | sha256sum
          for f in "${files[@]}"; do echo "$f"; cat "${f%%:*}" 2>/dev/null; done; } | sha256sum | cut -c1-16)"
if [[ -f "$out" && "$(cat "$out.key" 2>/dev/null)" == "$key" ]]; then
  echo "$out"; exit 0
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
th_stage_busybox "$stage"
init_script >"$stage/init"
chmod 755 "$stage/init"
mkdir -p "$stage/etc/pvhv-l2.d"
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
