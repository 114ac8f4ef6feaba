// The C++ xenstore API: typed requests through the shared dispatcher, callbacks for watches.
#include "dom0-tools/xenstore/client.h"

#include <charconv>

namespace pvhv::xs {

namespace {

Result<void> drop_value(Result<std::string> r) {
    if (!r) return std::unexpected(r.error());
    return {};
}

// "a\0b\0" -> {"a", "b"}
std::vector<std::string> split_nul(std::string_view s) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\0') continue;
        out.emplace_back(s.substr(start, i - start));
        start = i + 1;
    }
    return out;
}

}  // namespace

XsClient::XsClient(Xenstore& xs, DomId domid)
    : xs_(xs), domid_(domid), callbacks_(std::make_shared<Callbacks>()) {
    conn_ = xs_.connect_api(domid, [weak = std::weak_ptr<Callbacks>(callbacks_)](const WatchEvent& ev) {
        dispatch_event(weak, ev);
    });
}

XsClient::~XsClient() {
    xs_.disconnect(conn_);
    std::lock_guard lock(callbacks_->mu);
    callbacks_->map.clear();
}

void XsClient::dispatch_event(const std::weak_ptr<Callbacks>& weak, const WatchEvent& ev) {
    const auto cbs = weak.lock();
    if (!cbs) return;
    std::shared_ptr<WatchCallback> cb;
    {
        std::lock_guard lock(cbs->mu);
        const auto it = cbs->map.find({ev.watch_path, ev.token});
        if (it == cbs->map.end()) return;
        cb = it->second;
    }
    (*cb)(ev.path, ev.token);
}

Result<std::string> XsClient::run(TxId tx, RequestBody request) { return xs_.execute(conn_, tx, request); }

Result<std::string> XsClient::read(std::string_view path, TxId tx) {
    return run(tx, req::Read{std::string(path)});
}

Result<void> XsClient::write(std::string_view path, std::string_view value, TxId tx) {
    return drop_value(run(tx, req::Write{std::string(path), std::string(value)}));
}

Result<void> XsClient::mkdir(std::string_view path, TxId tx) {
    return drop_value(run(tx, req::Mkdir{std::string(path)}));
}

Result<void> XsClient::rm(std::string_view path, TxId tx) { return drop_value(run(tx, req::Rm{std::string(path)})); }

Result<std::vector<std::string>> XsClient::directory(std::string_view path, TxId tx) {
    auto r = run(tx, req::Directory{std::string(path)});
    if (!r) return std::unexpected(r.error());
    return split_nul(*r);
}

Result<Perms> XsClient::get_perms(std::string_view path, TxId tx) {
    auto r = run(tx, req::GetPerms{std::string(path)});
    if (!r) return std::unexpected(r.error());
    Perms perms;
    for (const auto& s : split_nul(*r))
        if (auto p = parse_perm(s)) perms.push_back(*p);
    return perms;
}

Result<void> XsClient::set_perms(std::string_view path, const Perms& perms, TxId tx) {
    return drop_value(run(tx, req::SetPerms{std::string(path), perms}));
}

Result<std::string> XsClient::get_domain_path(DomId domid) {
    auto r = run(kNoTx, req::GetDomainPath{domid});
    if (r && !r->empty()) r->pop_back();  // the NUL
    return r;
}

Result<TxId> XsClient::transaction_start() {
    auto r = run(kNoTx, req::TransactionStart{});
    if (!r) return std::unexpected(r.error());
    TxId id = 0;
    std::from_chars(r->data(), r->data() + r->size(), id);
    return id;
}

Result<void> XsClient::transaction_end(TxId tx, bool commit) {
    return drop_value(run(tx, req::TransactionEnd{commit}));
}

Result<void> XsClient::transact(const std::function<Result<void>(TxId)>& body, int attempts) {
    for (int i = 0;; ++i) {
        auto tx = transaction_start();
        if (!tx) return std::unexpected(tx.error());
        if (auto r = body(*tx); !r) {
            (void)transaction_end(*tx, false);
            return r;
        }
        auto end = transaction_end(*tx, true);
        if (end || end.error().xen_errno != XEN_EAGAIN || i + 1 >= attempts) return end;
    }
}

Result<void> XsClient::watch(std::string_view path, std::string_view token, WatchCallback cb) {
    const std::pair<std::string, std::string> key{std::string(path), std::string(token)};
    {
        // Registered before the request: the initial event may run before execute() returns.
        std::lock_guard lock(callbacks_->mu);
        if (callbacks_->map.contains(key)) return fail(XEN_EEXIST, key.first + ": already watched");
        callbacks_->map.emplace(key, std::make_shared<WatchCallback>(std::move(cb)));
    }
    auto r = run(kNoTx, req::Watch{key.first, key.second});
    if (!r) {
        std::lock_guard lock(callbacks_->mu);
        callbacks_->map.erase(key);
        return std::unexpected(r.error());
    }
    return {};
}

Result<void> XsClient::unwatch(std::string_view path, std::string_view token) {
    auto r = run(kNoTx, req::Unwatch{std::string(path), std::string(token)});
    std::lock_guard lock(callbacks_->mu);
    callbacks_->map.erase({std::string(path), std::string(token)});
    return drop_value(std::move(r));
}

Result<void> XsClient::reset_watches() {
    auto r = run(kNoTx, req::ResetWatches{});
    std::lock_guard lock(callbacks_->mu);
    callbacks_->map.clear();
    return drop_value(std::move(r));
}

}  // namespace pvhv::xs
