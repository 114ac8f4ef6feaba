# Sourced by the integration scripts: the /dev/kvm check and a private, long-lived pvd.

# Exits 77 (ctest: skipped) when KVM cannot be used here.
require_kvm() {
  if [[ ! -c /dev/kvm ]] || ! { : <>/dev/kvm; } 2>/dev/null; then
    echo "SKIP: /dev/kvm is absent or not accessible here; test guests need KVM"
    exit 77
  fi
}

# Starts PVD with a runtime dir of its own (exported as PVHV_RUNTIME_DIR, so pvctl finds it),
# sets pvd_pid and waits for its socket. stop_private_pvd undoes it all. Words before PVD
# that exec it keep its pid (e.g. `ip netns exec NS PVD`).
start_private_pvd() {
  export PVHV_RUNTIME_DIR
  PVHV_RUNTIME_DIR=$(mktemp -d /tmp/pvhv-test.XXXXXX)
  "$@" --runtime-dir "$PVHV_RUNTIME_DIR" 2>"$PVHV_RUNTIME_DIR/pvd.stderr" &
  pvd_pid=$!
  for _ in $(seq 50); do [[ -S $PVHV_RUNTIME_DIR/pvd.sock ]] && break; sleep 0.1; done
}

stop_private_pvd() {
  kill "$pvd_pid" 2>/dev/null
  wait "$pvd_pid" 2>/dev/null
  rm -rf "$PVHV_RUNTIME_DIR"
}

# wait_for_line FILE PATTERN SECONDS: until a line of FILE matches PATTERN (grep -E); 1 if none
# did in time.
wait_for_line() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
