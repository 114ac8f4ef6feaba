#!/usr/bin/env bash
# Fetches Debian 12's current amd64 kernel into the pvhv cache and derives what the test host needs:
# vmlinuz, an uncompressed ELF vmlinux (PVH note checked), the real System.map (from the -dbg package),
# config and the modules tree (with modules.dep). Idempotent; prints the paths as sourceable KEY=VALUE lines.
#
# Usage: fetch-kernel.sh [--no-system-map]
#   PVHV_CACHE_DIR   cache root (default ~/.cache/pvhv)
#   PVHV_KERNEL_PKG  pin the package (e.g. linux-image-6.1.0-56-amd64) instead of following linux-image-amd64
# Exit codes: 0 ok, 77 the Debian archive cannot be reached and nothing usable is cached, 1 other errors.
set -euo pipefail

want_map=1
for a in "$@"; do
  case "$a" in
    --no-system-map) want_map=0 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "fetch-kernel: unknown argument: $a" >&2; exit 1 ;;
  esac
done

cache="${PVHV_CACHE_DIR:-$HOME/.cache/pvhv}"
kroot="$cache/kernel"
mkdir -p "$kroot"
log() { echo "fetch-kernel: $*" >&2; }
die() { echo "fetch-kernel: error: $1" >&2; exit "${2:-1}"; }

for tool in apt-cache apt-get dpkg-deb readelf depmod xz; do
  command -v "$tool" >/dev/null || die "'$tool' not found (run scripts/install-deps.sh --with-testhost)" 77
done

emit() {  # print the products of a finished kernel directory
  local d="$1"
  # shellcheck disable=SC1091
  source "$d/kernel.env"
  local k
  for k in KVER KPKG KVERSION VMLINUZ VMLINUX SYSTEM_MAP CONFIG MODULES_DIR; do
    printf '%s=%q\n' "$k" "${!k}"
  done
}

resolve_pkg() {  # name of the versioned image package linux-image-amd64 points at
  apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -1
}

pkg="${PVHV_KERNEL_PKG:-}"
if [[ -z "$pkg" ]]; then
  pkg="$(resolve_pkg)"
  if [[ -z "$pkg" ]]; then
    log "apt lists do not know linux-image-amd64; running apt-get update"
    apt-get update -qq >/dev/null 2>&1 || log "apt-get update failed"
    pkg="$(resolve_pkg)"
  fi
fi
if [[ -z "$pkg" ]]; then
  if [[ -f "$kroot/current/kernel.env" ]]; then
    log "cannot resolve linux-image-amd64 (archive unreachable?); using the cached kernel"
    emit "$kroot/current"; exit 0
  fi
  die "cannot resolve linux-image-amd64 from the Debian archive (no apt lists, no network?) and no kernel is cached in $kroot" 77
fi

ver="$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')"
[[ -n "$ver" && "$ver" != "(none)" ]] || die "apt knows no candidate version of $pkg"
kver="${pkg#linux-image-}"
dir="$kroot/${kver}_${ver}"
if [[ -f "$dir/kernel.env" && ( $want_map -eq 0 || -s "$dir/System.map" ) ]]; then
  ln -sfn "$(basename "$dir")" "$kroot/current"
  emit "$dir"; exit 0
fi

work="$(mktemp -d "$kroot/.work.XXXXXX")"
trap 'rm -rf "$work"' EXIT

download() {  # apt-get download PKG into $work; the .deb path on stdout
  local p="$1"
  log "downloading $p $ver"
  if ! (cd "$work" && apt-get download -q "$p=$ver" >"$work/apt.log" 2>&1); then
    cat "$work/apt.log" >&2
    return 1
  fi
  ls "$work"/"${p}"_*.deb
}

mkdir -p "$dir"
if [[ ! -f "$dir/.image-done" ]]; then
  deb="$(download "$pkg")" || {
    rm -rf "$dir"
    if [[ -z "${PVHV_FETCH_RETRIED:-}" ]]; then  # stale apt lists name a version the mirror dropped
      log "download failed; running apt-get update and trying again"
      apt-get update -qq >/dev/null 2>&1 || log "apt-get update failed"
      rm -rf "$work"
      PVHV_FETCH_RETRIED=1 exec "$0" "$@"
    fi
    if [[ -f "$kroot/current/kernel.env" ]]; then
      log "cannot download $pkg (archive unreachable?); using the cached kernel"
      emit "$kroot/current"; exit 0
    fi
    die "cannot download $pkg=$ver from the Debian archive (network?)" 77
  }
  log "extracting $(basename "$deb")"
  mkdir -p "$work/x"
  dpkg-deb -x "$deb" "$work/x"
  cp "$work/x/boot/vmlinuz-$kver" "$dir/vmlinuz"
  cp "$work/x/boot/config-$kver" "$dir/config"
  rm -rf "$dir/modules"
  mkdir -p "$dir/modules/lib"
  mv "$work/x/lib/modules" "$dir/modules/lib/modules"
  # The package ships no modules.dep (postinst runs depmod); build it for the cached tree.
  depmod -b "$dir/modules" "$kver"
  rm -f "$deb"

  # extract-vmlinux: find the payload's compression magic, decompress from there, keep the first ELF.
  log "extracting vmlinux from vmlinuz"
  formats=(
    'xz|\xfd7zXZ\x00|xz -dc'
    'zstd|\x28\xb5\x2f\xfd|zstd -dcq'
    'gzip|\x1f\x8b\x08|gzip -dc'
    'lz4|\x02\x21\x4c\x18|lz4 -dc'
    'bzip2|BZh|bzip2 -dc'
    'lzma|\x5d\x00\x00\x00|xz -F lzma -dc'
  )
  found=""
  for f in "${formats[@]}"; do
    IFS='|' read -r name magic cmd <<<"$f"
    command -v "${cmd%% *}" >/dev/null || continue
    for off in $(LC_ALL=C grep -obUaP "$magic" "$dir/vmlinuz" | cut -d: -f1); do
      tail -c "+$((off + 1))" "$dir/vmlinuz" | $cmd >"$work/vmlinux" 2>/dev/null || true
      if readelf -h "$work/vmlinux" >/dev/null 2>&1; then found="$name@$off"; break 2; fi
    done
  done
  [[ -n "$found" ]] || die "no compressed ELF payload found in $dir/vmlinuz"
  log "payload: $found"
  readelf -n "$work/vmlinux" 2>/dev/null | grep -Eq 'PHYS32_ENTRY|Unknown note type: \(0x00000012\)' \
    || die "vmlinux has no XEN_ELFNOTE_PHYS32_ENTRY (PVH) note; CONFIG_PVH missing?"
  mv "$work/vmlinux" "$dir/vmlinux"
  touch "$dir/.image-done"
fi

map=""
if [[ $want_map -eq 1 ]]; then
  # Debian's /boot/System.map is a one-line stub; the real one is in the -dbg package (~860 MB download,
  # only the map is kept: it is near the start of the archive, so tar stops early).
  if [[ ! -s "$dir/System.map" ]]; then
    if dbg="$(download "$pkg-dbg")"; then
      log "extracting System.map from $(basename "$dbg")"
      dpkg-deb --fsys-tarfile "$dbg" 2>/dev/null \
        | tar -x -C "$work" --occurrence=1 "./usr/lib/debug/boot/System.map-$kver" || true
      rm -f "$dbg"
      m="$work/usr/lib/debug/boot/System.map-$kver"
      [[ -s "$m" ]] || die "System.map-$kver not found in $pkg-dbg"
      # The map must describe this vmlinux: pvh_start_xen must sit where the PVH note's entry points.
      sym="$(awk '$3 == "pvh_start_xen" {print $1}' "$m")"
      note="$(readelf -n "$dir/vmlinux" | grep -A1 'note type: (0x00000012)' | sed -n 's/.*description data: //p')"
      read -ra b <<<"$note"
      phys=$((16#${b[3]}${b[2]}${b[1]}${b[0]}))
      if [[ -z "$sym" ]] || (( 16#$sym - 0xffffffff80000000 != phys )); then
        die "System.map from $pkg-dbg does not match vmlinux (pvh_start_xen=$sym, PVH entry=$phys)"
      fi
      mv "$m" "$dir/System.map"
    else
      log "warning: cannot download $pkg-dbg; no System.map (pvd's hypercall-site rewrite needs it)"
    fi
  fi
  [[ -s "$dir/System.map" ]] && map="$dir/System.map"
fi

{
  printf 'KVER=%q\nKPKG=%q\nKVERSION=%q\n' "$kver" "$pkg" "$ver"
  printf 'VMLINUZ=%q\nVMLINUX=%q\nSYSTEM_MAP=%q\n' "$dir/vmlinuz" "$dir/vmlinux" "$map"
  printf 'CONFIG=%q\nMODULES_DIR=%q\n' "$dir/config" "$dir/modules/lib/modules/$kver"
} >"$dir/kernel.env"
ln -sfn "$(basename "$dir")" "$kroot/current"
log "kernel $pkg $ver ready in $dir"
emit "$dir"
