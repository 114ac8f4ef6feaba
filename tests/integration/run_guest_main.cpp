// pvhv-run-guest: boots a guest ELF through the hv library alone, for debugging the core.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "guest_runner.h"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s KERNEL [CMDLINE] [MEMORY_MIB]\n", argv[0]);
        return 2;
    }
    pvhv::DomainConfig c;
    c.name = "debug";
    c.kernel = argv[1];
    if (argc > 2) c.cmdline = argv[2];
    c.memory_mib = argc > 3 ? std::strtoull(argv[3], nullptr, 0) : 32;
    auto run = pvhv::testing::run_guest(c, std::chrono::seconds(60), /*echo=*/true);
    if (!run.error.empty()) {
        std::fprintf(stderr, "error: %s\n", run.error.c_str());
        return 126;
    }
    for (auto& [k, v] : run.counters.exits) std::fprintf(stderr, "exit %-12s %lu\n", k.c_str(), v);
    for (auto& [k, v] : run.counters.hypercalls) std::fprintf(stderr, "hcall %-12s %lu\n", k.c_str(), v);
    if (!run.reason) {
        std::fprintf(stderr, "timeout\n");
        return 124;
    }
    std::fprintf(stderr, "shutdown: %s\n", pvhv::to_string(*run.reason));
    return static_cast<int>(*run.reason);
}
