// Xen's public headers (libxen-dev) with the <stdint.h> types they assume already declared.
#pragma once

#include <cstddef>
#include <cstdint>

#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/features.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/version.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/arch-x86/hvm/start_info.h>
