// The standard xenstore tree of a domain, as libxl__domain_make and libxl__build_post lay it out.
#include "dom0-tools/xenstore/domain_tree.h"

#include <cstdio>

#include "dom0-tools/xenstore/path.h"

namespace pvhv::xs {

std::string default_uuid(DomId domid) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "00000000-0000-0000-0000-%012x", unsigned{domid.value});
    return buf;
}

std::string console_backend_path(DomId domid) {
    return "/local/domain/0/backend/console/" + std::to_string(domid.value) + "/0";
}

Result<ConnId> create_domain_tree(XsClient& dom0, const DomainTreeSpec& spec) {
    if (dom0.domid() != kDom0) return fail(XEN_EPERM, "only dom0 builds domain trees");
    if (spec.domid == kDom0) return fail(XEN_EINVAL, "dom0 has create_dom0_tree");
    const DomId id = spec.domid;
    const std::string dom = domain_path(id);
    const std::string uuid = spec.uuid.empty() ? default_uuid(id) : spec.uuid;
    const std::string vm = "/vm/" + uuid;
    // libxl's roperm (dom0 owns, the guest reads), rwperm (the guest owns).
    const Perms ro{Perm{kDom0, kPermNone}, Perm{id, kPermRead}};
    const Perms rw{Perm{id, kPermNone}};
    const uint64_t max_kib = spec.max_memory_kib ? spec.max_memory_kib : spec.memory_kib;

    auto r = dom0.transact([&](TxId t) -> Result<void> {
        auto node = [&](const std::string& path, const Perms& perms,
                        std::optional<std::string> value = std::nullopt) -> Result<void> {
            auto w = value ? dom0.write(path, *value, t) : dom0.mkdir(path, t);
            if (!w) return w;
            return dom0.set_perms(path, perms, t);
        };
        // A clean slate, as libxl: leftovers of an earlier domain with this id go.
        for (const auto& p : {dom, vm, console_backend_path(id)})
            if (auto d = dom0.rm(p, t); !d && d.error().xen_errno != XEN_ENOENT) return d;
        Result<void> res;
        auto step = [&](Result<void> s) {
            if (res && !s) res = std::move(s);
        };
        step(node(dom, ro));
        step(node(vm, ro));
        step(node(vm + "/uuid", ro, uuid));
        step(node(vm + "/name", ro, spec.name));
        step(node(dom + "/vm", ro, vm));
        step(node(dom + "/name", ro, spec.name));
        step(node(dom + "/domid", ro, std::to_string(id.value)));
        step(node(dom + "/cpu", ro));
        for (uint32_t c = 0; c < spec.vcpus; ++c)
            step(node(dom + "/cpu/" + std::to_string(c) + "/availability", ro, "online"));
        step(node(dom + "/memory", ro));
        step(node(dom + "/memory/static-max", ro, std::to_string(max_kib)));
        step(node(dom + "/memory/target", ro, std::to_string(spec.memory_kib)));
        step(node(dom + "/device", ro));
        step(node(dom + "/device/suspend/event-channel", rw));
        step(node(dom + "/control", ro));
        for (const char* c : {"shutdown", "feature-poweroff", "feature-reboot", "feature-suspend", "sysrq"})
            step(node(dom + "/control/" + c, rw));
        step(node(dom + "/control/platform-feature-multiprocessor-suspend", ro, "1"));
        step(node(dom + "/control/platform-feature-xs_reset_watches", ro, "1"));
        for (const char* c : {"data", "drivers", "feature", "attr", "error"}) step(node(dom + "/" + c, rw));
        if (spec.store_port) step(node(dom + "/store/port", ro, std::to_string(*spec.store_port)));
        if (spec.store_ring_ref) step(node(dom + "/store/ring-ref", ro, std::to_string(*spec.store_ring_ref)));
        if (spec.console) {
            const std::string fe = dom + "/console";
            const std::string be = console_backend_path(id);
            step(node(fe, rw));  // the frontend directory is the guest's, as libxl makes it
            step(node(fe + "/ring-ref", ro, std::to_string(spec.console->ring_ref)));
            step(node(fe + "/port", ro, std::to_string(spec.console->port)));
            step(node(fe + "/limit", ro, "1048576"));
            step(node(fe + "/type", ro, "xenconsoled"));
            step(node(fe + "/output", ro, "pty"));
            step(node(fe + "/tty", ro, ""));
            step(node(fe + "/backend", rw, be));
            step(node(fe + "/backend-id", rw, "0"));
            step(node(be, ro));
            step(node(be + "/frontend", ro, fe));
            step(node(be + "/frontend-id", ro, std::to_string(id.value)));
            step(node(be + "/online", ro, "1"));
            step(node(be + "/state", ro, "1"));
            step(node(be + "/protocol", ro, "vt100"));
        }
        return res;
    });
    if (!r) return std::unexpected(r.error());
    return dom0.store().introduce_domain(id);
}

Result<void> destroy_domain_tree(XsClient& dom0, DomId domid) {
    if (dom0.domid() != kDom0) return fail(XEN_EPERM, "only dom0 removes domain trees");
    const std::string dom = domain_path(domid);
    auto vm = dom0.read(dom + "/vm");
    auto r = dom0.transact([&](TxId t) -> Result<void> {
        // Best effort, and only below /vm/: a bad value must not keep the domain's tree.
        if (vm && vm->starts_with("/vm/")) (void)dom0.rm(*vm, t);
        if (auto d = dom0.rm(console_backend_path(domid), t); !d && d.error().xen_errno != XEN_ENOENT) return d;
        if (auto d = dom0.rm(dom, t); !d && d.error().xen_errno != XEN_ENOENT) return d;
        return {};
    });
    dom0.store().release_domain(domid);
    return r;
}

Result<void> create_dom0_tree(XsClient& dom0) {
    if (dom0.domid() != kDom0) return fail(XEN_EPERM, "only dom0 builds its tree");
    return dom0.transact([&](TxId t) -> Result<void> {
        if (auto w = dom0.write("/local/domain/0/name", "Domain-0", t); !w) return w;
        return dom0.write("/local/domain/0/domid", "0", t);
    });
}

}  // namespace pvhv::xs
