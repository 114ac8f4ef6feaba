/* Grant tables v1 on the guest itself: size and version queries, setup_table before and after
 * placement, grant frames placed in a hole above RAM (as Linux's unpopulated-alloc does), written
 * and read through that mapping, moved and displaced, and bad indices, gfns and pointers. It
 * leaves frame 0 at its first address with ref 5 granted to dom0 for `pvctl debug-dump`. */
#include "test.h"
#include <xen/grant_table.h>

#define BAD_VA 0xfffffffff000ul	/* not canonical: no page walk can succeed */
#define NO_RAM 0x80000000ul	/* mapped by the guest (2 GiB), nothing behind it */
#define ALL_ONES (~0ull)	/* what a read of an address with nothing behind it gives */
#define GRANT_REF 5
#define GRANT_FRAME 0x1234

static uint64_t f0, f1, f0_moved;	/* guest-physical addresses in the hole */

static long gnttab_op(unsigned int cmd, unsigned long op, unsigned int count)
{
	return hypercall3(__HYPERVISOR_grant_table_op, cmd, op, count);
}

static long place(unsigned long idx, uint64_t gpa, domid_t dom)
{
	struct xen_add_to_physmap x = {
		.domid = dom, .space = XENMAPSPACE_grant_table, .idx = idx, .gpfn = gpa >> 12,
	};
	return HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x);
}

static uint64_t peek(uint64_t gpa) { return *(volatile uint64_t *)(uintptr_t)gpa; }
static void poke(uint64_t gpa, uint64_t v) { *(volatile uint64_t *)(uintptr_t)gpa = v; }

/* GNTTABOP_setup_table for `nr` frames into frames[]; returns the rc, status in *status. */
static long setup(domid_t dom, uint32_t nr, unsigned int count, xen_pfn_t *frames, int16_t *status)
{
	struct gnttab_setup_table op = {.dom = dom, .nr_frames = nr, .status = 99};
	set_xen_guest_handle(op.frame_list, frames);
	long rc = gnttab_op(GNTTABOP_setup_table, (unsigned long)&op, count);
	*status = op.status;
	return rc;
}

/* setup_table for two frames must say where frames 0 and 1 are now. */
static void expect_frames(const char *name, uint64_t want0, uint64_t want1)
{
	xen_pfn_t frames[2] = {0, 0};
	int16_t status;
	long rc = setup(DOMID_SELF, 2, 1, frames, &status);
	uint64_t w0 = want0 == ALL_ONES ? ALL_ONES : want0 >> 12;
	uint64_t w1 = want1 == ALL_ONES ? ALL_ONES : want1 >> 12;
	if (rc == 0 && status == GNTST_okay && frames[0] == w0 && frames[1] == w1)
		report_pass(name);
	else
		report_fail(name, "rc %ld status %d frames %lx %lx, expected %lx %lx", rc, status,
			    (unsigned long)frames[0], (unsigned long)frames[1], (unsigned long)w0,
			    (unsigned long)w1);
}

static bool pick_hole(void)
{
	uint64_t hole = start_info_hole(0x100000);
	if (!hole)
		return false;
	f0 = hole;
	f1 = hole + 0x10000;
	f0_moved = hole + 0x20000;
	xprintf("grant frames go at %lx (RAM ends at %lx)\n", (unsigned long)hole,
		(unsigned long)start_info_ram_end());
	return true;
}

static void sizes_and_versions(void)
{
	struct gnttab_query_size q = {.dom = DOMID_SELF, .status = 99};
	long rc = gnttab_op(GNTTABOP_query_size, (unsigned long)&q, 1);
	if (rc == 0 && q.status == GNTST_okay && q.nr_frames == 1 && q.max_nr_frames == 64)
		report_pass("query_size");
	else
		report_fail("query_size", "rc %ld status %d nr %u max %u", rc, q.status, q.nr_frames,
			    q.max_nr_frames);
	struct gnttab_query_size q0 = {.dom = 0, .status = 99};
	rc = gnttab_op(GNTTABOP_query_size, (unsigned long)&q0, 1);
	if (rc == 0 && q0.status == GNTST_permission_denied)
		report_pass("query_size_dom0");
	else
		report_fail("query_size_dom0", "rc %ld status %d", rc, q0.status);

	struct gnttab_set_version sv = {.version = 1};
	rc = gnttab_op(GNTTABOP_set_version, (unsigned long)&sv, 1);
	if (rc == 0 && sv.version == 1)
		report_pass("set_version_1");
	else
		report_fail("set_version_1", "rc %ld version %u", rc, sv.version);
	sv.version = 2;	/* Xen with gnttab=max-ver:1: -ENOSYS, the version in force written back */
	rc = gnttab_op(GNTTABOP_set_version, (unsigned long)&sv, 1);
	if (rc == -XEN_ENOSYS && sv.version == 1)
		report_pass("set_version_2");
	else
		report_fail("set_version_2", "rc %ld version %u", rc, sv.version);
	struct gnttab_get_version gv = {.dom = DOMID_SELF};
	rc = gnttab_op(GNTTABOP_get_version, (unsigned long)&gv, 1);
	if (rc == 0 && gv.version == 1)
		report_pass("get_version");
	else
		report_fail("get_version", "rc %ld version %u", rc, gv.version);
}

static void setup_before_placement(void)
{
	xen_pfn_t frame = 0;
	int16_t status;
	long rc = setup(DOMID_SELF, 1, 1, &frame, &status);
	if (rc == 0 && status == GNTST_okay && frame == ALL_ONES)
		report_pass("setup_table_unplaced");
	else
		report_fail("setup_table_unplaced", "rc %ld status %d frame %lx", rc, status,
			    (unsigned long)frame);
	expect_rc("setup_table_count_0", setup(DOMID_SELF, 1, 0, &frame, &status), -XEN_EINVAL);
	expect_rc("setup_table_count_2", setup(DOMID_SELF, 1, 2, &frame, &status), -XEN_EINVAL);
	rc = setup(5, 1, 1, &frame, &status);
	if (rc == 0 && status == GNTST_permission_denied)
		report_pass("setup_table_other_dom");
	else
		report_fail("setup_table_other_dom", "rc %ld status %d", rc, status);
	rc = setup(DOMID_SELF, 65, 1, &frame, &status);
	if (rc == 0 && status == GNTST_general_error)
		report_pass("setup_table_65_frames");
	else
		report_fail("setup_table_65_frames", "rc %ld status %d", rc, status);
}

static void place_write_move(void)
{
	/* Frame 0 in the hole: zeroed, and what the guest writes there stays. */
	long rc = place(0, f0, DOMID_SELF);
	if (rc == 0 && peek(f0) == 0 && peek(f0 + 0xff8) == 0)
		report_pass("place_frame_0");
	else
		report_fail("place_frame_0", "rc %ld first word %lx", rc, (unsigned long)peek(f0));
	if (rc != 0)
		return;	/* nothing below can be observed */
	/* The entry as grant_table.h says: domid and frame first, then the flags. */
	volatile grant_entry_v1_t *e = (volatile grant_entry_v1_t *)(uintptr_t)(f0 + GRANT_REF * 8);
	e->domid = 0;
	e->frame = GRANT_FRAME;
	__atomic_store_n(&e->flags, GTF_permit_access, __ATOMIC_RELEASE);
	if (e->flags == GTF_permit_access && e->domid == 0 && e->frame == GRANT_FRAME)
		report_pass("grant_entry_round_trip");
	else
		report_fail("grant_entry_round_trip", "flags %x domid %u frame %x", e->flags, e->domid,
			    e->frame);
	expect_frames("setup_table_placed", f0, ALL_ONES);

	/* Frame 1 elsewhere: the table grew to two frames. */
	rc = place(1, f1, DOMID_SELF);
	poke(f1 + 8, 0x1111);
	struct gnttab_query_size q = {.dom = DOMID_SELF};
	long qrc = gnttab_op(GNTTABOP_query_size, (unsigned long)&q, 1);
	if (rc == 0 && qrc == 0 && q.nr_frames == 2 && peek(f1) == 0 && peek(f1 + 8) == 0x1111)
		report_pass("place_frame_1");
	else
		report_fail("place_frame_1", "rc %ld query rc %ld nr %u", rc, qrc, q.nr_frames);
	expect_frames("setup_table_two_frames", f0, f1);

	/* Frame 0 moves: its contents go along; the old address has nothing behind it now, and
	 * reading it is harmless (all ones, counted by pvd). */
	rc = place(0, f0_moved, DOMID_SELF);
	uint64_t old = peek(f0), moved = peek(f0_moved + GRANT_REF * 8);
	grant_entry_v1_t want = {GTF_permit_access, 0, GRANT_FRAME};
	uint64_t want_word;
	__builtin_memcpy(&want_word, &want, 8);
	if (rc == 0 && old == ALL_ONES && moved == want_word)
		report_pass("move_frame_0");
	else
		report_fail("move_frame_0", "rc %ld old address reads %lx, entry at the new one %lx",
			    rc, (unsigned long)old, (unsigned long)moved);
	poke(f0, 0x5555);	/* a write to nothing is dropped */
	if (peek(f0) == ALL_ONES)
		report_pass("write_to_old_address_dropped");
	else
		report_fail("write_to_old_address_dropped", "reads %lx", (unsigned long)peek(f0));
	expect_frames("setup_table_after_move", f0_moved, f1);

	/* Frame 1 on top of frame 0: frame 0 loses its place. */
	rc = place(1, f0_moved, DOMID_SELF);
	if (rc == 0 && peek(f0_moved + 8) == 0x1111 && peek(f1) == ALL_ONES)
		report_pass("frame_on_top_of_frame");
	else
		report_fail("frame_on_top_of_frame", "rc %ld, at target %lx, old frame 1 address %lx",
			    rc, (unsigned long)peek(f0_moved + 8), (unsigned long)peek(f1));
	expect_frames("setup_table_displaced", ALL_ONES, f0_moved);

	/* Frame 0 back at its first address, with its entry: what debug-dump will show. */
	rc = place(0, f0, DOMID_SELF);
	if (rc == 0 && peek(f0 + GRANT_REF * 8) == want_word)
		report_pass("frame_0_back");
	else
		report_fail("frame_0_back", "rc %ld entry %lx", rc, (unsigned long)peek(f0 + GRANT_REF * 8));
}

static void bad_placements(void)
{
	static uint8_t ram_page[4096] __attribute__((aligned(4096)));
	expect_rc("place_idx_64", place(64, f1, DOMID_SELF), -XEN_EINVAL);
	expect_rc("place_status_frame", place(XENMAPIDX_grant_table_status, f1, DOMID_SELF),
		  -XEN_EINVAL);
	/* Differs from Xen, which would swap the RAM page out (abi/README.md). */
	expect_rc("place_over_ram", place(2, (uintptr_t)ram_page, DOMID_SELF), -XEN_EINVAL);
	expect_rc("place_over_special_pages", place(2, 0xfeff0000, DOMID_SELF), -XEN_EINVAL);
	expect_rc("place_over_lapic", place(2, 0xfee00000, DOMID_SELF), -XEN_EINVAL);
	expect_rc("place_over_ioapic", place(2, 0xfec00000, DOMID_SELF), -XEN_EINVAL);
	expect_rc("place_beyond_address_width", place(2, 1ull << 60, DOMID_SELF), -XEN_EINVAL);
	expect_rc("place_for_dom0", place(2, f1, 0), -XEN_EPERM);
	struct gnttab_query_size q = {.dom = DOMID_SELF};
	gnttab_op(GNTTABOP_query_size, (unsigned long)&q, 1);
	if (q.nr_frames == 2)
		report_pass("refusals_left_the_table_alone");
	else
		report_fail("refusals_left_the_table_alone", "nr_frames %u", q.nr_frames);

	struct gnttab_map_grant_ref map = {.ref = GRANT_REF, .dom = DOMID_SELF};
	expect_rc("map_grant_ref_from_domu", gnttab_op(GNTTABOP_map_grant_ref, (unsigned long)&map, 1),
		  -XEN_ENOSYS);
}

static void hostile_pointers(void)
{
	expect_rc("add_to_physmap_bad_struct", HYPERVISOR_memory_op(XENMEM_add_to_physmap, BAD_VA),
		  -XEN_EFAULT);
	expect_rc("add_to_physmap_no_ram", HYPERVISOR_memory_op(XENMEM_add_to_physmap, NO_RAM),
		  -XEN_EFAULT);
	expect_rc("query_size_bad_struct", gnttab_op(GNTTABOP_query_size, BAD_VA, 1), -XEN_EFAULT);
	expect_rc("setup_table_bad_struct", gnttab_op(GNTTABOP_setup_table, NO_RAM, 1), -XEN_EFAULT);
	expect_rc("get_version_bad_struct", gnttab_op(GNTTABOP_get_version, BAD_VA, 1), -XEN_EFAULT);
	int16_t status;
	long rc = setup(DOMID_SELF, 1, 1, (xen_pfn_t *)BAD_VA, &status);
	if (rc == 0 && status == GNTST_bad_virt_addr)
		report_pass("setup_table_bad_frame_list");
	else
		report_fail("setup_table_bad_frame_list", "rc %ld status %d", rc, status);
}

void test_main(void)
{
	sizes_and_versions();
	setup_before_placement();
	if (!pick_hole()) {
		report_fail("hole", "no hole above RAM in the memory map");
		return;
	}
	place_write_move();
	bad_placements();
	hostile_pointers();
}
