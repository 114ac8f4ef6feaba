// NOW() and the wall clock at NOW() == 0 from KVM_GET_CLOCK.
#include "hv/time/kvm_clock.h"

#include <ctime>

namespace pvhv {

uint64_t KvmClock::now_ns() const {
    auto c = vm_.get_clock();
    if (!c) return last_.load();
    uint64_t prev = last_.load();
    while (prev < c->clock && !last_.compare_exchange_weak(prev, c->clock)) {
    }
    return c->clock;
}

int64_t KvmClock::wall_ns_at_zero() const {
    timespec rt{};
    ::clock_gettime(CLOCK_REALTIME, &rt);
    int64_t wall = int64_t{rt.tv_sec} * 1'000'000'000 + rt.tv_nsec;
    auto c = vm_.get_clock();
    if (!c) return wall;
    if (c->flags & KVM_CLOCK_REALTIME) wall = static_cast<int64_t>(c->realtime);
    return wall - static_cast<int64_t>(c->clock);
}

}  // namespace pvhv
