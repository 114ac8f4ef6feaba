// Fuzzes the xenbus state machine with a hostile front-end: arbitrary writes of its state and
// ring keys, removal of its directory, interleaved with back-end failures, detach and destroy.
// Checks: no crash, the store stays consistent, the back-end is never connected outside
// Connected (or a detach's Closing), and nothing of the device is left once it is gone.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "dom0-tools/xenstore/client.h"
#include "dom0-tools/xenstore/domain_tree.h"
#include "dom0-tools/xenstore/handler.h"
#include "pvdrivers/back/xenbus/testing/fake_backend.h"
#include "pvdrivers/back/xenbus/xenbus_device.h"

using namespace pvhv;

namespace {

constexpr DomId kGuest{7};

struct Input {
    std::span<const uint8_t> d;
    uint8_t byte() {
        if (d.empty()) return 0;
        const uint8_t b = d[0];
        d = d.subspan(1);
        return b;
    }
    std::string str() {
        const size_t n = std::min<size_t>(byte() % 6, d.size());
        std::string s(reinterpret_cast<const char*>(d.data()), n);
        d = d.subspan(n);
        return s;
    }
};

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    boost::asio::io_context io;
    xs::XenstoreOptions o;
    o.executor = [&io](std::function<void()> w) { boost::asio::post(io, std::move(w)); };
    xs::Xenstore store(std::move(o));
    xs::XsClient dom0(store);
    xs::DomainTreeSpec spec;
    spec.domid = kGuest;
    spec.name = "fuzz";
    if (!xs::create_domain_tree(dom0, spec)) std::abort();
    xs::XsClient guest(store, kGuest);
    auto settle = [&io] {
        for (int i = 0; i < 64; ++i) {
            io.restart();
            if (io.poll() == 0) return;
        }
    };

    auto log = std::make_shared<back::testing::FakeBackendLog>();
    back::DiskSpec disk{"/img/a.raw", "xvda"};
    auto nodes = back::vbd_nodes(kGuest, disk);
    auto dev = back::XenbusDevice::add(io, store, *nodes, std::make_unique<back::testing::FakeBackend>("vbd", log),
                                       back::FrontendResources{},
                                       back::XenbusOptions{std::chrono::milliseconds(0)});
    if (!dev) std::abort();
    const std::string fe = (*dev)->frontend_path();
    const std::string be = (*dev)->backend_path();
    settle();

    Input in{std::span(data, size)};
    int detaches = 0;
    int completions = 0;
    while (!in.d.empty()) {
        switch (in.byte() % 8) {
            case 0:
            case 1:
                (void)guest.write(fe + "/state", in.str());
                break;
            case 2: {
                static const char* kStates[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8"};
                (void)guest.write(fe + "/state", kStates[in.byte() % 9]);
                break;
            }
            case 3:
                (void)guest.write(fe + "/ring-ref", in.str());
                break;
            case 4:
                (void)guest.rm(fe);
                (void)guest.write(be + "/state", "4");  // refused: not its directory
                break;
            case 5:
                if (log->connected && log->fail) log->fail(in.str());
                break;
            case 6:
                ++detaches;
                (*dev)->detach([&completions](Result<back::DetachOutcome>) { ++completions; });
                break;
            case 7:
                log->fail_connect = !log->fail_connect;
                break;
        }
        settle();
        const auto st = (*dev)->status();
        check(log->connected == st.connected, "back-end connected agrees with the device");
        check(!st.connected || st.backend == XenbusStateConnected ||
                  (st.detaching && st.backend == XenbusStateClosing),
              "connected only while Connected or detaching");
        check(log->disconnects <= log->connects, "never disconnected more than connected");
        if ((*dev)->gone()) {
            check(!dom0.read(be + "/state"), "gone device left its back-end directory");
            check(!dom0.read(fe + "/state"), "gone device left its front-end directory");
        }
        if (!store.check_invariants()) std::abort();
    }
    dev->reset();
    settle();
    check(!log->connected, "destroyed device still connected");
    check(completions == detaches, "every detach completed");
    check(!dom0.read("/local/domain/0/backend/vbd/7"), "destroy left the back-end parent");
    return 0;
}
