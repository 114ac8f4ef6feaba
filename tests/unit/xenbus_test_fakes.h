// Test doubles for the xenbus layer: a scriptable BackendDevice, and a store on an Asio loop
// with a guest's domain tree and a second client acting as that guest's front-end.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dom0-tools/xenstore/client.h"
#include "dom0-tools/xenstore/domain_tree.h"
#include "dom0-tools/xenstore/handler.h"
#include "pvdrivers/back/xenbus/backend_device.h"

namespace pvhv::back::testing {

// What a FakeBackend saw and is told to do; shared so that tests keep it after the device
// (which owns the back-end) is gone. Written on the loop thread, read by the test after
// settling; `fail` may be called from any thread.
struct FakeBackendLog {
    int connects = 0;
    int disconnects = 0;
    bool connected = false;
    std::string ring_ref;         // what read_frontend("ring-ref") gave at the last connect
    bool fail_connect = false;    // connect() returns an error
    std::function<void(std::string)> fail;  // the last connection's fail()
    std::atomic<uint64_t> requests{0};
};

class FakeBackend final : public BackendDevice {
  public:
    FakeBackend(std::string type, std::shared_ptr<FakeBackendLog> log)
        : type_(std::move(type)), log_(std::move(log)) {}
    ~FakeBackend() override { disconnect(); }
    std::string_view type() const override { return type_; }
    XenbusKeys backend_keys() const override { return {{"feature-fake", "1"}}; }
    Result<XenbusKeys> connect(const FrontendConnection& fe) override {
        ++log_->connects;
        if (log_->fail_connect) return fail(XEN_EINVAL, "no ring-ref in the front-end directory");
        log_->ring_ref = fe.read_frontend("ring-ref").value_or("(none)");
        log_->fail = fe.fail;
        log_->connected = true;
        return XenbusKeys{{"sectors", "2048"}, {"info", "0"}};
    }
    void disconnect() override {
        if (!log_->connected) return;
        log_->connected = false;
        ++log_->disconnects;
    }
    std::vector<std::pair<std::string, uint64_t>> counters() const override {
        return {{"requests", log_->requests.load()}};
    }

  private:
    std::string type_;
    std::shared_ptr<FakeBackendLog> log_;
};

// The store on `io` (as pvd wires it), dom0's toolstack client, guest `kGuest`'s tree and a
// client acting as that guest.
struct XenbusFixture : ::testing::Test {
    static constexpr DomId kGuest{5};

    boost::asio::io_context io;
    std::unique_ptr<xs::Xenstore> store;
    std::unique_ptr<xs::XsClient> dom0;
    std::unique_ptr<xs::XsClient> guest;

    void SetUp() override {
        xs::XenstoreOptions o;
        o.executor = [this](std::function<void()> w) { boost::asio::post(io, std::move(w)); };
        store = std::make_unique<xs::Xenstore>(std::move(o));
        dom0 = std::make_unique<xs::XsClient>(*store);
        ASSERT_TRUE(xs::create_dom0_tree(*dom0));
        xs::DomainTreeSpec spec;
        spec.domid = kGuest;
        spec.name = "guest";
        ASSERT_TRUE(xs::create_domain_tree(*dom0, spec));
        guest = std::make_unique<xs::XsClient>(*store, kGuest);
        settle();
    }
    void TearDown() override {
        settle();
        EXPECT_TRUE(store->check_invariants());
    }
    void settle() {
        for (int i = 0; i < 1000; ++i) {
            io.restart();
            if (io.poll() == 0) return;
        }
    }
    // Runs the loop, timers included, for `d`.
    void run_for(std::chrono::milliseconds d) {
        io.restart();
        io.run_for(d);
        settle();
    }
    std::string read(const std::string& path) {
        auto r = dom0->read(path);
        return r ? *r : "ERR:" + std::to_string(r.error().xen_errno);
    }
    bool exists(const std::string& path) { return dom0->read(path).has_value(); }
    // The guest's front-end writes one of its keys and the loop runs.
    void front_write(const std::string& path, const std::string& value) {
        ASSERT_TRUE(guest->write(path, value)) << path;
        settle();
    }
};

}  // namespace pvhv::back::testing
