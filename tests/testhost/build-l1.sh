#!/usr/bin/env bash
# Builds the L1 test host's initramfs (newc cpio): busybox, the KVM-on-AMD modules, an /init that loads
# them and runs a scenario, our binaries with their shared libraries, guest artifacts and, optionally,
# QEMU with its firmware. Unchanging parts are cached as separate cpio layers and concatenated.
#
# Usage: build-l1.sh [--out FILE] [--bin SRC[:DEST]]... [--file SRC:DEST]... [--scenario NAME|PATH]
#                    [--with-qemu] [--no-guest]
#   --bin       an executable; copied to DEST (default /usr/bin/NAME) plus every library ldd names
#   --file      any file or directory, copied to DEST
#   --scenario  baked in as /scenario.sh (default: chosen at boot by pvhv.scenario=NAME on the cmdline)
#   --with-qemu qemu-system-x86_64 + libraries + firmware (/usr/share/qemu, seabios, ipxe ROMs)
#   --no-guest  leave out the standard guest set (/guest/vmlinux, System.map, l2.cpio, *.cfg)
# Every scenario in scenarios/ is always included under /scenarios; FILE.manifest lists the --bin names
# (and "qemu"), which run-scenario.sh --image checks scenarios' "testhost-needs" against.
# Prints the output path.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

out="$PVHV_CACHE/l1/l1.cpio"
bins=() files=() scenario="" with_qemu=0 with_guest=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --bin) bins+=("$2"); shift 2 ;;
    --file) files+=("$2"); shift 2 ;;
    --scenario) scenario="$2"; shift 2 ;;
    --with-qemu) with_qemu=1; shift ;;
    --no-guest) with_guest=0; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) th_die "unknown argument: $1" ;;
  esac
done
for t in cpio readelf ldd sha256sum; do command -v "$t" >/dev/null || th_skip "'$t' not found"; done

th_load_kernel
layers="$PVHV_CACHE/l1/layers"
mkdir -p "$layers"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Copies ELF SRC to DEST inside ROOT, plus its interpreter and every shared library ldd resolves.
stage_elf() {
  local root="$1" src="$2" dest="$3" lib
  [[ -f "$src" && -x "$src" ]] || th_die "not an executable file: $src"
  mkdir -p "$root/$(dirname "$dest")"
  cp -L "$src" "$root/$dest"
  if readelf -d "$src" 2>/dev/null | grep -q NEEDED; then
    ldd "$src" | grep -q 'not found' && th_die "$src: missing libraries: $(ldd "$src" | grep 'not found' | tr -d '\t' | tr '\n' ' ')"
    while read -r lib; do
      [[ -e "$root/$lib" ]] && continue
      mkdir -p "$root/$(dirname "$lib")"
      cp -L "$lib" "$root/$lib"
    done < <(ldd "$src" | awk '/=> \// {print $3} /^\t\// {print $1}')
    [[ -e "$root/etc/ld.so.cache" ]] || { mkdir -p "$root/etc"; cp /etc/ld.so.cache "$root/etc/"; }
  fi
}

# Modules L1 loads at boot: KVM for AMD SVM (TCG emulates it), tun and bridge for the scenarios' vifs.
l1_modules=(irqbypass ccp kvm kvm-amd tun bridge)

init_script() { cat "$PVHV_TESTHOST_DIR/l1-init.sh"; }

# --- layer 1: busybox + modules + /init (changes with the kernel, busybox or the init script)
base_key="$( { echo "$KVER $KVERSION"; init_script; sha256sum "$(readlink -f "$(command -v busybox)")"; th_module_order "${l1_modules[@]}"; } | sha256sum | cut -c1-16)"
base="$layers/base-$base_key.cpio"
if [[ ! -f "$base" ]]; then
  r="$tmp/base"
  th_stage_busybox "$r"
  mkdir -p "$r/etc/testhost"
  th_stage_modules "$r" /etc/testhost/modules "${l1_modules[@]}"
  init_script >"$r/init"
  chmod 755 "$r/init"
  echo "$KVER" >"$r/etc/testhost/kver"
  th_pack_cpio "$r" "$base"
  th_log "built base layer $(basename "$base") ($(du -h "$base" | cut -f1))"
fi
parts=("$base")

# --- layer 2 (optional): QEMU with its libraries and firmware, as Debian installs it
if [[ $with_qemu -eq 1 ]]; then
  q="$(command -v qemu-system-x86_64 || true)"
  [[ -n "$q" ]] || th_skip "qemu-system-x86_64 not installed (scripts/install-deps.sh --with-testhost)"
  fw_dirs=()
  for d in /usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu; do [[ -d "$d" ]] && fw_dirs+=("$d"); done
  qemu_key="$( { sha256sum "$(readlink -f "$q")"; ldd "$q" | sed "s/ (0x[0-9a-f]*)//"; find "${fw_dirs[@]}" -printf '%p %s %T@\n' | sort; } | sha256sum | cut -c1-16)"
  qlayer="$layers/qemu-$qemu_key.cpio"
  if [[ ! -f "$qlayer" ]]; then
    r="$tmp/qemu"
    mkdir -p "$r"
    stage_elf "$r" "$q" /usr/bin/qemu-system-x86_64
    for d in "${fw_dirs[@]}"; do
      mkdir -p "$r/$d"
      # Dereference: Debian links some ROMs across these directories. Other architectures' firmware
      # and keymaps are not needed by an x86 guest without a display.
      (cd "$d" && find . \( -name keymaps -o -name 'openbios-*' -o -name 'opensbi-*' -o -name 's390-*' \
         -o -name '*.dtb' -o -name 'slof.bin' -o -name 'skiboot.lid' -o -name 'hppa-*' -o -name 'palcode-*' \
         -o -name 'u-boot*' -o -name 'npcm7xx*' -o -name 'vof*' \) -prune -o -print \
         | cpio -pdmL --quiet "$r/$d")
    done
    th_pack_cpio "$r" "$qlayer"
    th_log "built qemu layer $(basename "$qlayer") ($(du -h "$qlayer" | cut -f1))"
  fi
  parts+=("$qlayer")
fi

# --- layer 3 (default): the standard guest set under /guest
if [[ $with_guest -eq 1 ]]; then
  l2="$("$PVHV_TESTHOST_DIR/build-l2-initramfs.sh")"
  gfiles=("$VMLINUX" "$l2" "$PVHV_TESTHOST_DIR"/guest/*)
  [[ -n "$SYSTEM_MAP" ]] && gfiles+=("$SYSTEM_MAP")
  guest_key="$( { for f in "${gfiles[@]}"; do echo "$f"; stat -c '%s %Y' "$f"; done; } | sha256sum | cut -c1-16)"
  glayer="$layers/guest-$guest_key.cpio"
  if [[ ! -f "$glayer" ]]; then
    r="$tmp/guest"
    mkdir -p "$r/guest"
    cp "$VMLINUX" "$r/guest/vmlinux"
    cp "$l2" "$r/guest/l2.cpio"
    [[ -n "$SYSTEM_MAP" ]] && cp "$SYSTEM_MAP" "$r/guest/System.map"
    cp -r "$PVHV_TESTHOST_DIR"/guest/* "$r/guest/"
    th_pack_cpio "$r" "$glayer"
    th_log "built guest layer $(basename "$glayer") ($(du -h "$glayer" | cut -f1))"
  fi
  parts+=("$glayer")
fi

# --- layer 4 (every run): binaries, extra files, scenarios
r="$tmp/run"
mkdir -p "$r/scenarios"
for b in "${bins[@]}"; do
  src="${b%%:*}" dest="/usr/bin/$(basename "${b%%:*}")"
  [[ "$b" == *:* ]] && dest="${b#*:}"
  stage_elf "$r" "$src" "$dest"
done
for f in "${files[@]}"; do
  [[ "$f" == *:* ]] || th_die "--file $f: expected SRC:DEST"
  src="${f%%:*}" dest="${f#*:}"
  [[ -e "$src" ]] || th_die "--file $f: $src does not exist"
  mkdir -p "$r/$(dirname "$dest")"
  cp -rL "$src" "$r/$dest"
done
cp "$PVHV_TESTHOST_DIR"/scenarios/*.sh "$r/scenarios/"
if [[ -n "$scenario" ]]; then
  s="$scenario"
  [[ -f "$s" ]] || s="$PVHV_TESTHOST_DIR/scenarios/$scenario.sh"
  [[ -f "$s" ]] || th_die "no scenario $scenario"
  cp "$s" "$r/scenario.sh"
  chmod 755 "$r/scenario.sh"
  mkdir -p "$r/etc/testhost"
  basename "$s" .sh >"$r/etc/testhost/scenario-name"
fi
th_pack_cpio "$r" "$tmp/run.cpio"
parts+=("$tmp/run.cpio")

mkdir -p "$(dirname "$out")"
cat "${parts[@]}" >"$out.tmp"
mv "$out.tmp" "$out"
# What the image holds, for run-scenario.sh --image to check a scenario's "testhost-needs".
{ for b in "${bins[@]}"; do
    dest="/usr/bin/$(basename "${b%%:*}")"; [[ "$b" == *:* ]] && dest="${b#*:}"; basename "$dest"
  done
  if [[ $with_qemu -eq 1 ]]; then echo qemu; fi; } >"$out.manifest"
th_log "built $out ($(du -h "$out" | cut -f1): ${parts[*]##*/})"
echo "$out"
