// Opening a vbd's backing store and finding its geometry (see blk_disk.h).
#include "pvdrivers/back/blk/blk_disk.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstdio>
#include <fstream>

#include "pvdrivers/back/blk/blk_request.h"

namespace pvhv::blk {

namespace {

// A number from the block device's sysfs queue directory (a partition has none of its own:
// its parent's is one level up). 0 when absent.
uint64_t queue_value(dev_t dev, const char* name) {
    for (const char* dir : {"queue", "../queue"}) {
        char path[128];
        std::snprintf(path, sizeof path, "/sys/dev/block/%u:%u/%s/%s", major(dev), minor(dev),
                      dir, name);
        std::ifstream in(path);
        uint64_t v = 0;
        if (in >> v) return v;
    }
    return 0;
}

}  // namespace

Result<BlkDisk> BlkDisk::open(const BlkDiskOptions& options) {
    int flags = (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    if (options.direct_io) flags |= O_DIRECT;
    UniqueFd fd(::open(options.path.c_str(), flags));
    if (!fd.valid()) return fail_errno("open " + options.path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail_errno("fstat " + options.path);

    BlkDisk disk;
    disk.path_ = options.path;
    disk.read_only_ = options.read_only;
    if (S_ISREG(st.st_mode)) {
        disk.sectors_ = static_cast<uint64_t>(st.st_size) / kSectorSize;
        // Punching a hole past the end changes nothing; whether the file system can do it
        // at all is what we learn (EOPNOTSUPP otherwise). Only a writable disk discards.
        if (!options.read_only) {
            disk.can_discard_ = ::fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                            st.st_size, kPageSize) == 0;
        }
        disk.discard_granularity_ = st.st_blksize > 0 ? static_cast<uint32_t>(st.st_blksize)
                                                      : kSectorSize;
    } else if (S_ISBLK(st.st_mode)) {
        uint64_t bytes = 0;
        if (::ioctl(fd.get(), BLKGETSIZE64, &bytes) != 0)
            return fail_errno("BLKGETSIZE64 " + options.path);
        disk.sectors_ = bytes / kSectorSize;
        disk.block_device_ = true;
        unsigned int pbs = 0;
        if (::ioctl(fd.get(), BLKPBSZGET, &pbs) == 0 && pbs >= kSectorSize)
            disk.physical_sector_size_ = pbs;
        if (!options.read_only) disk.can_discard_ = queue_value(st.st_rdev, "discard_max_bytes") > 0;
        const uint64_t g = queue_value(st.st_rdev, "discard_granularity");
        disk.discard_granularity_ = g >= kSectorSize && g <= (1u << 30) ? uint32_t(g) : kSectorSize;
    } else {
        return fail(XEN_EINVAL, options.path + " is neither a regular file nor a block device");
    }
    disk.fd_ = std::move(fd);
    return disk;
}

}  // namespace pvhv::blk
