/* Disk patterns that the block test guests and the integration scripts (blk_pattern.py) agree
 * on: every 512-byte sector says which sector it is and which seed wrote it. */
#ifndef GUEST_PATTERN_H
#define GUEST_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/* Sector s written with seed k holds 64 little-endian quadwords: s ^ (k << 40), then 62 times
 * v = (s + 1) * 0x9e3779b97f4a7c15 ^ k * 0xbf58476d1ce4e5b9, then ~v. So a sector in the wrong
 * place, a shift within a sector, or stale data from another seed all show. */
void pattern_fill(void *buf, uint64_t sector, size_t nsect, uint32_t seed);
/* The index of the first of nsect sectors in buf that does not hold the pattern, or -1. */
long pattern_check(const void *buf, uint64_t sector, size_t nsect, uint32_t seed);
/* Whether len bytes (a multiple of 8) are all zero. */
int pattern_is_zero(const void *buf, size_t len);

#endif
