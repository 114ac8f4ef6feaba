// libFuzzer target: a guest that writes arbitrary bytes and indexes into its PV console page
// between back-end rounds (service, typed input, flush), with the back-end's promises checked.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "hv/xen_public.h"
#include <xen/io/console.h>

#include "pvdrivers/back/console/console_backend.h"

namespace {

using namespace pvhv::console;

[[noreturn]] void die(const char* why) {
    std::fprintf(stderr, "console_ring_fuzz: %s\n", why);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    alignas(4096) static uint8_t page[4096];
    std::memset(page, 0, sizeof page);
    auto* intf = reinterpret_cast<xencons_interface*>(page);

    size_t output_calls = 0, output_bytes = 0, kicks = 0;
    auto ring = ConsoleRing::attach(page);
    if (!ring) die("attach failed on a good page");
    ConsoleBackend backend(
        *ring,
        [&](std::string_view s) {
            ++output_calls;
            output_bytes += s.size();
            if (s.empty() || s.size() > ConsoleBackend::kMaxOutputPerCall + kOutRingSize)
                die("output batch of impossible size");
        },
        [&] { ++kicks; }, "fuzz console");

    size_t i = 0;
    auto u8 = [&] { return i < size ? data[i++] : uint8_t{0}; };
    auto u32 = [&] { return uint32_t{u8()} | uint32_t{u8()} << 8 | uint32_t{u8()} << 16 | uint32_t{u8()} << 24; };
    uint32_t published_out_cons = 0;
    while (i < size) {
        switch (u8() % 6) {
            case 0:  // the guest sets an index it owns (or scribbles on one it does not)
                (&intf->in_cons)[u8() % 4] = u32();
                break;
            case 1: {  // the guest writes ring bytes
                const uint32_t at = u32() % sizeof page, n = u8();
                for (uint32_t k = 0; k < n && at + k < sizeof page; ++k) page[at + k] = u8();
                break;
            }
            case 2: {  // a well-behaved guest write of up to one ring's free space
                const uint32_t n = u8() * 9u;
                for (uint32_t k = 0; k < n && intf->out_prod - published_out_cons < kOutRingSize; ++k)
                    intf->out[MASK_XENCONS_IDX(intf->out_prod++, intf->out)] = static_cast<char>(k);
                break;
            }
            case 3: {  // typed input
                const size_t before = backend.stats().input_dropped;
                std::string typed(u8() * 37u, 'k');
                const size_t took = backend.queue_input(typed);
                if (took > typed.size() || backend.stats().input_dropped != before + typed.size() - took)
                    die("input accounting");
                break;
            }
            default: {  // a kick or a flush
                const size_t kicks_before = kicks, bytes_before = output_bytes;
                const uint64_t in_before = backend.stats().input_bytes;
                backend.service();
                const bool moved = output_bytes != bytes_before || backend.stats().input_bytes != in_before;
                if ((kicks != kicks_before) != moved) die("kick without progress, or progress without kick");
                published_out_cons = intf->out_cons;
                break;
            }
        }
    }
    backend.detach();
    const size_t calls = output_calls;
    backend.service();
    if (output_calls != calls) die("output after detach");
    return 0;
}
