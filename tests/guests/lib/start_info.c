/* Helpers over hvm_start_info: command line, memory map. */
#include "start_info.h"
#include "string.h"

const struct hvm_start_info *start_info;

const char *start_info_cmdline(void)
{
	const char *s = phys_to_virt(start_info->cmdline_paddr);
	return s ? s : "";
}

_Bool start_info_cmdline_uint(const char *key, unsigned int *v)
{
	char text[16];	/* room for more than 10 digits: a longer value fills it and is refused */
	if (!cmdline_get(start_info_cmdline(), key, text, sizeof(text)))
		return 1;
	return strlen(text) < sizeof(text) - 1 && str_to_u32(text, v);
}

const struct hvm_memmap_table_entry *start_info_memmap(uint32_t *nr)
{
	const struct hvm_memmap_table_entry *m =
		start_info->version >= 1 ? phys_to_virt(start_info->memmap_paddr) : 0;
	*nr = m ? start_info->memmap_entries : 0;
	return m;
}

uint64_t start_info_ram_end(void)
{
	uint32_t nr;
	const struct hvm_memmap_table_entry *m = start_info_memmap(&nr);
	uint64_t end = 0;
	for (uint32_t i = 0; i < nr; i++) {
		uint64_t e = m[i].addr + m[i].size;
		if (m[i].type == XEN_HVM_MEMMAP_TYPE_RAM && e <= 0x100000000ull && e > end)
			end = e;
	}
	return end;
}

uint64_t start_info_hole(uint64_t size)
{
	uint64_t end = start_info_ram_end();
	uint64_t hole = ((end + 0x1fffff) & ~0x1fffffull) + 0x200000;
	uint32_t nr;
	const struct hvm_memmap_table_entry *m = start_info_memmap(&nr);
	if (!end || hole + size > 0xc0000000ull)
		return 0;
	for (uint32_t i = 0; i < nr; i++)
		if (m[i].addr < hole + size && hole < m[i].addr + m[i].size)
			return 0;
	return hole;
}
