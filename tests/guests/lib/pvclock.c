/* pvclock reads for test guests. */
#include "pvclock.h"

#include "events.h"

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

uint64_t pvclock_now(unsigned int vcpu)
{
	const volatile struct vcpu_time_info *t = &shared_info->vcpu_info[vcpu].time;
	uint32_t version;
	uint64_t ns;
	do {
		version = t->version;
		asm volatile("" ::: "memory");
		uint64_t delta = rdtsc() - t->tsc_timestamp;
		int8_t shift = t->tsc_shift;
		delta = shift < 0 ? delta >> -shift : delta << shift;
		ns = t->system_time + (uint64_t)(((unsigned __int128)delta * t->tsc_to_system_mul) >> 32);
		asm volatile("" ::: "memory");
	} while ((version & 1) || version != t->version);
	return ns;
}

uint64_t pvclock_tsc_khz(const volatile struct vcpu_time_info *t)
{
	uint32_t mul = t->tsc_to_system_mul;
	if (!mul)
		return 0;
	uint64_t khz = (1000000ull << 32) / mul;
	return t->tsc_shift < 0 ? khz << -t->tsc_shift : khz >> t->tsc_shift;
}
