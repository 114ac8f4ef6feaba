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
