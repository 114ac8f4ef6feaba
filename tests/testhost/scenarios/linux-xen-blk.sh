# Scenario linux-xen-blk: Debian's kernel as a Xen PVH guest with a PV disk. A 64 MiB raw image in L1's
# /tmp/work is the guest's xvda (`disk = ['format=raw, vdev=xvda, access=rw, target=...']`: pvd's blkback,
# Linux's xen-blkfront). Boot 1 (l2/blk-write.sh) makes an ext2 file system, writes a file of known
# content, syncs, reads it back after a remount, writes a raw marker at sector 98304 and powers off.
# L1 then finds the marker and the ext2 superblock in the image. Boot 2, a new domain on the same image
# (l2/blk-verify.sh), mounts it and checks the file's sha256 and the marker; it also gets a second image
# as xvdb with access=ro, which Linux must see read-only and refuse to write, and whose bytes must not
# change. Every sum is compared with the one L1 computes itself.
# testhost-needs: pvd pvctl
# testhost-timeout: 900
. /scenarios/common.sh
need_cmd pvd pvctl
need /guest/vmlinux /guest/System.map /guest/l2.cpio
STOP='kernel BUG|Kernel panic|PANIC: early exception|could not calculate TSC khz'
img=/tmp/work/xvda.img
roimg=/tmp/work/xvdb-ro.img
token=$(tr -d '-' </proc/sys/kernel/random/uuid)
expected=$(seq 1 60000 | sha256sum | cut -d' ' -f1)
dd if=/dev/zero of="$img" bs=1M count=64 2>/dev/null || fail "cannot create $img"
printf 'PVHV-RO:%s\n' "$token" | dd of="$roimg" bs=512 conv=sync 2>/dev/null
dd if=/dev/zero of="$roimg" bs=1M seek=1 count=7 2>/dev/null  # 8 MiB
ro_before=$(sha256sum "$roimg" | cut -d' ' -f1)
say "token $token; expected file sha256 $expected"

# guest_cfg NAME RUN DISKS: a Xen PVH guest running l2/RUN.sh (common.sh's xen_guest_cfg).
guest_cfg() {
  xen_guest_cfg "$1" "panic=-1 pvhv.run=$2 pvhv.token=$token" "disk = [ $3 ]" >"/tmp/work/$1.cfg"
}

# --- boot 1: mkfs, write, read back, raw marker
guest_cfg blk1 blk-write "'format=raw, vdev=xvda, access=rw, target=$img'"
STOP_PATTERN="$STOP" run_pvctl_create /tmp/work/blk1.cfg blk1 300
report_xen_boot
check_l2_markers "$CONSOLE_LOG" || fail "boot 1: no PVHV-L2-MARKER (pvctl exit $PVCTL_RC)"
grep -E '^PVHV-L2-(BLK|RUN)' "$CONSOLE_LOG" | tr -d '\r' | sed -e 's/^/SCENARIO: boot 1: /'
grep -q 'PVHV-L2-BLK-FAIL' "$CONSOLE_LOG" && fail "boot 1: $(grep -m1 'PVHV-L2-BLK-FAIL' "$CONSOLE_LOG" | tr -d '\r')"
grep -q 'PVHV-L2-BLK-DEV: xvda 131072 sectors ro=0' "$CONSOLE_LOG" || fail "boot 1: xvda is not a 64 MiB writable disk"
grep -q "PVHV-L2-BLK-WRITE: ok size=[0-9]* sha256=$expected" "$CONSOLE_LOG" ||
  fail "boot 1: no BLK-WRITE with the expected sha256 $expected"
grep -q 'PVHV-L2-BLK-RAW-WRITTEN' "$CONSOLE_LOG" || fail "boot 1: the raw marker was not written"
grep -q 'PVHV-L2-RUN: blk-write exit=0' "$CONSOLE_LOG" || fail "boot 1: blk-write did not exit 0"
[ "$PVCTL_RC" = 0 ] || fail "boot 1: pvctl create -F exited $PVCTL_RC (want 0: poweroff)"
grep -q 'reboot: Power down' "$CONSOLE_LOG" || fail "boot 1: no 'reboot: Power down'"
boot1_seconds=$PVCTL_SECONDS

# --- in L1, with no guest running: the image holds what the guest wrote
raw=$(dd if="$img" bs=512 skip=98304 count=1 2>/dev/null | head -n 1 | tr -cd 'A-Za-z0-9:-')
[ "$raw" = "PVHV-RAW:$token" ] || fail "the image has '$raw' at sector 98304, want PVHV-RAW:$token"
magic=$(dd if="$img" bs=1 skip=1080 count=2 2>/dev/null | od -An -tx1 | tr -d ' \n')
[ "$magic" = 53ef ] || fail "no ext2 superblock magic in the image (bytes 1080-1081: '$magic')"
say "L1: the image holds the raw marker at sector 98304 and an ext2 superblock"

# --- boot 2: a new domain on the same image verifies; xvdb read-only
guest_cfg blk2 blk-verify "'format=raw, vdev=xvda, access=rw, target=$img', 'format=raw, vdev=xvdb, access=ro, target=$roimg'"
STOP_PATTERN="$STOP" run_pvctl_create /tmp/work/blk2.cfg blk2 300
check_l2_markers "$CONSOLE_LOG" || fail "boot 2: no PVHV-L2-MARKER (pvctl exit $PVCTL_RC)"
grep -E '^PVHV-L2-(BLK|RUN)' "$CONSOLE_LOG" | tr -d '\r' | sed -e 's/^/SCENARIO: boot 2: /'
grep -q 'PVHV-L2-BLK-FAIL' "$CONSOLE_LOG" && fail "boot 2: $(grep -m1 'PVHV-L2-BLK-FAIL' "$CONSOLE_LOG" | tr -d '\r')"
grep -q "PVHV-L2-BLK-VERIFY: size=[0-9]* sha256=$expected stored=$expected" "$CONSOLE_LOG" ||
  fail "boot 2: the file did not persist (want sha256 $expected)"
grep -q "PVHV-L2-BLK-RAW-READ: PVHV-RAW:$token" "$CONSOLE_LOG" || fail "boot 2: the raw marker did not persist"
grep -q 'PVHV-L2-BLK-RO: xvdb ro=1' "$CONSOLE_LOG" || fail "boot 2: Linux does not see xvdb (access=ro) read-only"
grep -q 'PVHV-L2-BLK-RO-WRITE: refused' "$CONSOLE_LOG" || fail "boot 2: a write to the read-only xvdb was not refused"
grep -q "PVHV-L2-BLK-RO-READ: PVHV-RO:$token" "$CONSOLE_LOG" || fail "boot 2: xvdb does not read back L1's marker"
grep -q 'PVHV-L2-RUN: blk-verify exit=0' "$CONSOLE_LOG" || fail "boot 2: blk-verify did not exit 0"
[ "$PVCTL_RC" = 0 ] || fail "boot 2: pvctl create -F exited $PVCTL_RC (want 0: poweroff)"
[ "$(sha256sum "$roimg" | cut -d' ' -f1)" = "$ro_before" ] || fail "the read-only image changed"
say "L1: the read-only image is unchanged"
say "L2-TIMES: boot 1 (mkfs, write, read back) $boot1_seconds s, boot 2 (verify) $PVCTL_SECONDS s"
exit 0
