// The xenstore daemon core: dispatch of typed requests, wire message handling, watch delivery.
#include "dom0-tools/xenstore/handler.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "dom0-tools/xenstore/errors.h"
#include "dom0-tools/xenstore/path.h"
#include "dom0-tools/xenstore/tree_ops.h"
#include "hv/log.h"
#include "hv/xen_public.h"
#include <xen/io/xs_wire.h>

namespace pvhv::xs {

namespace {

template <class... F>
struct Overloaded : F... {
    using F::operator()...;
};

const std::string kOk("OK\0", 3);

Result<std::string> ok_or(Result<void> r) {
    if (!r) return std::unexpected(r.error());
    return kOk;
}

RateLimit& guest_log_limit() {
    static RateLimit limit(10, std::chrono::seconds(5));
    return limit;
}

}  // namespace

Xenstore::Xenstore(XenstoreOptions options) : options_(std::move(options)) {
    const Perms dom0_only{Perm{kDom0, kPermNone}};
    special_perms_.emplace(std::string(kIntroduceDomain), dom0_only);
    special_perms_.emplace(std::string(kReleaseDomain), dom0_only);
}

Xenstore::~Xenstore() = default;

Xenstore::Connection* Xenstore::find(ConnId id) {
    const auto it = conns_.find(id);
    return it == conns_.end() ? nullptr : it->second.get();
}

const Xenstore::Connection* Xenstore::find(ConnId id) const {
    const auto it = conns_.find(id);
    return it == conns_.end() ? nullptr : it->second.get();
}

const Quotas& Xenstore::quotas_for(DomId domid) const {
    const auto it = domain_quotas_.find(domid.value);
    return it == domain_quotas_.end() ? options_.quotas : it->second;
}

// --- connections

ConnId Xenstore::add_connection(DomId domid, bool wire, WatchSink sink) {
    auto c = std::make_unique<Connection>();
    c->id = next_conn_++;
    c->domid = domid;
    c->wire = wire;
    c->sink = std::move(sink);
    const ConnId id = c->id;
    conns_.emplace(id, std::move(c));
    return id;
}

ConnId Xenstore::connect_wire(DomId domid) {
    std::lock_guard lock(mu_);
    return add_connection(domid, true, {});
}

ConnId Xenstore::connect_api(DomId domid, WatchSink sink) {
    std::lock_guard lock(mu_);
    return add_connection(domid, false, std::move(sink));
}

void Xenstore::drop_connection_state(Connection& c) {
    watches_.remove_all(c.id);
    c.txs.clear();
    c.in.clear();
    c.out.clear();
    c.out_offset = 0;
    c.out_bytes = 0;
}

void Xenstore::disconnect(ConnId id) {
    std::lock_guard lock(mu_);
    if (Connection* c = find(id)) {
        drop_connection_state(*c);
        conns_.erase(id);
    }
}

void Xenstore::set_quotas(DomId domid, const Quotas& quotas) {
    std::lock_guard lock(mu_);
    domain_quotas_.insert_or_assign(domid.value, quotas);
}

ConnId Xenstore::introduce_domain(DomId domid) {
    Effects fx;
    ConnId id = 0;
    {
        std::lock_guard lock(mu_);
        id = add_connection(domid, true, {});
        fire_special(kIntroduceDomain, fx);
    }
    finish(fx);
    return id;
}

void Xenstore::release_domain(DomId domid) {
    Effects fx;
    {
        std::lock_guard lock(mu_);
        for (auto it = conns_.begin(); it != conns_.end();) {
            if (it->second->wire && it->second->domid == domid) {
                drop_connection_state(*it->second);
                it = conns_.erase(it);
            } else {
                ++it;
            }
        }
        fire_special(kReleaseDomain, fx);
    }
    finish(fx);
}

void Xenstore::break_connection(Connection& c, std::string_view why) {
    if (c.broken) return;
    c.broken = true;
    drop_connection_state(c);
    log_guest(guest_log_limit(), LogLevel::Warn,
              "xenstore: dom" + std::to_string(c.domid.value) + " connection broken: " + std::string(why));
}

void Xenstore::mark_broken(ConnId id, std::string_view why) {
    std::lock_guard lock(mu_);
    if (Connection* c = find(id)) break_connection(*c, why);
}

bool Xenstore::is_broken(ConnId id) const {
    std::lock_guard lock(mu_);
    const Connection* c = find(id);
    return !c || c->broken;
}

uint64_t Xenstore::dropped_events(ConnId id) const {
    std::lock_guard lock(mu_);
    const Connection* c = find(id);
    return c ? c->dropped_events : 0;
}

uint64_t Xenstore::requests_received(ConnId id) const {
    std::lock_guard lock(mu_);
    const Connection* c = find(id);
    return c ? c->requests : 0;
}

// --- wire byte streams

Result<size_t> Xenstore::feed(ConnId id, std::span<const uint8_t> bytes) {
    Effects fx;
    fx.current = id;
    Result<size_t> r;
    {
        std::lock_guard lock(mu_);
        Connection* c = find(id);
        if (!c || !c->wire || c->broken)
            r = fail(XEN_ENOTCONN, "xenstore connection " + std::to_string(id) + " is not usable");
        else
            r = feed_locked(*c, bytes, fx);
    }
    finish(fx);
    return r;
}

Result<size_t> Xenstore::feed_locked(Connection& c, std::span<const uint8_t> bytes, Effects& fx) {
    const Quotas& q = quotas_for(c.domid);
    size_t used = 0;
    auto take = [&](size_t want) {
        const size_t n = std::min(want, bytes.size() - used);
        c.in.insert(c.in.end(), bytes.begin() + used, bytes.begin() + used + n);
        used += n;
    };
    for (;;) {
        // Backpressure: a client that does not read its replies gets no more served.
        if (q.max_output_bytes != 0 && c.out_bytes >= q.max_output_bytes) break;
        if (c.in.size() < kHeaderSize) {
            take(kHeaderSize - c.in.size());
            if (c.in.size() < kHeaderSize) break;
            auto h = parse_header(std::span<const uint8_t, kHeaderSize>(c.in.data(), kHeaderSize));
            if (!h) {
                break_connection(c, h.error().message);
                return std::unexpected(h.error());
            }
            c.in_hdr = *h;
            c.in.reserve(kHeaderSize + h->len);
        }
        const size_t total = kHeaderSize + c.in_hdr.len;
        if (c.in.size() < total) {
            take(total - c.in.size());
            if (c.in.size() < total) break;
        }
        handle_message(c, std::span<const uint8_t>(c.in).subspan(kHeaderSize), fx);
        c.in.clear();
    }
    return used;
}

void Xenstore::handle_message(Connection& c, std::span<const uint8_t> payload, Effects& fx) {
    const MsgHeader h = c.in_hdr;
    const Quotas& q = quotas_for(c.domid);
    ++c.requests;
    Result<std::string> reply;
    if (q.max_request_size != 0 && h.len > q.max_request_size) {
        reply = fail(XEN_E2BIG, "request of " + std::to_string(h.len) + " bytes over quota");
    } else if (auto body = parse_request(h.type, payload)) {
        reply = dispatch(c, h.tx_id, *body, fx);
    } else {
        log_guest(guest_log_limit(), LogLevel::Warn,
                  "xenstore: dom" + std::to_string(c.domid.value) + " bad request: " + body.error().message);
        reply = std::unexpected(body.error());
    }
    if (reply && reply->size() > XENSTORE_PAYLOAD_MAX) reply = fail(XEN_E2BIG, "reply too long");
    if (reply) {
        queue(c, encode_message(h.type, h.req_id, h.tx_id, *reply), false);
    } else {
        std::string text(error_string(reply.error().xen_errno));
        text += '\0';
        queue(c, encode_message(XS_ERROR, h.req_id, h.tx_id, text), false);
    }
    for (const auto& ev : fx.after_reply) deliver(ev, fx);
    fx.after_reply.clear();
}

size_t Xenstore::drain(ConnId id, std::span<uint8_t> out) {
    std::lock_guard lock(mu_);
    Connection* c = find(id);
    if (!c || c->broken) return 0;
    size_t n = 0;
    while (n < out.size() && !c->out.empty()) {
        const auto& m = c->out.front();
        const size_t k = std::min(m.size() - c->out_offset, out.size() - n);
        std::memcpy(out.data() + n, m.data() + c->out_offset, k);
        n += k;
        c->out_offset += k;
        if (c->out_offset == m.size()) {
            c->out_bytes -= m.size();
            c->out.pop_front();
            c->out_offset = 0;
        }
    }
    return n;
}

size_t Xenstore::pending_output(ConnId id) const {
    std::lock_guard lock(mu_);
    const Connection* c = find(id);
    return c ? c->out_bytes - c->out_offset : 0;
}

bool Xenstore::wants_input(ConnId id) const {
    std::lock_guard lock(mu_);
    const Connection* c = find(id);
    if (!c || !c->wire || c->broken) return false;
    const Quotas& q = quotas_for(c->domid);
    return q.max_output_bytes == 0 || c->out_bytes < q.max_output_bytes;
}

void Xenstore::queue(Connection& c, std::vector<uint8_t> message, bool droppable) {
    const Quotas& q = quotas_for(c.domid);
    if (droppable && q.max_output_bytes != 0 && c.out_bytes + message.size() > 2 * size_t{q.max_output_bytes}) {
        if (c.dropped_events++ == 0 || c.dropped_events % 1024 == 0)
            log_guest(guest_log_limit(), LogLevel::Warn,
                      "xenstore: dom" + std::to_string(c.domid.value) + " does not read its ring; " +
                          std::to_string(c.dropped_events) + " watch events dropped");
        return;
    }
    c.out_bytes += message.size();
    c.out.push_back(std::move(message));
}

// --- typed requests

Result<std::string> Xenstore::execute(ConnId id, uint32_t tx_id, const RequestBody& request) {
    Effects fx;
    Result<std::string> r;
    {
        std::lock_guard lock(mu_);
        Connection* c = find(id);
        if (!c || c->broken) {
            r = fail(XEN_ENOTCONN, "xenstore connection " + std::to_string(id) + " is not usable");
        } else {
            r = dispatch(*c, tx_id, request, fx);
            for (const auto& ev : fx.after_reply) deliver(ev, fx);
        }
    }
    finish(fx);
    return r;
}

Result<std::string> Xenstore::dispatch(Connection& c, uint32_t tx_id, const RequestBody& r, Effects& fx) {
    const bool priv = c.domid == kDom0;
    // WATCH, UNWATCH, RESET_WATCHES and GET_DOMAIN_PATH ignore tx_id, as in xenstored.
    if (const auto* m = std::get_if<req::Watch>(&r)) return do_watch(c, m->path, m->token, fx);
    if (const auto* m = std::get_if<req::Unwatch>(&r)) return do_unwatch(c, m->path, m->token);
    if (std::holds_alternative<req::ResetWatches>(r)) {
        watches_.remove_all(c.id);
        c.txs.clear();
        return kOk;
    }
    if (const auto* m = std::get_if<req::GetDomainPath>(&r)) return domain_path(m->domid) + '\0';
    if (const auto* m = std::get_if<req::Privileged>(&r))
        return fail(priv ? XEN_ENOSYS : XEN_EACCES, std::string(type_name(m->type)) + " over the wire");
    if (std::holds_alternative<req::TransactionStart>(r)) {
        if (tx_id != 0) return fail(c.txs.find(tx_id) ? XEN_EBUSY : XEN_ENOENT, "nested transaction");
        auto tx = c.txs.start(store_, quotas_for(c.domid), priv);
        if (!tx) return std::unexpected(tx.error());
        return std::to_string((*tx)->id()) + '\0';
    }
    if (const auto* m = std::get_if<req::TransactionEnd>(&r)) return do_transaction_end(c, tx_id, m->commit, fx);
    if (const auto* m = std::get_if<req::SetPerms>(&r); m && m->path.starts_with('@'))
        return do_set_special_perms(c, m->path, m->perms);
    return dispatch_tree(c, tx_id, r, fx);
}

Result<std::string> Xenstore::dispatch_tree(Connection& c, uint32_t tx_id, const RequestBody& r, Effects& fx) {
    const Quotas& q = quotas_for(c.domid);
    Transaction* tx = nullptr;
    DirectAccess direct(store_);
    NodeAccess* access = &direct;
    if (tx_id != 0) {
        tx = c.txs.find(tx_id);
        if (!tx) return fail(XEN_ENOENT, "no transaction " + std::to_string(tx_id));
        access = tx;
    }
    const std::string* raw = std::visit(
        [](const auto& m) -> const std::string* {
            if constexpr (requires { m.path; })
                return &m.path;
            else
                return nullptr;
        },
        r);
    if (!raw) return fail(XEN_EINVAL, "not a node request");
    const std::string path = canonicalize(c.domid, *raw);
    if (!is_valid_path(path, PathLimits{q.max_path_length, c.domid == kDom0}, false))
        return fail(XEN_EINVAL, "invalid path");

    std::vector<Change> changes;
    TreeOps ops(*access, c.domid, q, changes);
    Result<std::string> result = std::visit(
        Overloaded{
            [&](const req::Read&) { return ops.read(path); },
            [&](const req::Directory&) -> Result<std::string> {
                auto d = ops.directory(path);
                if (!d) return std::unexpected(d.error());
                std::string out;
                for (const auto& name : *d) {
                    out += name;
                    out += '\0';
                }
                return out;
            },
            [&](const req::DirectoryPart& m) { return ops.directory_part(path, m.offset); },
            [&](const req::GetPerms&) -> Result<std::string> {
                auto p = ops.get_perms(path);
                if (!p) return std::unexpected(p.error());
                return format_perms_wire(*p);
            },
            [&](const req::SetPerms& m) { return ok_or(ops.set_perms(path, m.perms)); },
            [&](const req::Write& m) { return ok_or(ops.write(path, m.value)); },
            [&](const req::Mkdir&) { return ok_or(ops.mkdir(path)); },
            [&](const req::Rm&) { return ok_or(ops.rm(path)); },
            [&](const auto&) -> Result<std::string> { return fail(XEN_EINVAL, "not a node request"); },
        },
        r);
    if (result && !changes.empty()) {
        if (tx)
            tx->defer(std::move(changes));
        else
            fire(changes, fx);
    }
    return result;
}

Result<std::string> Xenstore::do_watch(Connection& c, const std::string& path, const std::string& token, Effects& fx) {
    const Quotas& q = quotas_for(c.domid);
    const PathLimits limits{q.max_path_length, c.domid == kDom0};
    const bool special = path.starts_with('@');
    const bool relative = !special && !path.starts_with('/');
    std::string node = special ? path : canonicalize(c.domid, path);
    if (!is_valid_path(node, limits, special)) return fail(XEN_EINVAL, "invalid watch path");
    if (auto r = watches_.add(c.id, c.domid, std::move(node), token, path, relative, q); !r)
        return std::unexpected(r.error());
    fx.after_reply.push_back(WatchRegistry::initial_event(c.id, path, token));
    return kOk;
}

Result<std::string> Xenstore::do_unwatch(Connection& c, const std::string& path, const std::string& token) {
    const std::string node = path.starts_with('@') ? path : canonicalize(c.domid, path);
    if (auto r = watches_.remove(c.id, node, token); !r) return std::unexpected(r.error());
    return kOk;
}

Result<std::string> Xenstore::do_set_special_perms(Connection& c, const std::string& path, const Perms& perms) {
    const Quotas& q = quotas_for(c.domid);
    const bool priv = c.domid == kDom0;
    if (!priv && q.max_perms != 0 && perms.size() > q.max_perms)
        return quota_fail(q, QuotaKind::Perms, path + ": too many permissions");
    const auto it = special_perms_.find(path);
    if (it == special_perms_.end()) return fail(XEN_EINVAL, path + ": no such special node");
    constexpr unsigned kNeed = kPermWrite | kPermOwner;
    if ((perm_for(c.domid, it->second) & kNeed) != kNeed) return fail(XEN_EACCES, path);
    it->second = perms;
    return kOk;
}

Result<std::string> Xenstore::do_transaction_end(Connection& c, uint32_t tx_id, bool commit, Effects& fx) {
    auto tx = tx_id != 0 ? c.txs.take(tx_id) : nullptr;
    if (!tx) return fail(XEN_ENOENT, "no transaction " + std::to_string(tx_id));
    if (!commit) return kOk;
    auto changes = tx->commit();
    if (!changes) return std::unexpected(changes.error());
    fire(*changes, fx);
    return kOk;
}

// --- watch delivery

void Xenstore::fire(const std::vector<Change>& changes, Effects& fx) {
    std::vector<WatchEvent> events;
    for (const Change& ch : changes) watches_.match(ch, events);
    for (const auto& ev : events) deliver(ev, fx);
}

void Xenstore::fire_special(std::string_view path, Effects& fx) {
    const auto it = special_perms_.find(path);
    fire({Change{std::string(path), true, {it->second}}}, fx);
}

void Xenstore::deliver(const WatchEvent& ev, Effects& fx) {
    Connection* c = find(ev.conn);
    if (!c || c->broken) return;
    if (c->wire) {
        std::string payload = ev.path;
        payload += '\0';
        payload += ev.token;
        payload += '\0';
        if (payload.size() > XENSTORE_PAYLOAD_MAX) return;  // xenstored drops these too
        queue(*c, encode_message(XS_WATCH_EVENT, 0, 0, payload), true);
        if (c->id != fx.current) fx.ready.push_back(c->id);
    } else if (c->sink) {
        fx.posts.push_back([sink = c->sink, ev] { sink(ev); });
    }
}

void Xenstore::finish(Effects& fx) {
    for (auto& post : fx.posts) {
        if (options_.executor)
            options_.executor(std::move(post));
        else
            post();
    }
    std::ranges::sort(fx.ready);
    const auto [first, last] = std::ranges::unique(fx.ready);
    fx.ready.erase(first, last);
    if (options_.output_ready)
        for (ConnId id : fx.ready) options_.output_ready(id);
}

// --- introspection

Result<void> Xenstore::check_invariants() const {
    std::lock_guard lock(mu_);
    if (auto r = store_.check_invariants(); !r) return r;
    for (const auto& [id, c] : conns_) {
        size_t bytes = 0;
        for (const auto& m : c->out) bytes += m.size();
        if (bytes != c->out_bytes) return fail(XEN_EIO, "output accounting of connection " + std::to_string(id));
        if (c->broken && (!c->out.empty() || c->txs.size() != 0))
            return fail(XEN_EIO, "broken connection " + std::to_string(id) + " still holds state");
    }
    return {};
}

size_t Xenstore::node_count() const {
    std::lock_guard lock(mu_);
    return store_.size();
}

}  // namespace pvhv::xs
