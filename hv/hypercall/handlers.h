// The hypercall handlers, one file per area; the dispatch table wires them by number.
#pragma once

#include "hv/hypercall/hypercall.h"

namespace pvhv {

int64_t do_xen_version(HypercallContext& ctx, const HypercallArgs& a);
int64_t do_console_io(HypercallContext& ctx, const HypercallArgs& a);
int64_t do_sched_op(HypercallContext& ctx, const HypercallArgs& a);
int64_t do_hvm_op(HypercallContext& ctx, const HypercallArgs& a);
int64_t do_memory_op(HypercallContext& ctx, const HypercallArgs& a);
int64_t do_vcpu_op(HypercallContext& ctx, const HypercallArgs& a);
int64_t do_set_timer_op(HypercallContext& ctx, const HypercallArgs& a);
int64_t do_grant_table_op(HypercallContext& ctx, const HypercallArgs& a);

// Xen's version as this ABI reports it (the interface level of libxen-dev 4.17).
inline constexpr uint32_t kXenMajor = 4;
inline constexpr uint32_t kXenMinor = 17;
inline constexpr char kXenExtraversion[] = "-pvhv";

// XENFEAT_* bits (submap 0) that pvhv implements. Only what works is advertised.
uint32_t xen_features_submap0();

inline constexpr int64_t err(int xen_errno) { return -static_cast<int64_t>(xen_errno); }

}  // namespace pvhv
