#!/usr/bin/env bash
# Checks that every guest-kernel patch applies cleanly (no fuzz) to Debian's linux-source-6.1.
# Usage: check-patches.sh [SOURCE_TARBALL]   (default /usr/src/linux-source-6.1.tar.xz)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tarball=${1:-/usr/src/linux-source-6.1.tar.xz}
if [[ ! -r $tarball ]]; then
    echo "check-patches: $tarball not found: install Debian's linux-source-6.1" \
         "(scripts/install-deps.sh does)" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

shopt -s nullglob
patches=("$here"/linux-6.1-*.patch)
[[ ${#patches[@]} -gt 0 ]] || { echo "check-patches: no patches in $here" >&2; exit 1; }

# Only the files the patches touch (and the Makefile, for the version), in one pass over
# the tarball: decompressing it is what takes time.
files=(linux-source-6.1/Makefile)
for p in "${patches[@]}"; do
    while read -r f; do files+=("linux-source-6.1/$f"); done \
        < <(sed -n 's#^+++ b/##p' "$p")
done
tar -xJf "$tarball" -C "$work" "${files[@]}"
src=$work/linux-source-6.1
version=$(awk '/^VERSION/{v=$3} /^PATCHLEVEL/{p=$3} /^SUBLEVEL/{s=$3} END{print v"."p"."s}' "$src/Makefile")
echo "check-patches: Debian linux-source $version"

status=0
for p in "${patches[@]}"; do
    # --dry-run first (the check the issue asks for), then for real, so that a later patch in
    # a series sees the tree its predecessors leave.
    if out=$(patch -d "$src" -p1 --dry-run --fuzz=0 --batch < "$p" 2>&1) &&
       patch -d "$src" -p1 --fuzz=0 --batch --quiet < "$p"; then
        echo "ok   $(basename "$p")"
    else
        echo "FAIL $(basename "$p")"
        echo "$out" | sed 's/^/     /'
        status=1
    fi
done
exit $status
