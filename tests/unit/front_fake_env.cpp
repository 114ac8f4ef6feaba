// The host-side front_env.h of front_fake_env.h: what test guests' runtime does, faked.
#include "front_fake_env.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pvhv::test {

FakeFrontEnv* g_front_env = nullptr;

FakeFrontEnv::FakeFrontEnv() { g_front_env = this; }

FakeFrontEnv::~FakeFrontEnv() {
    for (void* p : allocations_) std::free(p);
    g_front_env = nullptr;
}

void FakeFrontEnv::init_grants(unsigned int frames) {
    table_ = static_cast<grant_entry_v1_t*>(alloc_pages(frames));
    if (gnt_init(reinterpret_cast<uintptr_t>(table_), frames) != 0) std::abort();
}

void* FakeFrontEnv::alloc_pages(unsigned int n) {
    void* p = std::aligned_alloc(FRONT_PAGE_SIZE, size_t{n} * FRONT_PAGE_SIZE);
    std::memset(p, 0, size_t{n} * FRONT_PAGE_SIZE);
    allocations_.push_back(p);
    for (unsigned int i = 0; i < n; ++i) gfn_of(static_cast<uint8_t*>(p) + i * FRONT_PAGE_SIZE);
    return p;
}

xen_pfn_t FakeFrontEnv::gfn_of(const void* p) {
    const uintptr_t page = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{FRONT_PAGE_SIZE - 1};
    auto it = gfns_.find(page);
    if (it != gfns_.end()) return it->second;
    const uint64_t gfn = next_gfn_++;
    gfns_[page] = gfn;
    pages_[gfn] = reinterpret_cast<uint8_t*>(page);
    return gfn;
}

uint8_t* FakeFrontEnv::page_of(uint64_t gfn) const {
    auto it = pages_.find(gfn);
    return it == pages_.end() ? nullptr : it->second;
}

std::string FakeFrontEnv::absolute(const char* path) const {
    return path[0] == '/' ? path : "/local/domain/" + std::to_string(kGuestDomid) + "/" + path;
}

std::optional<std::string> FakeFrontEnv::read(const std::string& path) const {
    auto it = store.find(path);
    if (it == store.end()) return std::nullopt;
    return it->second;
}

void FakeFrontEnv::write(const std::string& path, const std::string& value) {
    store[path] = value;
    for (const auto& w : watches_)
        if (path == w || path.starts_with(w + "/")) events_.push_back(path);
}

int FakeFrontEnv::xs_read(const char* path, char* value, size_t size) {
    auto v = read(absolute(path));
    if (!v) return -XEN_ENOENT;
    if (v->size() >= size) return -XEN_E2BIG;
    std::memcpy(value, v->c_str(), v->size() + 1);
    return 0;
}

int FakeFrontEnv::xs_write(const char* path, const char* value) {
    write(absolute(path), value);
    return 0;
}

int FakeFrontEnv::xs_directory(const char* path, char* list, size_t size, uint32_t* len) {
    const std::string dir = absolute(path) + "/";
    std::set<std::string> children;
    for (const auto& [k, v] : store)
        if (k.starts_with(dir)) children.insert(k.substr(dir.size(), k.find('/', dir.size()) - dir.size()));
    if (children.empty()) return -XEN_ENOENT;
    std::string out;
    for (const auto& c : children) out += c + '\0';
    if (out.size() >= size) return -XEN_E2BIG;
    std::memcpy(list, out.data(), out.size());
    *len = static_cast<uint32_t>(out.size());
    return 0;
}

int FakeFrontEnv::xs_watch(const char* path) {
    watches_.insert(absolute(path));
    events_.push_back(absolute(path));  // xenstored fires a new watch once
    return 0;
}

int FakeFrontEnv::xs_unwatch(const char* path) {
    return watches_.erase(absolute(path)) ? 0 : -XEN_ENOENT;
}

int FakeFrontEnv::xs_wait_event(char* path, size_t size, uint32_t timeout_ms) {
    if (events_.empty()) backend_step();
    if (events_.empty()) {
        now_ms += timeout_ms;
        return -XEN_ETIMEDOUT;
    }
    std::snprintf(path, size, "%s", events_.front().c_str());
    events_.pop_front();
    return 0;
}

int FakeFrontEnv::xs_transaction_end(bool commit) {
    if (commit && commits_to_refuse > 0) {
        --commits_to_refuse;
        return -XEN_EAGAIN;
    }
    return 0;
}

bool FakeFrontEnv::wait(evtchn_port_t port, bool (*cond)(void*), void* arg, uint32_t timeout_ms) {
    for (int i = 0; i < 3; ++i) {
        pending.erase(port);
        if (cond(arg)) return true;
        backend_step();
    }
    if (cond(arg)) return true;
    now_ms += timeout_ms;
    return false;
}

uint8_t* granted_page(FakeFrontEnv& env, grant_ref_t ref, bool write) {
    if (ref >= gnt_nr_refs()) return nullptr;
    const grant_entry_v1_t& e = env.table()[ref];
    if (!(e.flags & GTF_permit_access) || e.domid != 0 || (write && (e.flags & GTF_readonly)))
        return nullptr;
    return env.page_of(e.frame);
}

FakeXenbusBackend::FakeXenbusBackend(FakeFrontEnv& e, const std::string& type, unsigned int devid,
                                     const std::map<std::string, std::string>& backend_keys,
                                     const std::map<std::string, std::string>& frontend_keys)
    : env(e),
      front("/local/domain/" + std::to_string(kGuestDomid) + "/device/" + type + "/" +
            std::to_string(devid)),
      back("/local/domain/0/backend/" + type + "/" + std::to_string(kGuestDomid) + "/" +
           std::to_string(devid)) {
    env.write(front + "/backend", back);
    env.write(front + "/backend-id", "0");
    env.write(front + "/state", "1");
    for (const auto& [k, v] : frontend_keys) env.write(front + "/" + k, v);
    env.write(back + "/frontend", front);
    for (const auto& [k, v] : backend_keys) env.write(back + "/" + k, v);
    env.write(back + "/state", "2");
}

std::string FakeXenbusBackend::front_key(const std::string& key) const {
    return env.read(front + "/" + key).value_or("");
}

uint32_t FakeXenbusBackend::front_uint(const std::string& key) const {
    const std::string v = front_key(key);
    return v.empty() ? ~0u : static_cast<uint32_t>(std::stoul(v));
}

int FakeXenbusBackend::state() const { return std::stoi(env.read(back + "/state").value_or("0")); }

void FakeXenbusBackend::step() {
    const std::string fs = front_key("state");
    const int bs = state();
    if ((fs == "3" || fs == "4") && bs == XenbusStateInitWait) {
        if (auto keys = connect()) {
            for (const auto& [k, v] : *keys) env.write(back + "/" + k, v);
            connected = true;
            env.write(back + "/state", "4");
        } else {
            env.write(back + "/error", "connect failed");
            env.write(back + "/state", "5");
        }
    } else if (fs == "5" && bs != XenbusStateClosing && bs != XenbusStateClosed) {
        disconnect();
        connected = false;
        env.write(back + "/state", "5");
    } else if (fs == "6" && bs != XenbusStateClosed) {
        disconnect();
        connected = false;
        env.write(back + "/state", "6");
    }
    if (connected) serve();
}

}  // namespace pvhv::test

using pvhv::test::g_front_env;

extern "C" {

void* front_alloc_pages(unsigned int n) { return g_front_env->alloc_pages(n); }
xen_pfn_t front_virt_to_gfn(const void* p) { return g_front_env->gfn_of(p); }
long front_memory_op(unsigned int, void*) { return 0; }  // grant frames: host memory already
int front_evtchn_alloc_unbound(domid_t, evtchn_port_t* port) {
    *port = g_front_env->next_port++;
    return 0;
}
int front_evtchn_send(evtchn_port_t port) {
    g_front_env->kicks.push_back(port);
    return 0;
}
int front_evtchn_close(evtchn_port_t) { return 0; }
uint64_t front_now_ms(void) { return g_front_env->now_ms; }
bool front_wait(evtchn_port_t port, bool (*cond)(void*), void* arg, uint32_t timeout_ms) {
    return g_front_env->wait(port, cond, arg, timeout_ms);
}
int front_xs_read(uint32_t, const char* path, char* value, size_t size) {
    return g_front_env->xs_read(path, value, size);
}
int front_xs_write(uint32_t, const char* path, const char* value) {
    return g_front_env->xs_write(path, value);
}
int front_xs_directory(const char* path, char* list, size_t size, uint32_t* len) {
    return g_front_env->xs_directory(path, list, size, len);
}
int front_xs_watch(const char* path, const char*) { return g_front_env->xs_watch(path); }
int front_xs_unwatch(const char* path, const char*) { return g_front_env->xs_unwatch(path); }
int front_xs_wait_event(char* path, size_t size, uint32_t timeout_ms) {
    return g_front_env->xs_wait_event(path, size, timeout_ms);
}
void front_xs_discard_events(void) { g_front_env->discard_events(); }
int front_xs_transaction_start(uint32_t* tx) {
    *tx = 1;
    return 0;
}
int front_xs_transaction_end(uint32_t, bool commit) { return g_front_env->xs_transaction_end(commit); }
void front_log(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(stderr, fmt, ap);
    va_end(ap);
}

}  // extern "C"
