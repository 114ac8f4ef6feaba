/* The guest's own grant table (v1): frames placed in a hole, refs handed out and taken back. */
#ifndef PVFRONT_GRANT_H
#define PVFRONT_GRANT_H

#include "front_env.h"
#include <xen/grant_table.h>

/* The most frames gnt_init places (512 refs each). */
#define GNT_MAX_FRAMES 8

/* Places grant frames 0..nr_frames-1 at `gpa` onwards (XENMAPSPACE_grant_table into a hole of
 * the physical map, as Linux's unpopulated-alloc does). The first GNTTAB_NR_RESERVED_ENTRIES
 * refs are never handed out. Returns 0 or the hypercall's error. */
int gnt_init(uint64_t gpa, unsigned int nr_frames);
unsigned int gnt_nr_refs(void);

/* Grants `dom` access to frame `gfn` (read-only or read-write) under a free ref: frame and
 * domid first, then the flags with release order (Linux's gnttab_grant_foreign_access).
 * -XEN_ENOSPC when every ref is taken. */
int gnt_grant(domid_t dom, xen_pfn_t gfn, bool readonly, grant_ref_t *ref);
/* The same under a ref the caller chooses; -XEN_EBUSY if it is taken, -XEN_EINVAL outside the
 * table. `flags` are written as given (tests pass odd ones). */
int gnt_grant_ref(grant_ref_t ref, domid_t dom, xen_pfn_t gfn, uint16_t flags);
/* Ends access, as Linux's gnttab_end_foreign_access_ref: the flags go to 0 only if the remote
 * does not hold the grant (GTF_reading/GTF_writing clear), in one compare-and-exchange; then
 * the ref is free again. -XEN_EBUSY (the grant stays) while it is held. */
int gnt_end(grant_ref_t ref);
/* What a hostile guest does instead: the flags go to 0 whoever holds the grant, and the ref
 * is free again. */
void gnt_revoke(grant_ref_t ref);
/* The entry's flags now (GTF_* including the remote's GTF_reading/GTF_writing). */
uint16_t gnt_flags(grant_ref_t ref);
/* Refs taken now (tests check that drivers gave theirs back). */
unsigned int gnt_refs_in_use(void);

#endif
