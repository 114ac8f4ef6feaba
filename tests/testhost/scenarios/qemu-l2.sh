# Scenario qemu-l2: proves L1's /dev/kvm runs an L2 guest: QEMU (Debian's 7.2, copied in with --with-qemu)
# boots the Debian kernel (/guest/vmlinux, PVH entry) with /guest/l2.cpio under -accel kvm and the L2
# marker must appear. This is also the anchor setup for benchmarks. Extra QEMU options: QEMU_L2_EXTRA.
# testhost-needs: qemu
# testhost-timeout: 900
. /scenarios/common.sh
need_cmd qemu-system-x86_64
need /guest/vmlinux /guest/l2.cpio
append="console=ttyS0 panic=-1"
grep -q 'pvhv.l2quiet=1' /proc/cmdline && append="$append quiet"
t0=$(up)
say "starting QEMU (L2) at uptime=$t0, append='$append'"
# shellcheck disable=SC2086
run_logged /tmp/work/l2.log 600 qemu-system-x86_64 -accel kvm -cpu host -M pc -m 256 -smp 1 \
  -nodefaults -no-user-config -nographic -no-reboot -serial stdio \
  -kernel /guest/vmlinux -initrd /guest/l2.cpio -append "$append" ${QEMU_L2_EXTRA:-}
t1=$(up)
[ "$RUN_RC" = 124 ] && fail "QEMU (L2) timed out after 600 s"
check_l2_markers /tmp/work/l2.log || fail "no PVHV-L2-MARKER in the L2 console (qemu exit $RUN_RC)"
grep -q 'PVHV-L2-UNAME: '"$(uname -r)" /tmp/work/l2.log || fail "L2 runs another kernel than L1"
say "L2-TIMES: to-marker=$(elapsed "$t0" "$MARKER_UPTIME") total=$(elapsed "$t0" "$t1") lines=$(wc -l </tmp/work/l2.log) (QEMU start to L2 init marker / to QEMU exit)"
[ "$RUN_RC" = 0 ] || fail "QEMU exited with $RUN_RC"
exit 0
