/* Minimal freestanding string functions (built with -fno-tree-loop-distribute-patterns so
 * gcc does not turn these loops back into calls to themselves). */
#include "string.h"

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
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

void u32_to_str(char *out, unsigned int v)
{
	char tmp[10];
	unsigned int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*out++ = tmp[--n];
	*out = '\0';
}

_Bool str_to_u32(const char *s, unsigned int *v)
{
	uint64_t x = 0;
	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		x = x * 10 + (unsigned int)(*s - '0');
		if (x > 0xffffffffu)
			return 0;
	}
	*v = (unsigned int)x;
	return 1;
}
