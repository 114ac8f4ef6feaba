/* The guest's grant table v1: placement, a bitmap of taken refs, grant and end-access. */
#include "grant.h"

#include <xen/memory.h>

#define ENTRIES_PER_FRAME (FRONT_PAGE_SIZE / sizeof(grant_entry_v1_t))
#define MAX_REFS (GNT_MAX_FRAMES * ENTRIES_PER_FRAME)

static grant_entry_v1_t *table;
static unsigned int nr_refs;
static uint64_t taken[MAX_REFS / 64];
static unsigned int in_use;

int gnt_init(uint64_t gpa, unsigned int nr_frames)
{
	if (!nr_frames || nr_frames > GNT_MAX_FRAMES || (gpa & (FRONT_PAGE_SIZE - 1)))
		return -XEN_EINVAL;
	for (unsigned int i = 0; i < nr_frames; i++) {
		struct xen_add_to_physmap x = {
			.domid = DOMID_SELF,
			.space = XENMAPSPACE_grant_table,
			.idx = i,
			.gpfn = (gpa >> 12) + i,
		};
		long rc = front_memory_op(XENMEM_add_to_physmap, &x);
		if (rc)
			return (int)rc;
	}
	table = (grant_entry_v1_t *)(uintptr_t)gpa;
	nr_refs = nr_frames * ENTRIES_PER_FRAME;
	memset(taken, 0, sizeof(taken));
	for (unsigned int r = 0; r < GNTTAB_NR_RESERVED_ENTRIES; r++)
		taken[r / 64] |= 1ull << (r % 64);
	in_use = 0;
	return 0;
}

unsigned int gnt_nr_refs(void) { return nr_refs; }
unsigned int gnt_refs_in_use(void) { return in_use; }

static void write_entry(grant_ref_t ref, domid_t dom, xen_pfn_t gfn, uint16_t flags)
{
	table[ref].frame = (uint32_t)gfn;
	table[ref].domid = dom;
	__atomic_store_n(&table[ref].flags, flags, __ATOMIC_RELEASE);
}

static bool is_taken(grant_ref_t ref) { return taken[ref / 64] & (1ull << (ref % 64)); }

int gnt_grant_ref(grant_ref_t ref, domid_t dom, xen_pfn_t gfn, uint16_t flags)
{
	if (ref >= nr_refs)
		return -XEN_EINVAL;
	if (is_taken(ref))
		return -XEN_EBUSY;
	taken[ref / 64] |= 1ull << (ref % 64);
	in_use++;
	write_entry(ref, dom, gfn, flags);
	return 0;
}

int gnt_grant(domid_t dom, xen_pfn_t gfn, bool readonly, grant_ref_t *ref)
{
	for (unsigned int w = 0; w < nr_refs / 64; w++) {
		if (taken[w] == ~0ull)
			continue;
		grant_ref_t r = w * 64 + (unsigned int)__builtin_ctzll(~taken[w]);
		*ref = r;
		return gnt_grant_ref(r, dom, gfn, GTF_permit_access | (readonly ? GTF_readonly : 0));
	}
	return -XEN_ENOSPC;
}

int gnt_end(grant_ref_t ref)
{
	if (ref >= nr_refs || !is_taken(ref) || ref < GNTTAB_NR_RESERVED_ENTRIES)
		return -XEN_EINVAL;
	uint16_t flags = __atomic_load_n(&table[ref].flags, __ATOMIC_ACQUIRE);
	do {
		if (flags & (GTF_reading | GTF_writing))
			return -XEN_EBUSY;
	} while (!__atomic_compare_exchange_n(&table[ref].flags, &flags, 0, false, __ATOMIC_SEQ_CST,
					      __ATOMIC_ACQUIRE));
	taken[ref / 64] &= ~(1ull << (ref % 64));
	in_use--;
	return 0;
}

void gnt_revoke(grant_ref_t ref)
{
	if (ref >= nr_refs || ref < GNTTAB_NR_RESERVED_ENTRIES)
		return;
	__atomic_store_n(&table[ref].flags, 0, __ATOMIC_SEQ_CST);
	if (is_taken(ref)) {
		taken[ref / 64] &= ~(1ull << (ref % 64));
		in_use--;
	}
}

uint16_t gnt_flags(grant_ref_t ref)
{
	return ref < nr_refs ? __atomic_load_n(&table[ref].flags, __ATOMIC_ACQUIRE) : 0;
}
