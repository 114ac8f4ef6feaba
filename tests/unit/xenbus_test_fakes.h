// Test fixture for the xenbus layer: a store on an Asio loop with a guest's domain tree and a
// second client acting as that guest's front-end (the fake back-end is testing/fake_backend.h).
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
#include "pvdrivers/back/xenbus/testing/fake_backend.h"

namespace pvhv::back::testing {

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
