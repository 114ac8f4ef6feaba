// The host's TSC as pvhv reads it next to KVM's view of a guest TSC.
#pragma once

#include <cstdint>
#include <string_view>

namespace pvhv {

// RDTSC fenced on both sides, so that it is ordered against the ioctl that reads the guest's
// TSC between two of these.
uint64_t read_host_tsc();

// Whether the host kernel trusts its TSC as a clock: its current clocksource is "tsc", which
// Linux selects only for a constant, non-stop TSC that it found synchronised across CPUs (and
// which KVM requires for its own stable kvmclock). `clocksource` is the content of
// /sys/devices/system/clocksource/clocksource0/current_clocksource.
bool host_tsc_reliable(std::string_view clocksource);
bool host_tsc_reliable();

}  // namespace pvhv
