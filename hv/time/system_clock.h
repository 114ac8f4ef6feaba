// Xen's NOW() for one domain: the clock its timers, poll timeouts and pvclock speak.
#pragma once

#include <cstdint>

namespace pvhv {

// A domain's system time in ns. Implemented by KvmClock (the guest's kvmclock, which is what
// its vcpu_time_info shows) and by manual clocks in tests. Safe to call from any thread.
class SystemClock {
public:
    virtual ~SystemClock() = default;
    virtual uint64_t now_ns() const = 0;
};

}  // namespace pvhv
