// Per-domain counters of exits, hypercalls and I/O, read by `pvctl top` and benchmarks.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>

namespace pvhv {

inline constexpr size_t kMaxHypercall = 64;  // Xen hypercall numbers are < 64 (__HYPERVISOR_*)
inline constexpr size_t kMaxExitReason = 64; // KVM_EXIT_* are < 64

struct CountersSnapshot {
    std::map<std::string, uint64_t> exits;       // by KVM exit reason name ("io", "hlt", ...)
    std::map<std::string, uint64_t> hypercalls;  // by hypercall name ("console_io", ...)
    uint64_t hypercall_enosys = 0;               // unknown numbers and sub-ops
    uint64_t mmio_unclaimed = 0;                 // MMIO exits no device claimed
};

// Lock-free: each counter is a relaxed atomic bumped by the vCPU thread that saw the event.
struct DomainCounters {
    std::array<std::atomic<uint64_t>, kMaxExitReason> exits{};
    std::array<std::atomic<uint64_t>, kMaxHypercall> hypercalls{};
    std::atomic<uint64_t> hypercall_unknown_number{0};
    std::atomic<uint64_t> hypercall_enosys{0};
    // Guest accesses to guest-physical addresses with neither memory nor a device behind them
    // (holes, a grant frame's old gfn): reads see all ones, writes are dropped.
    std::atomic<uint64_t> mmio_unclaimed{0};

    void count_exit(uint32_t reason) {
        exits[reason < kMaxExitReason ? reason : 0].fetch_add(1, std::memory_order_relaxed);
    }
    void count_hypercall(uint64_t nr) {
        if (nr < kMaxHypercall)
            hypercalls[nr].fetch_add(1, std::memory_order_relaxed);
        else
            hypercall_unknown_number.fetch_add(1, std::memory_order_relaxed);
    }
    CountersSnapshot snapshot() const;
};

}  // namespace pvhv
