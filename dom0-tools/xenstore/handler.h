// The xenstore daemon core: connections, the request dispatcher, watch delivery, byte streams.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dom0-tools/xenstore/perms.h"
#include "dom0-tools/xenstore/quota.h"
#include "dom0-tools/xenstore/store.h"
#include "dom0-tools/xenstore/transaction.h"
#include "dom0-tools/xenstore/watches.h"
#include "dom0-tools/xenstore/wire.h"
#include "hv/error.h"
#include "hv/types.h"

namespace pvhv::xs {

// Runs a piece of work later, elsewhere (pvd: boost::asio::post onto its loop).
using Executor = std::function<void(std::function<void()>)>;
// Receives the watch events of an API connection, through the executor.
using WatchSink = std::function<void(const WatchEvent&)>;

struct XenstoreOptions {
    Quotas quotas;  // for every unprivileged domain without its own (set_quotas)
    // Watch events for API connections are posted here, never run under the store lock.
    // Empty: run on the calling thread once the lock is released.
    Executor executor;
    // Called (without the lock held, on whatever thread caused it) when a wire connection
    // has new output that the call which produced it will not drain itself: watch events
    // caused by another client. The wiring then services that connection's ring.
    std::function<void(ConnId)> output_ready;
};

// Locking: one mutex (mu_) guards the store, the watch registry, every connection (its
// transactions, partial input and queued output) and the quotas. No callback runs under it.
class Xenstore {
public:
    explicit Xenstore(XenstoreOptions options = {});
    ~Xenstore();
    Xenstore(const Xenstore&) = delete;
    Xenstore& operator=(const Xenstore&) = delete;

    // --- connections
    // A wire (xs_wire byte stream) client acting as `domid`: a guest's ring.
    ConnId connect_wire(DomId domid);
    // A C++ API client (XsClient) acting as `domid`; its watch events go to `sink`.
    ConnId connect_api(DomId domid, WatchSink sink);
    // Drops the connection with its watches and open transactions.
    void disconnect(ConnId conn);
    // Quotas for one domain instead of the defaults.
    void set_quotas(DomId domid, const Quotas& quotas);

    // --- domain lifecycle (the toolstack's XS_INTRODUCE / XS_RELEASE)
    // Connects the domain's ring and fires @introduceDomain.
    ConnId introduce_domain(DomId domid);
    // Disconnects the domain's wire connections and fires @releaseDomain.
    void release_domain(DomId domid);

    // --- wire connections: bytes in, bytes out
    // Consumes request bytes (any chunking), handling every complete message and queueing
    // its reply. Stops early while the queued output exceeds the output quota (the caller
    // keeps the rest for later). Returns the bytes consumed; fails, and breaks the
    // connection, on a protocol violation (a payload length over XENSTORE_PAYLOAD_MAX).
    Result<size_t> feed(ConnId conn, std::span<const uint8_t> bytes);
    // Moves up to out.size() bytes of queued replies and events into `out`.
    size_t drain(ConnId conn, std::span<uint8_t> out);
    size_t pending_output(ConnId conn) const;
    // Whether feed() would consume anything now.
    bool wants_input(ConnId conn) const;
    // A broken connection consumes and produces nothing; its watches and transactions are
    // gone. Unknown connections count as broken.
    void mark_broken(ConnId conn, std::string_view why);
    bool is_broken(ConnId conn) const;
    uint64_t dropped_events(ConnId conn) const;
    // Complete requests received on a wire connection (well-formed or not): whether a guest
    // has started talking to its store at all.
    uint64_t requests_received(ConnId conn) const;

    // --- typed requests (XsClient, tests); same dispatcher and checks as the wire.
    // Returns the reply payload as the wire would carry it.
    Result<std::string> execute(ConnId conn, uint32_t tx_id, const RequestBody& request);

    // Store consistency, for tests and fuzzing.
    Result<void> check_invariants() const;
    size_t node_count() const;

private:
    struct Connection {
        ConnId id = 0;
        DomId domid;
        bool wire = false;
        bool broken = false;
        TransactionTable txs;
        WatchSink sink;
        std::vector<uint8_t> in;  // the message being received: header, then payload
        MsgHeader in_hdr;
        std::deque<std::vector<uint8_t>> out;
        size_t out_offset = 0;  // bytes of out.front() already drained
        size_t out_bytes = 0;
        uint64_t dropped_events = 0;
        uint64_t requests = 0;
    };
    // Work to do once the lock is released.
    struct Effects {
        ConnId current = 0;  // the wire connection being fed: drains its own output
        std::vector<WatchEvent> after_reply;  // initial events of new watches
        std::vector<std::function<void()>> posts;
        std::vector<ConnId> ready;
    };

    Connection* find(ConnId id);
    const Connection* find(ConnId id) const;
    const Quotas& quotas_for(DomId domid) const;
    ConnId add_connection(DomId domid, bool wire, WatchSink sink);
    void drop_connection_state(Connection& c);
    void break_connection(Connection& c, std::string_view why);

    Result<size_t> feed_locked(Connection& c, std::span<const uint8_t> bytes, Effects& fx);
    void handle_message(Connection& c, std::span<const uint8_t> payload, Effects& fx);
    Result<std::string> dispatch(Connection& c, uint32_t tx_id, const RequestBody& request, Effects& fx);
    Result<std::string> dispatch_tree(Connection& c, uint32_t tx_id, const RequestBody& request, Effects& fx);
    Result<std::string> do_watch(Connection& c, const std::string& path, const std::string& token, Effects& fx);
    Result<std::string> do_unwatch(Connection& c, const std::string& path, const std::string& token);
    Result<std::string> do_set_special_perms(Connection& c, const std::string& path, const Perms& perms);
    Result<std::string> do_transaction_end(Connection& c, uint32_t tx_id, bool commit, Effects& fx);

    void fire(const std::vector<Change>& changes, Effects& fx);
    void fire_special(std::string_view path, Effects& fx);
    void deliver(const WatchEvent& ev, Effects& fx);
    void queue(Connection& c, std::vector<uint8_t> message, bool droppable);
    void finish(Effects& fx);

    mutable std::mutex mu_;
    XenstoreOptions options_;
    Store store_;
    WatchRegistry watches_;
    std::map<ConnId, std::unique_ptr<Connection>> conns_;
    std::unordered_map<uint16_t, Quotas> domain_quotas_;
    std::map<std::string, Perms, std::less<>> special_perms_;
    ConnId next_conn_ = 1;
};

}  // namespace pvhv::xs
