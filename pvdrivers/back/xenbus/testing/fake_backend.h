// A scriptable BackendDevice for tests and fuzzers of the xenbus layer (no gtest).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

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

}  // namespace pvhv::back::testing
