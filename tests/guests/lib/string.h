/* The few libc string functions the guests use (gcc may also emit calls to mem*). */
#ifndef GUEST_STRING_H
#define GUEST_STRING_H

#include <stddef.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);

/* Value of "key=value" in a space-separated command line, copied to out (NUL-terminated);
 * returns false when the key is absent. */
_Bool cmdline_get(const char *cmdline, const char *key, char *out, size_t out_size);

#endif
