/* Decimal text of unsigned numbers, both ways (xenstore values are decimal text). Header-only,
 * so the test guests' runtime uses the same code without linking the front-ends. */
#ifndef PVFRONT_DECIMAL_H
#define PVFRONT_DECIMAL_H

#include <stdbool.h>
#include <stdint.h>

/* Writes v in decimal, NUL-terminated, into out (21 bytes suffice). */
static inline void front_utoa(char *out, uint64_t v)
{
	char tmp[20];
	unsigned int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*out++ = tmp[--n];
	*out = '\0';
}

/* Digits only (no sign, no trailing text), not empty, at most `max`. */
static inline bool front_atou(const char *s, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		uint64_t d = (uint64_t)(*s - '0');
		if (*s < '0' || *s > '9' || d > max || x > (max - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

#endif
