/* The few libc string functions the guests use (gcc may also emit calls to mem*). */
#ifndef GUEST_STRING_H
#define GUEST_STRING_H

#include <stddef.h>
#include <stdint.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);

/* Value of "key=value" in a space-separated command line, copied to out (NUL-terminated);
 * returns false when the key is absent. */
_Bool cmdline_get(const char *cmdline, const char *key, char *out, size_t out_size);

/* Decimal conversions: out needs 11 bytes; str_to_u32 takes digits only (no sign, no
 * trailing text) and fails on overflow or an empty string. */
void u32_to_str(char *out, unsigned int v);
_Bool str_to_u32(const char *s, unsigned int *v);
/* "xx:xx:xx:xx:xx:xx" (hex digits of either case) into mac; false for anything else. */
_Bool str_to_mac(const char *s, uint8_t mac[6]);

#endif
