# L2 script (pvhv.run=blk-verify): the second boot of scenario linux-xen-blk, a new domain on the same
# image. Mounts /dev/xvda and reports the sha256 of the file the first boot wrote (and whether it matches
# the sum stored next to it) and the raw marker at sector 98304. Then the read-only disk /dev/xvdb
# (access=ro): Linux must see it read-only, refuse a write to it, and read L1's marker from its sector 0.
. /l2/lib.sh
blk_fail() { mark "BLK-FAIL: $*"; exit 1; }
wait_for /dev/xvda 60 || blk_fail "/dev/xvda did not appear within 60 s"
mkdir -p /mnt
mount -t ext2 /dev/xvda /mnt || blk_fail "mount -t ext2 /dev/xvda failed (no file system from the first boot?)"
[ -f /mnt/pattern.txt ] || blk_fail "/mnt/pattern.txt is missing"
sum=$(sha256sum /mnt/pattern.txt | cut -d' ' -f1)
stored=$(cat /mnt/pattern.sha256)
mark "BLK-VERIFY: size=$(wc -c </mnt/pattern.txt) sha256=$sum stored=$stored"
umount /mnt || blk_fail "umount failed"
mark "BLK-RAW-READ: $(dd if=/dev/xvda bs=512 skip=98304 count=1 2>/dev/null | head -n 1 | tr -cd 'A-Za-z0-9:-')"
wait_for /dev/xvdb 60 || blk_fail "/dev/xvdb did not appear within 60 s"
mark "BLK-RO: xvdb ro=$(cat /sys/block/xvdb/ro)"
if dd if=/dev/zero of=/dev/xvdb bs=512 count=1 conv=notrunc,fsync 2>/tmp/dd.err; then
  mark "BLK-RO-WRITE: accepted"
else
  mark "BLK-RO-WRITE: refused ($(head -n 1 /tmp/dd.err))"
fi
mark "BLK-RO-READ: $(dd if=/dev/xvdb bs=512 count=1 2>/dev/null | head -n 1 | tr -cd 'A-Za-z0-9:-')"
