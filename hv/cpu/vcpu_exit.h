// A KVM exit decoded into a typed value, so exit handling is testable without KVM.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <span>
#include <variant>

namespace pvhv {

// Port I/O of one access (string I/O with count > 1 is split by the decoder's caller).
// `data` aliases kvm_run: an IN handler fills it, an OUT handler reads it.
struct IoExit {
    uint16_t port;
    bool out;
    std::span<uint8_t> data;  // 1, 2 or 4 bytes
};
struct MmioExit {
    uint64_t addr;
    bool write;
    std::span<uint8_t> data;  // up to 8 bytes
};
struct MsrExit {
    uint32_t index;
    bool write;
    uint64_t* data;   // write: the value; read: where to put it
    uint8_t* error;   // set to 1 to make the guest take #GP
};
struct HltExit {};
struct ShutdownExit {};  // triple fault
struct SystemEventExit { uint32_t type; };
struct FailEntryExit { uint64_t reason; };
struct InternalErrorExit { uint32_t suberror; };
struct InterruptedExit {};  // KVM_RUN returned for a signal (kick)
struct UnhandledExit { uint32_t reason; };

using VcpuExit = std::variant<IoExit, MmioExit, MsrExit, HltExit, ShutdownExit, SystemEventExit,
                              FailEntryExit, InternalErrorExit, InterruptedExit, UnhandledExit>;

// Decodes kvm_run after KVM_RUN returned. String I/O (count > 1) is reported as
// UnhandledExit: no device of ours uses rep ins/outs.
VcpuExit decode_exit(kvm_run& run);

}  // namespace pvhv
