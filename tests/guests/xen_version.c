/* xen_version sub-ops and the Xen CPUID leaves (signature, version, hypercall MSR, HVM leaf). */
#include "test.h"

/* Prefilled with non-NUL so a string the hypervisor failed to terminate is caught; static so
 * the filling costs nothing at run time. */
static xen_extraversion_t extraversion = {[0 ... sizeof(xen_extraversion_t) - 1] = 'X'};
static xen_capabilities_info_t capabilities = {[0 ... sizeof(xen_capabilities_info_t) - 1] = 'X'};
static xen_changeset_info_t changeset = {[0 ... sizeof(xen_changeset_info_t) - 1] = 'X'};
static xen_compile_info_t compile_info = {.compiler = {[0 ... 63] = 'X'}};
static xen_domain_handle_t handle;

/* Xen lets any guest read these but an XSM policy may refuse with -EPERM (xsm/dummy.h). */
static void string_op(const char *name, unsigned int cmd, char *buf, size_t size)
{
	long rc = HYPERVISOR_xen_version(cmd, buf);
	if (rc == -XEN_EPERM)
		report_skip(name, "-EPERM (allowed by Xen's XSM policy)");
	else if (rc != 0)
		report_fail(name, "returned %ld", rc);
	else if (strnlen(buf, size) == size)
		report_fail(name, "no NUL within %zu bytes", size);
	else {
		xprintf("%s: \"%s\"\n", name, buf);
		report_pass(name);
	}
}

void test_main(void)
{
	uint32_t a, b, c, d;
	uint32_t base = xen_cpuid_base;

	cpuid(1, &a, &b, &c, &d);
	if (c & (1u << 31))
		report_pass("cpuid_hypervisor_bit");
	else
		report_fail("cpuid_hypervisor_bit", "CPUID.1:ECX[31] clear (Linux requires it)");

	cpuid(base, &a, &b, &c, &d);
	xprintf("Xen leaves at %x, max leaf %x\n", base, a);
	if (a >= base + 4)
		report_pass("cpuid_signature");
	else
		report_fail("cpuid_signature", "max leaf %x lacks the HVM leaf %x", a, base + 4);

	long version = HYPERVISOR_xen_version(XENVER_version, 0);
	if (version > 0) {
		xprintf("XENVER_version: %ld.%ld\n", version >> 16, version & 0xffff);
		report_pass("xenver_version");
	} else
		report_fail("xenver_version", "returned %ld", version);

	cpuid(base + 1, &a, &b, &c, &d);
	if ((long)a == version)
		report_pass("cpuid_version");
	else
		report_fail("cpuid_version", "leaf says %x, XENVER_version %lx", a, version);

	cpuid(base + 2, &a, &b, &c, &d);
	xprintf("hypercall pages %u, MSR %x\n", a, b);
	if (a >= 1 && b != 0)
		report_pass("cpuid_hypercall_msr");
	else
		report_fail("cpuid_hypercall_msr", "pages %u msr %x", a, b);

	cpuid(base + 4, &a, &b, &c, &d);
	xprintf("HVM leaf: flags %x vcpu %u domid %u\n", a, b, c);
	if ((a & XEN_HVM_CPUID_VCPU_ID_PRESENT) && b == 0)
		report_pass("cpuid_hvm_vcpu_id");
	else
		report_fail("cpuid_hvm_vcpu_id", "flags %x vcpu id %u", a, b);
	if (a & XEN_HVM_CPUID_UPCALL_VECTOR)
		report_pass("cpuid_hvm_upcall_vector");
	else
		report_fail("cpuid_hvm_upcall_vector", "flags %x", a);

	string_op("xenver_extraversion", XENVER_extraversion, extraversion, sizeof(extraversion));
	string_op("xenver_capabilities", XENVER_capabilities, capabilities, sizeof(capabilities));
	string_op("xenver_changeset", XENVER_changeset, changeset, sizeof(changeset));
	string_op("xenver_compile_info", XENVER_compile_info, compile_info.compiler,
		  sizeof(compile_info.compiler));

	long rc = HYPERVISOR_xen_version(XENVER_guest_handle, handle);
	if (rc == 0 || rc == -XEN_EPERM)
		report_pass("xenver_guest_handle");
	else
		report_fail("xenver_guest_handle", "returned %ld", rc);

	struct xen_feature_info fi = {.submap_idx = 0, .submap = 0xdeadbeef};
	rc = HYPERVISOR_xen_version(XENVER_get_features, &fi);
	if (rc == 0 && fi.submap != 0xdeadbeef) {
		xprintf("XENVER_get_features[0]: %08x\n", fi.submap);
		report_pass("xenver_get_features");
	} else
		report_fail("xenver_get_features", "returned %ld, submap %x", rc, fi.submap);

	expect_rc("xenver_pagesize", HYPERVISOR_xen_version(XENVER_pagesize, 0), 4096);
}
