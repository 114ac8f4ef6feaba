// Host TSC reads and the host's verdict on its TSC.
#include "hv/time/host_tsc.h"

#include <x86intrin.h>

#include <fstream>
#include <string>

namespace pvhv {

uint64_t read_host_tsc() {
    _mm_lfence();
    const uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
}

bool host_tsc_reliable(std::string_view clocksource) {
    while (!clocksource.empty() && (clocksource.back() == '\n' || clocksource.back() == ' '))
        clocksource.remove_suffix(1);
    return clocksource == "tsc";
}

bool host_tsc_reliable() {
    std::ifstream f("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    std::string line;
    return std::getline(f, line) && host_tsc_reliable(line);
}

}  // namespace pvhv
