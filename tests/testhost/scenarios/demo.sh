# Scenario demo (scripts/demo.sh, the README's demo command where /dev/kvm is not hardware
# virtualization): `pvctl create -F` of Debian's kernel as a Xen PVH guest; its console, as pvctl relays
# it, is what the demo shows. Passes when the guest reached its init and powered off.
# testhost-needs: pvd pvctl
# testhost-timeout: 600
. /scenarios/common.sh
need_cmd pvd pvctl
need /guest/vmlinux /guest/System.map /guest/l2.cpio /guest/linux-demo.cfg
STOP_PATTERN='kernel BUG|Kernel panic|PANIC: early exception' \
  run_pvctl_create /guest/linux-demo.cfg demo 300
check_l2_markers "$CONSOLE_LOG" || fail "the guest did not reach its init (pvctl exit $PVCTL_RC)"
[ "$PVCTL_RC" = 0 ] || fail "pvctl create -F exited $PVCTL_RC (want 0: poweroff)"
say "demo guest: init reached, powered off; pvctl create to exit $PVCTL_SECONDS s"
exit 0
