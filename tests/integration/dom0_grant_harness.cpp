// pvhv-dom0-grant-harness: plays dom0 for the gnttab_dom0 test guest with the grant and event
// channel API pvd's back-ends use: maps, copies, survives revocation while mapped.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <regex>
#include <string>

#include "hv/domain/domain.h"
#include "hv/domain/domain_registry.h"
#include "hv/evtchn/dom0_event_channels.h"
#include "hv/gnttab/grant_access.h"
#include "hv/xen_public.h"

namespace pvhv {
namespace {

// The guest's announcement: "DOM0TEST port=P rw=R ro=R other=R notram=R".
struct Announcement {
    EvtchnPort port;
    GrantRef rw, ro, other, not_ram;
};

class Observer : public DomainObserver {
public:
    void console_output(DomId, std::string_view bytes) override {
        std::fwrite(bytes.data(), 1, bytes.size(), stdout);
        std::fflush(stdout);
        std::lock_guard lock(mu_);
        console_.append(bytes);
        static const std::regex line(R"(DOM0TEST port=(\d+) rw=(\d+) ro=(\d+) other=(\d+) notram=(\d+))");
        std::smatch m;
        if (!found_ && std::regex_search(console_, m, line)) {
            auto n = [&](int i) { return static_cast<uint32_t>(std::stoul(m[i].str())); };
            found_ = Announcement{EvtchnPort{n(1)}, GrantRef{n(2)}, GrantRef{n(3)}, GrantRef{n(4)},
                                  GrantRef{n(5)}};
            cv_.notify_all();
        }
    }
    void state_changed(DomId, DomainState, std::optional<ShutdownReason>) override {
        cv_.notify_all();
    }
    std::optional<Announcement> wait_announcement(const Domain& d) {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::seconds(60),
                     [&] { return found_.has_value() || d.state() != DomainState::Running; });
        return found_;
    }

private:
    std::mutex mu_;  // guards console_ and found_
    std::condition_variable cv_;
    std::string console_;
    std::optional<Announcement> found_;
};

int failures = 0;

void check(bool ok, const std::string& what, const std::string& detail = "") {
    std::printf("dom0: %s: %s%s%s\n", ok ? "PASS" : "FAIL", what.c_str(), detail.empty() ? "" : ": ",
                detail.c_str());
    if (!ok) ++failures;
}

template <typename R>
void expect_errno(const R& r, int xen_errno, const std::string& what) {
    check(!r && r.error().xen_errno == xen_errno, what,
          r ? "succeeded" : "errno " + std::to_string(r.error().xen_errno) + " (" + r.error().message + ")");
}

bool wait_for_guest(const Dom0Port& port) {
    pollfd p{.fd = port.fd(), .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, 60'000) != 1) return false;
    return port.consume() > 0;
}

void write_text(std::span<uint8_t> page, const char* text) {
    std::memcpy(page.data(), text, std::strlen(text) + 1);
}

int run(const char* kernel) {
    DomainRegistry registry;
    auto dom0 = Dom0EventChannels::create(registry);
    if (!dom0) return std::fprintf(stderr, "dom0: %s\n", dom0.error().message.c_str()), 1;
    DomainConfig config;
    config.name = "gnttab_dom0";
    config.kernel = kernel;
    config.memory_mib = 32;
    Observer observer;
    auto domain = Domain::create(DomId{1}, config, &observer, registry);
    if (!domain) return std::fprintf(stderr, "create: %s\n", domain.error().message.c_str()), 126;
    Domain& d = **domain;
    if (auto r = d.start(); !r) return std::fprintf(stderr, "start: %s\n", r.error().message.c_str()), 126;

    auto a = observer.wait_announcement(d);
    if (!a) return std::fprintf(stderr, "dom0: the guest never announced its grants\n"), 1;
    auto port = (*dom0)->bind_interdomain(d.id(), a->port);
    if (!port) return std::fprintf(stderr, "bind: %s\n", port.error().message.c_str()), 1;
    (void)port->consume();  // the first kick every new binding gets
    GrantTable& table = *d.grant_table();

    // Round 1: refusals first, then a writable mapping that stays held, and a copy.
    expect_errno(map_grant(table, a->ro, /*readonly=*/false), XEN_EROFS, "writable map of a read-only grant");
    expect_errno(map_grant(table, a->other, true), XEN_EPERM, "map of a grant to domain 7");
    expect_errno(map_grant(table, a->not_ram, true), XEN_EFAULT, "map of a frame outside RAM");
    expect_errno(map_grant(table, GrantRef{table.nr_entries()}, true), XEN_ENOENT, "map of a ref past the table");
    expect_errno(map_grant(table, GrantRef{0xffffffff}, true), XEN_ENOENT, "map of ref 0xffffffff");
    std::array<uint8_t, 13> buf{};
    auto copied = copy_grant(GrantedBytes{table, a->ro, 0}, std::span<uint8_t>(buf), buf.size());
    check(copied && std::memcmp(buf.data(), "guest page ro", buf.size()) == 0, "copy from the read-only grant");
    expect_errno(copy_grant(std::span<const uint8_t>(buf), GrantedBytes{table, a->ro, 0}, buf.size()),
                 XEN_EROFS, "copy into the read-only grant");
    expect_errno(copy_grant(std::span<const uint8_t>(buf), GrantedBytes{table, a->rw, 4090}, buf.size()),
                 XEN_EINVAL, "copy across the end of the page");
    auto mapping = map_grant(table, a->rw, /*readonly=*/false);
    check(mapping.has_value(), "writable map of the read/write grant", mapping ? "" : mapping.error().message);
    if (!mapping) return 1;
    check(std::memcmp(mapping->bytes().data(), "guest page rw", 13) == 0, "mapping shows the guest's data");
    write_text(mapping->writable_bytes(), "dom0 was here");
    check(port->notify().has_value(), "kick the guest");

    // Round 2: the guest revoked the grant while it is mapped. The mapping stays usable until
    // unmapped (as in Xen); afterwards the ref cannot be mapped again.
    check(wait_for_guest(*port), "the guest kicked back after revoking");
    write_text(mapping->writable_bytes(), "after revoke");
    mapping->reset();
    expect_errno(map_grant(table, a->rw, true), XEN_EPERM, "map of the revoked grant");
    check(port->notify().has_value(), "kick the guest again");

    const bool stopped = d.wait_stopped(std::chrono::seconds(60));
    auto reason = d.shutdown_reason();
    check(stopped && reason == ShutdownReason::Poweroff, "the guest powered off (all its checks passed)");
    d.destroy();
    return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace pvhv

int main(int argc, char** argv) {
    if (argc != 2) return std::fprintf(stderr, "usage: %s GUEST.elf\n", argv[0]), 2;
    if (::access("/dev/kvm", R_OK | W_OK) != 0) {
        std::printf("SKIP: /dev/kvm is not usable here\n");
        return 77;
    }
    return pvhv::run(argv[1]);
}
