#!/usr/bin/env bash
# Installs the Debian packages pvhv needs to build and test (idempotent; skips when all are present).
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config
  libxen-dev libboost-dev libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev liburing-dev
  # guest-kernel-patches/ are checked against Debian's kernel source (a --dry-run test)
  linux-source-6.1 patch
)
# The test host (DESIGN §4): QEMU TCG runs Debian's kernel as L1, busybox is its userland.
testhost_pkgs=(qemu-system-x86 busybox-static cpio zstd xz-utils binutils kmod)
# libFuzzer targets: clang 14 (bookworm's default) cannot compile std::expected.
fuzz_pkgs=(clang-19 libclang-rt-19-dev)
# bench/pv-io.sh: callgrind for host instructions, ip for its namespace, python3 for the report.
bench_pkgs=(valgrind iproute2 python3)

want=("${build_pkgs[@]}")
for opt in "$@"; do
  case "$opt" in
    --with-testhost) want+=("${testhost_pkgs[@]}") ;;
    --with-fuzz) want+=("${fuzz_pkgs[@]}") ;;
    --with-bench) want+=("${bench_pkgs[@]}") ;;
    *) echo "install-deps: unknown option $opt" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
