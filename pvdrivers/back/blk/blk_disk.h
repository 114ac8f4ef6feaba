// The backing store of a virtual block device: a raw image file or a host block device.
#pragma once

#include <cstdint>
#include <string>

#include "hv/error.h"
#include "hv/unique_fd.h"

namespace pvhv::blk {

struct BlkDiskOptions {
    std::string path{};
    bool read_only = false;
    bool direct_io = false;  // O_DIRECT: no host page cache (needs 512-byte aligned I/O)
};

// An open backing store and its geometry. Immutable once opened.
class BlkDisk {
  public:
    // Opens `path` (O_RDONLY or O_RDWR, O_CLOEXEC, O_DIRECT if asked). A regular file's size
    // is st_size (a partial last sector is not part of the disk); a block device's comes from
    // BLKGETSIZE64 with its logical/physical block sizes. Anything else is refused.
    static Result<BlkDisk> open(const BlkDiskOptions& options);

    int fd() const { return fd_.get(); }
    const std::string& path() const { return path_; }
    uint64_t sectors() const { return sectors_; }  // 512-byte sectors
    uint32_t physical_sector_size() const { return physical_sector_size_; }
    bool read_only() const { return read_only_; }
    bool block_device() const { return block_device_; }
    // Discard is possible: punching holes in a file (checked once at open on the file
    // system itself), or a block device whose queue discards.
    bool can_discard() const { return can_discard_; }
    uint32_t discard_granularity() const { return discard_granularity_; }

  private:
    BlkDisk() = default;

    UniqueFd fd_;
    std::string path_;
    uint64_t sectors_ = 0;
    uint32_t physical_sector_size_ = 512;
    bool read_only_ = false;
    bool block_device_ = false;
    bool can_discard_ = false;
    uint32_t discard_granularity_ = 512;
};

}  // namespace pvhv::blk
