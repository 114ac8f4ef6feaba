# Shared by the integration scripts (sourced): the KVM check and a private pvd.

# Exits 77 (ctest's "skipped") when test guests cannot run here.
require_kvm() {
  if [[ ! -c /dev/kvm ]] || ! { : <>/dev/kvm; } 2>/dev/null; then
    echo "SKIP: /dev/kvm is absent or not accessible here; test guests need KVM"
    exit 77
  fi
}

# Starts PVD with its own runtime dir (exported as PVHV_RUNTIME_DIR, so pvctl finds it) and
# waits for its socket; pvd_pid is set. The EXIT trap stops pvd and removes the directory.
start_private_pvd() {
  export PVHV_RUNTIME_DIR
  PVHV_RUNTIME_DIR=$(mktemp -d /tmp/pvhv-test.XXXXXX)
  "$1" --runtime-dir "$PVHV_RUNTIME_DIR" 2>"$PVHV_RUNTIME_DIR/pvd.stderr" &
  pvd_pid=$!
  trap 'kill $pvd_pid 2>/dev/null; wait $pvd_pid 2>/dev/null; rm -rf "$PVHV_RUNTIME_DIR"' EXIT
  for _ in $(seq 50); do [[ -S $PVHV_RUNTIME_DIR/pvd.sock ]] && break; sleep 0.1; done
}
