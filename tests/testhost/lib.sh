# Shared helpers for the test-host scripts (sourced, not run): cache paths, busybox staging, cpio packing.
# shellcheck shell=bash

PVHV_TESTHOST_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PVHV_CACHE="${PVHV_CACHE_DIR:-$HOME/.cache/pvhv}"
# Exit code meaning "cannot run here" (ctest SKIP_RETURN_CODE).
PVHV_SKIP=77

th_die() { echo "${0##*/}: error: $*" >&2; exit 1; }
th_skip() { echo "${0##*/}: SKIP: $*" >&2; exit "$PVHV_SKIP"; }
th_log() { echo "${0##*/}: $*" >&2; }

# Loads the kernel paths (KVER VMLINUX SYSTEM_MAP MODULES_DIR ...) from fetch-kernel.sh; skips when unreachable.
th_load_kernel() {
  local out rc=0
  out="$("$PVHV_TESTHOST_DIR/fetch-kernel.sh" "$@")" || rc=$?
  if [[ $rc -eq $PVHV_SKIP ]]; then th_skip "Debian kernel not available (see fetch-kernel.sh output above)"; fi
  [[ $rc -eq 0 ]] || th_die "fetch-kernel.sh failed ($rc)"
  eval "$out"
}

# Stages static busybox with one symlink per applet into ROOT (/bin/busybox, /bin/sh, /sbin/...).
th_stage_busybox() {
  local root="$1" bb applet
  bb="$(command -v busybox || true)"
  [[ -n "$bb" ]] || th_skip "busybox not installed (scripts/install-deps.sh --with-testhost)"
  if readelf -d "$bb" 2>/dev/null | grep -q NEEDED; then th_skip "$bb is not static (install busybox-static)"; fi
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,root}
  cp -L "$bb" "$root/bin/busybox"
  for applet in $("$bb" --list-full); do
    [[ -e "$root/$applet" || -L "$root/$applet" ]] && continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -s /bin/busybox "$root/$applet"
  done
}

# Packs directory ROOT into an uncompressed newc cpio OUT (uncompressed: L1/L2 unpack it under emulation).
th_pack_cpio() {
  local root="$1" out="$2"
  mkdir -p "$(dirname "$out")"
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) >"$out.tmp.$$"
  mv "$out.tmp.$$" "$out"
}

# Hash of files and strings, for cache keys.
th_hash() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

# th_module_order MODULE...: the closure of MODULEs over $MODULES_DIR/modules.dep (th_load_kernel sets it),
# dependencies first, as paths relative to MODULES_DIR: the order insmod needs.
th_module_order() {
  local dep="$MODULES_DIR/modules.dep" m rel
  [[ -f "$dep" ]] || th_die "no $dep"
  local -A seen=()
  local -a order=()
  _th_visit() {
    local rel="$1" line i
    local -a ds
    [[ -n "${seen[$rel]:-}" ]] && return
    seen[$rel]=1
    line="$(grep -m1 "^$rel:" "$dep" || true)"
    [[ -n "$line" ]] || th_die "module $rel not in modules.dep"
    read -ra ds <<<"${line#*:}"
    for ((i = ${#ds[@]} - 1; i >= 0; i--)); do _th_visit "${ds[i]}"; done
    order+=("$rel")
  }
  for m in "$@"; do
    rel="$(grep -oE "^[^:]*/${m}\.ko(\.(xz|zst|gz))?:" "$dep" | head -1 | tr -d :)"
    [[ -n "$rel" ]] || th_die "module $m not found in $dep"
    _th_visit "$rel"
  done
  printf '%s\n' "${order[@]}"
}

# th_stage_modules ROOT LIST MODULE...: copies MODULEs and their dependencies, decompressed (busybox insmod
# takes plain .ko), to ROOT/lib/modules/$KVER/ and writes their paths in load order to ROOT/LIST.
th_stage_modules() {
  local root="$1" list="$2" rel name
  shift 2
  mkdir -p "$root/lib/modules/$KVER" "$root/$(dirname "$list")"
  : >"$root/$list"
  while read -r rel; do
    name="$(basename "$rel")"
    case "$name" in
      *.ko.xz) xz -dc "$MODULES_DIR/$rel" >"$root/lib/modules/$KVER/${name%.xz}" ;;
      *.ko.zst) zstd -dcq "$MODULES_DIR/$rel" >"$root/lib/modules/$KVER/${name%.zst}" ;;
      *.ko.gz) gzip -dc "$MODULES_DIR/$rel" >"$root/lib/modules/$KVER/${name%.gz}" ;;
      *) cp "$MODULES_DIR/$rel" "$root/lib/modules/$KVER/$name" ;;
    esac
    name="${name%.xz}"; name="${name%.zst}"; name="${name%.gz}"
    echo "/lib/modules/$KVER/$name" >>"$root/$list"
  done < <(th_module_order "$@")
}
