/* Minimal freestanding string functions (built with -fno-tree-loop-distribute-patterns so
 * gcc does not turn the loops back into calls to themselves). */
#include "string.h"

#include "decimal.h"

/* String instructions, 8 bytes per element: the development KVM emulates ring-0 code and
 * spends ~0.8 us per element of a `rep` instruction (~5 us per iteration of a C loop). */
void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	size_t q = n / 8, r = n % 8;
	uint64_t v = (uint8_t)c * 0x0101010101010101ull;
	asm volatile("rep stosq; mov %3, %%rcx; rep stosb"
		     : "+D"(d), "+c"(q) : "a"(v), "r"(r) : "memory");
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	size_t q = n / 8, r = n % 8;
	asm volatile("rep movsq; mov %3, %%rcx; rep movsb"
		     : "+D"(d), "+S"(src), "+c"(q) : "r"(r) : "memory");
	return dst;
}

/* repe cmpsq stops just past the first differing quadword (or past the last one); that
 * quadword, or else the tail, is then compared a byte at a time. */
int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	size_t q = n / 8;
	n %= 8;
	if (q) {
		asm volatile("repe cmpsq" : "+S"(x), "+D"(y), "+c"(q) : : "memory", "cc");
		uint64_t lx, ly;
		__builtin_memcpy(&lx, x - 8, 8);
		__builtin_memcpy(&ly, y - 8, 8);
		if (lx != ly) {
			x -= 8;
			y -= 8;
			n = 8;
		}
	}
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	const char *p = s;
	while (*p)
		p++;
	return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

_Bool cmdline_get(const char *cmdline, const char *key, char *out, size_t out_size)
{
	size_t klen = strlen(key);
	for (const char *p = cmdline; *p;) {
		while (*p == ' ')
			p++;
		if (!memcmp(p, key, klen) && p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t n = 0;
			while (v[n] && v[n] != ' ' && n + 1 < out_size)
				n++;
			memcpy(out, v, n);
			out[n] = '\0';
			return 1;
		}
		while (*p && *p != ' ')
			p++;
	}
	return 0;
}

void u32_to_str(char *out, unsigned int v) { front_utoa(out, v); }

_Bool str_to_u32(const char *s, unsigned int *v)
{
	uint64_t x;
	if (!front_atou(s, 0xffffffffu, &x))
		return 0;
	*v = (unsigned int)x;
	return 1;
}

_Bool str_to_mac(const char *s, uint8_t mac[6])
{
	for (unsigned int i = 0; i < 6; i++, s += 3) {
		unsigned int v = 0;
		for (unsigned int j = 0; j < 2; j++) {
			char c = (char)(s[j] | 0x20);
			if (c >= '0' && c <= '9')
				v = v * 16 + (unsigned int)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v = v * 16 + (unsigned int)(c - 'a' + 10);
			else
				return 0;
		}
		if (s[2] != (i == 5 ? '\0' : ':'))
			return 0;
		mac[i] = (uint8_t)v;
	}
	return 1;
}
