#!/usr/bin/env bash
# The README's demo command: installs what it needs, builds, and boots the demo guest, Debian's Linux
# kernel as a Xen PVH guest under pvd, with `pvctl create -F` (which relays the guest's console and
# exits with its shutdown code). Where /dev/kvm is hardware virtualization (kvm_intel / kvm_amd) the
# guest runs directly; elsewhere (no /dev/kvm, or a software nested KVM such as kvm_pvm, which cannot
# boot Linux: DESIGN §4) it runs inside the test host, QEMU/TCG with KVM in an L1 Linux. The first line
# of output says which.
#   PVHV_DEMO_SUBSTRATE=direct|testhost overrides the choice; `scripts/demo.sh --test-guest` boots the
#   small freestanding test guest tests/guests/hello.cfg directly instead (needs only /dev/kvm).
set -euo pipefail
cd "$(dirname "$0")/.."

kvm_module() {
  local m
  for m in kvm_intel kvm_amd kvm_pvm; do [[ -d /sys/module/$m ]] && { echo "$m"; return; }; done
  echo "none"
}

if [[ "${1:-}" == --test-guest ]]; then
  echo "pvhv demo: the freestanding test guest tests/guests/hello.cfg, directly on /dev/kvm ($(kvm_module))"
  scripts/install-deps.sh
  cmake --preset dev >/dev/null
  cmake --build --preset dev
  exec build/dev/bin/pvctl create -F tests/guests/hello.cfg
fi

module="$(kvm_module)"
substrate="${PVHV_DEMO_SUBSTRATE:-}"
if [[ -z "$substrate" ]]; then
  if [[ -c /dev/kvm && ( $module == kvm_intel || $module == kvm_amd ) ]]; then substrate=direct; else substrate=testhost; fi
fi
case "$substrate" in
  direct)
    echo "pvhv demo: Linux guest DIRECTLY on this machine's /dev/kvm (hardware virtualization, $module)" ;;
  testhost)
    echo "pvhv demo: Linux guest INSIDE THE TEST HOST (QEMU/TCG L1 with KVM; pvd runs in L1), because /dev/kvm here is ${module/none/absent} and not hardware virtualization (DESIGN.md §4)" ;;
  *) echo "PVHV_DEMO_SUBSTRATE must be direct or testhost, not '$substrate'" >&2; exit 2 ;;
esac

scripts/install-deps.sh --with-testhost  # the test host's tools also fetch and unpack Debian's kernel
cmake --preset release >/dev/null
cmake --build --preset release
testhost=tests/testhost

if [[ "$substrate" == direct ]]; then
  eval "$("$testhost/fetch-kernel.sh")"
  ramdisk="$("$testhost/build-l2-initramfs.sh")"
  # pvd rewrites the kernel's hypercall sites from the System.map next to the kernel.
  dir="${PVHV_CACHE_DIR:-$HOME/.cache/pvhv}/demo"
  mkdir -p "$dir"
  ln -sf "$VMLINUX" "$dir/vmlinux"
  ln -sf "$SYSTEM_MAP" "$dir/System.map"
  sed -e "s|/guest/vmlinux|$dir/vmlinux|" -e "s|/guest/l2.cpio|$ramdisk|" "$testhost/guest/linux-demo.cfg" >"$dir/demo.cfg"
  exec build/release/bin/pvctl create -F "$dir/demo.cfg"
fi

# In the test host: the demo scenario's console lines (what pvctl relays, "PVCTL| ") and its verdict.
set +e
TESTHOST_VERBOSE=1 "$testhost/run-scenario.sh" --bin build/release/bin/pvd --bin build/release/bin/pvctl demo 2>&1 |
  sed -u -n -e 's/^\[[ 0-9.]*\] PVCTL| //p' -e 's/^\[[ 0-9.]*\] \(SCENARIO.*\)/\1/p' \
         -e 's/^\(run-scenario: .*\(PASSED\|FAILED\|TIMEOUT\|SKIP\).*\)/\1/p' -e '/SKIP:\|error:/p'
exit "${PIPESTATUS[0]}"
