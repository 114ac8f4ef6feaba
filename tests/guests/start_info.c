/* hvm_start_info as a PVH loader must fill it: magic, version, flags, command line, modules,
 * memmap, RSDP, and nothing placed over the kernel image. */
#include "test.h"

/* Must match cmdline in start_info.cfg. */
#define EXPECTED_CMDLINE "start_info check=1 spaced  words"

static bool overlaps_image(uint64_t pa, uint64_t len)
{
	return pa < (uintptr_t)__image_end && (uintptr_t)__image_start < pa + len;
}

static void check_placement(const char *name, uint64_t pa, uint64_t len)
{
	if (pa + len > 0x100000000ull)
		report_fail(name, "%lx+%lx is not below 4 GiB", (unsigned long)pa, (unsigned long)len);
	else if (overlaps_image(pa, len))
		report_fail(name, "%lx+%lx overlaps the image", (unsigned long)pa, (unsigned long)len);
	else
		report_pass(name);
}

static void check_rsdp(void)
{
	const uint8_t *rsdp = phys_to_virt(start_info->rsdp_paddr);
	if (!start_info->rsdp_paddr) {
		report_skip("start_info_rsdp", "no ACPI tables");
		return;
	}
	uint8_t sum = 0;
	for (unsigned int i = 0; rsdp && i < 20; i++)
		sum += rsdp[i];
	if (rsdp && !memcmp(rsdp, "RSD PTR ", 8) && sum == 0)
		report_pass("start_info_rsdp");
	else
		report_fail("start_info_rsdp", "no valid RSDP at %lx", (unsigned long)start_info->rsdp_paddr);
}

void test_main(void)
{
	const struct hvm_start_info *si = start_info;
	xprintf("start_info at %p: version %u flags %x modules %u cmdline %lx rsdp %lx memmap %lx/%u\n",
		(const void *)si, si->version, si->flags, si->nr_modules, (unsigned long)si->cmdline_paddr,
		(unsigned long)si->rsdp_paddr, (unsigned long)si->memmap_paddr, si->memmap_entries);

	expect_rc("start_info_magic", si->magic, XEN_HVM_START_MAGIC_VALUE);
	if (si->version >= 1)
		report_pass("start_info_version");
	else
		report_fail("start_info_version", "version %u has no memmap", si->version);
	if (!(si->flags & (SIF_PRIVILEGED | SIF_INITDOMAIN)))
		report_pass("start_info_flags_unprivileged");
	else
		report_fail("start_info_flags_unprivileged", "flags %x", si->flags);
	expect_rc("start_info_no_modules", si->nr_modules, 0);

	const char *cmdline = start_info_cmdline();
	if (!strcmp(cmdline, EXPECTED_CMDLINE))
		report_pass("start_info_cmdline");
	else
		report_fail("start_info_cmdline", "\"%s\", expected \"%s\"", cmdline, EXPECTED_CMDLINE);

	if (si->version >= 1 && si->memmap_paddr && si->memmap_entries && !si->reserved)
		report_pass("start_info_memmap");
	else
		report_fail("start_info_memmap", "memmap %lx entries %u reserved %x",
			    (unsigned long)si->memmap_paddr, si->memmap_entries, si->reserved);

	check_placement("start_info_placement", (uintptr_t)si, sizeof(*si));
	check_placement("start_info_cmdline_placement", si->cmdline_paddr, strlen(cmdline) + 1);
	check_placement("start_info_memmap_placement", si->memmap_paddr,
			(uint64_t)si->memmap_entries * sizeof(struct hvm_memmap_table_entry));
	check_rsdp();
}
