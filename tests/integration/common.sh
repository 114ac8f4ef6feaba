# Sourced by the integration scripts: KVM check (exit 77 = skipped) and a private pvd.

# Exits 77 (ctest "skipped") when this machine cannot run test guests.
require_kvm() {
  if [[ ! -c /dev/kvm ]] || ! { : <>/dev/kvm; } 2>/dev/null; then
    echo "SKIP: /dev/kvm is absent or not accessible here; test guests need KVM"
    exit 77
  fi
}

# Starts PVD on a fresh runtime dir (exported as PVHV_RUNTIME_DIR) and waits for its socket;
# sets pvd_pid. The caller's EXIT trap stops it and removes the dir.
start_private_pvd() {
  export PVHV_RUNTIME_DIR
  PVHV_RUNTIME_DIR=$(mktemp -d /tmp/pvhv-test.XXXXXX)
  "$1" --runtime-dir "$PVHV_RUNTIME_DIR" 2>"$PVHV_RUNTIME_DIR/pvd.stderr" &
  pvd_pid=$!
  for _ in $(seq 50); do [[ -S $PVHV_RUNTIME_DIR/pvd.sock ]] && break; sleep 0.1; done
}
