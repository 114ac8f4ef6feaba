/* Access to the PVH hvm_start_info the loader passed in ebx. */
#ifndef GUEST_START_INFO_H
#define GUEST_START_INFO_H

#include <stdint.h>
#include <xen/arch-x86/hvm/start_info.h>

extern const struct hvm_start_info *start_info;	/* set before test_main */
extern char __image_start[], __image_end[];	/* the guest's own image (guest.ld) */

/* Physical addresses below 4 GiB are identity-mapped; anything else reads as absent. */
static inline const void *phys_to_virt(uint64_t pa)
{
	return pa && pa < 0x100000000ull ? (const void *)(uintptr_t)pa : (const void *)0;
}

/* The command line, or "" when there is none. */
const char *start_info_cmdline(void);

/* The unsigned decimal value of `key=` on the command line into *v: true when the key is
 * absent (*v keeps its default) or holds a number, false when its value is not one. */
_Bool start_info_cmdline_uint(const char *key, unsigned int *v);

/* The memory map and its entry count (0 and NULL before version 1 or when absent). */
const struct hvm_memmap_table_entry *start_info_memmap(uint32_t *nr);

/* End of the highest RAM entry below 4 GiB (0 when there is no memory map). */
uint64_t start_info_ram_end(void);

/* A hole of `size` bytes for pages placed at run time (grant frames): 2 MiB above the end of
 * RAM (2 MiB-aligned), in no memory map entry, below 3 GiB; 0 when there is none. */
uint64_t start_info_hole(uint64_t size);

#endif
