// A host-side front_env.h for the freestanding front-ends (pvdrivers/front): pages with fake
// frame numbers, a grant table in host memory, a xenstore map with watches, event channels, and
// a hook that runs the fake back-end whenever a front-end would wait. Single-threaded: the
// back-end runs inside the front-end's waits, so every test is deterministic.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__
extern "C" {
#include "blkfront.h"
#include "grant.h"
#include "netfront.h"
#include "xenbus_front.h"
}

namespace pvhv::test {

inline constexpr domid_t kGuestDomid = 5;

class FakeFrontEnv {
  public:
    FakeFrontEnv();
    ~FakeFrontEnv();

    // The guest's grant table: gnt_init over host pages (the front-ends take "gpa" as a pointer
    // in an identity-mapped guest, which host memory is for them).
    void init_grants(unsigned int frames);
    grant_entry_v1_t* table() const { return table_; }

    // Pages: every page a front-end hands out gets a fake frame number.
    uint8_t* page_of(uint64_t gfn) const;

    // xenstore, with absolute paths.
    std::map<std::string, std::string> store;
    std::optional<std::string> read(const std::string& path) const;
    void write(const std::string& path, const std::string& value);
    int commits_to_refuse = 0;  // transaction commits answered -EAGAIN first

    // Event channels: ports allocated to the guest, kicks the guest sent.
    std::vector<evtchn_port_t> kicks;
    std::set<evtchn_port_t> pending;

    // Run whenever a front-end would block; the back-end does its part in here.
    std::function<void()> backend_step = [] {};

    uint64_t now_ms = 0;

    // Implementation of front_env.h (called from the extern "C" functions).
    void* alloc_pages(unsigned int n);
    xen_pfn_t gfn_of(const void* p);
    int xs_read(const char* path, char* value, size_t size);
    int xs_write(const char* path, const char* value);
    int xs_directory(const char* path, char* list, size_t size, uint32_t* len);
    int xs_watch(const char* path);
    int xs_unwatch(const char* path);
    int xs_wait_event(char* path, size_t size, uint32_t timeout_ms);
    void discard_events() { events_.clear(); }
    size_t queued_events() const { return events_.size(); }
    int xs_transaction_end(bool commit);
    bool wait(evtchn_port_t port, bool (*cond)(void*), void* arg, uint32_t timeout_ms);
    evtchn_port_t next_port = 10;

  private:
    std::string absolute(const char* path) const;
    std::vector<void*> allocations_;
    std::map<uint64_t, uint8_t*> pages_;     // gfn -> page
    std::map<uintptr_t, uint64_t> gfns_;     // page address -> gfn
    uint64_t next_gfn_ = 0x1000;
    grant_entry_v1_t* table_ = nullptr;
    std::set<std::string> watches_;
    std::deque<std::string> events_;
};

// The one environment the extern "C" front_env functions use; a test creates it.
extern FakeFrontEnv* g_front_env;

// The back-end side of the xenbus handshake as pvd's xenbus layer does it
// (pvdrivers/back/xenbus/README.md): directories at probe, connect() when the front-end is
// Initialised, Closing/Closed after it. Derived classes serve the rings in serve().
class FakeXenbusBackend {
  public:
    FakeXenbusBackend(FakeFrontEnv& env, const std::string& type, unsigned int devid,
                      const std::map<std::string, std::string>& backend_keys,
                      const std::map<std::string, std::string>& frontend_keys = {});
    virtual ~FakeXenbusBackend() = default;
    // Follows the front-end's state, then serves the rings if connected.
    void step();
    int state() const;
    std::string front_key(const std::string& key) const;  // "" when absent
    uint32_t front_uint(const std::string& key) const;

    FakeFrontEnv& env;
    const std::string front, back;
    bool connected = false;

  protected:
    // The keys to publish before Connected, or nullopt to fail the device.
    virtual std::optional<std::map<std::string, std::string>> connect() = 0;
    virtual void disconnect() {}
    virtual void serve() {}
};

// What a back-end sees of a grant: the page, if `ref` is granted to dom0 with the access
// wanted (GTF_readonly refused for writes), else nullopt. Mimics Xen's map checks.
uint8_t* granted_page(FakeFrontEnv& env, grant_ref_t ref, bool write);

}  // namespace pvhv::test
