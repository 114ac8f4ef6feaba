/* The block tests' sector pattern (pattern.h), with string instructions: one `rep stosq` or
 * `repe scasq` per sector rather than a loop (DESIGN §4). */
#include "pattern.h"

static uint64_t middle(uint64_t s, uint32_t seed)
{
	return (s + 1) * 0x9e3779b97f4a7c15ull ^ seed * 0xbf58476d1ce4e5b9ull;
}

void pattern_fill(void *buf, uint64_t sector, size_t nsect, uint32_t seed)
{
	uint64_t *q = buf;
	for (size_t i = 0; i < nsect; i++, q += 64) {
		uint64_t s = sector + i, v = middle(s, seed);
		void *d = q + 1;
		size_t n = 62;
		q[0] = s ^ (uint64_t)seed << 40;
		asm volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(v) : "memory");
		q[63] = ~v;
	}
}

long pattern_check(const void *buf, uint64_t sector, size_t nsect, uint32_t seed)
{
	const uint64_t *q = buf;
	for (size_t i = 0; i < nsect; i++, q += 64) {
		uint64_t s = sector + i, v = middle(s, seed);
		const void *d = q + 1;
		size_t n = 62;
		if (q[0] != (s ^ (uint64_t)seed << 40) || q[63] != ~v)
			return (long)i;
		asm volatile("repe scasq" : "+D"(d), "+c"(n) : "a"(v) : "memory", "cc");
		if (((const uint64_t *)d)[-1] != v)
			return (long)i;
	}
	return -1;
}

int pattern_is_zero(const void *buf, size_t len)
{
	const void *d = buf;
	size_t n = len / 8;
	if (!n)
		return 1;
	asm volatile("repe scasq" : "+D"(d), "+c"(n) : "a"(0ull) : "memory", "cc");
	return ((const uint64_t *)d)[-1] == 0;
}
