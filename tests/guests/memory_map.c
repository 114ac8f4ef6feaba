/* XENMEM_memory_map: the e820 map is sane, covers this image, and matches hvm_start_info. */
#include "test.h"

/* The BIOS e820 layout that XENMEM_memory_map fills (Xen's public headers leave it to the
 * guest). */
struct e820entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

#define MAX_ENTRIES 128
static struct e820entry map[MAX_ENTRIES], small[MAX_ENTRIES];

static long get_map(struct e820entry *buf, unsigned int *nr)
{
	struct xen_memory_map mm = {.nr_entries = *nr};
	set_xen_guest_handle(mm.buffer, buf);
	long rc = HYPERVISOR_memory_op(XENMEM_memory_map, &mm);
	*nr = mm.nr_entries;
	return rc;
}

static void check_layout(unsigned int nr)
{
	uint64_t img_lo = (uintptr_t)__image_start, img_hi = (uintptr_t)__image_end;
	bool sorted = true, covered = false;
	uint64_t ram = 0;

	for (unsigned int i = 0; i < nr; i++) {
		const struct e820entry *e = &map[i];
		xprintf("e820 %u: %016lx-%016lx type %u\n", i, (unsigned long)e->addr,
			(unsigned long)(e->addr + e->size), e->type);
		if (e->size == 0 || e->addr + e->size < e->addr ||
		    (i && e->addr < map[i - 1].addr + map[i - 1].size))
			sorted = false;
		if (e->type == XEN_HVM_MEMMAP_TYPE_RAM) {
			ram += e->size;
			covered |= e->addr <= img_lo && img_hi <= e->addr + e->size;
		}
	}
	if (sorted)
		report_pass("memory_map_sorted");
	else
		report_fail("memory_map_sorted", "entries empty, overlapping or out of order");
	if (covered)
		report_pass("memory_map_covers_image");
	else
		report_fail("memory_map_covers_image", "no RAM entry covers %lx-%lx",
			    (unsigned long)img_lo, (unsigned long)img_hi);

	/* The cfg passes its `memory` setting as ram_mib=; loaders may carve a little out of RAM
	 * (legacy hole, ACPI tables), never add to it. */
	char want[12];
	if (!cmdline_get(start_info_cmdline(), "ram_mib", want, sizeof(want))) {
		report_skip("memory_map_ram_size", "no ram_mib= on the command line");
		return;
	}
	uint64_t mib = 0;
	for (const char *p = want; *p >= '0' && *p <= '9'; p++)
		mib = mib * 10 + (uint64_t)(*p - '0');
	if (ram <= mib << 20 && ram + (4ull << 20) >= mib << 20)
		report_pass("memory_map_ram_size");
	else
		report_fail("memory_map_ram_size", "%lu KiB of RAM for memory = %lu", (unsigned long)(ram >> 10),
			    (unsigned long)mib);
}

static void check_start_info(unsigned int nr)
{
	uint32_t si_nr;
	const struct hvm_memmap_table_entry *si = start_info_memmap(&si_nr);
	if (!si) {
		report_fail("memory_map_matches_start_info", "start_info has no memmap (version %u)",
			    start_info->version);
		return;
	}
	if (si_nr != nr) {
		report_fail("memory_map_matches_start_info", "%u entries vs %u in start_info", nr, si_nr);
		return;
	}
	for (unsigned int i = 0; i < nr; i++) {
		if (si[i].addr != map[i].addr || si[i].size != map[i].size || si[i].type != map[i].type) {
			report_fail("memory_map_matches_start_info", "entry %u differs", i);
			return;
		}
	}
	report_pass("memory_map_matches_start_info");
}

void test_main(void)
{
	unsigned int nr = MAX_ENTRIES;
	long rc = get_map(map, &nr);
	if (rc != 0 || nr == 0 || nr > MAX_ENTRIES) {
		report_fail("memory_map", "returned %ld with %u entries", rc, nr);
		return;
	}
	report_pass("memory_map");
	check_layout(nr);
	check_start_info(nr);

	/* Xen copies min(nr_entries, map size) entries and writes the count back. */
	unsigned int one = 1;
	rc = get_map(small, &one);
	if (rc == 0 && one == 1 && !memcmp(&small[0], &map[0], sizeof(map[0])))
		report_pass("memory_map_truncated");
	else
		report_fail("memory_map_truncated", "returned %ld with %u entries", rc, one);

	unsigned int huge = 0xffffffffu;
	rc = get_map(small, &huge);
	if (rc == 0 && huge == nr)
		report_pass("memory_map_oversized_count");
	else
		report_fail("memory_map_oversized_count", "returned %ld with %u entries, expected %u", rc,
			    huge, nr);
}
