# L2 script (pvhv.run=blk-write): the first boot of scenario linux-xen-blk. Waits for /dev/xvda (a raw
# image in L1, xen-blkfront <-> pvd's blkback), makes an ext2 file system on its first 32 MiB (busybox
# mke2fs; the ext4 module mounts ext2), writes a file with known content (seq 1 60000, ~340 KiB) and its
# sha256, syncs, unmounts, drops the caches, mounts again and compares what it reads back; then writes
# the raw marker "PVHV-RAW:<pvhv.token>" at 48 MiB (sector 98304) with dd conv=fsync, for L1 to find in
# the image after the guest has shut down.
. /l2/lib.sh
blk_fail() { mark "BLK-FAIL: $*"; exit 1; }
wait_for /dev/xvda 60 || blk_fail "/dev/xvda did not appear within 60 s"
mark "BLK-DEV: xvda $(cat /sys/block/xvda/size) sectors ro=$(cat /sys/block/xvda/ro)"
mke2fs -F -b 1024 /dev/xvda 32768 >/tmp/mkfs.out 2>&1 || { cat /tmp/mkfs.out; blk_fail "mke2fs /dev/xvda failed"; }
mkdir -p /mnt
mount -t ext2 /dev/xvda /mnt || blk_fail "mount -t ext2 /dev/xvda failed"
mark "BLK-MOUNT: $(grep ' /mnt ' /proc/mounts)"
seq 1 60000 >/mnt/pattern.txt || blk_fail "writing /mnt/pattern.txt failed"
sum=$(sha256sum /mnt/pattern.txt | cut -d' ' -f1)
echo "$sum" >/mnt/pattern.sha256
size=$(wc -c </mnt/pattern.txt)
sync
umount /mnt || blk_fail "umount /mnt failed"
echo 3 >/proc/sys/vm/drop_caches
mount -t ext2 /dev/xvda /mnt || blk_fail "second mount failed"
back=$(sha256sum /mnt/pattern.txt | cut -d' ' -f1)
[ "$back" = "$sum" ] || blk_fail "read back sha256 $back, wrote $sum"
[ "$(cat /mnt/pattern.sha256)" = "$sum" ] || blk_fail "pattern.sha256 reads back wrong"
umount /mnt || blk_fail "final umount failed"
mark "BLK-WRITE: ok size=$size sha256=$sum"
token=$(cmdline_arg token) || blk_fail "no pvhv.token= on the command line"
printf 'PVHV-RAW:%s\n' "$token" | dd of=/dev/xvda bs=512 seek=98304 conv=notrunc,sync,fsync 2>/dev/null ||
  blk_fail "dd of the raw marker failed"
mark "BLK-RAW-WRITTEN: sector 98304"
