// The C++ xenstore API for the toolstack and back-ends in pvd (dom0), with watch callbacks.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dom0-tools/xenstore/handler.h"
#include "dom0-tools/xenstore/perms.h"
#include "hv/error.h"
#include "hv/types.h"

namespace pvhv::xs {

using TxId = uint32_t;
inline constexpr TxId kNoTx = 0;

// Called through the Xenstore's executor with the changed path (relative if the watch was)
// and the token. A callback never runs after unwatch() or the client's destruction returned
// on the executor's thread.
using WatchCallback = std::function<void(std::string_view path, std::string_view token)>;

// One connection to the store acting as `domid` (dom0 by default, which bypasses
// permissions and quotas). Thread-safe; not copyable.
class XsClient {
public:
    explicit XsClient(Xenstore& xs, DomId domid = kDom0);
    ~XsClient();
    XsClient(const XsClient&) = delete;
    XsClient& operator=(const XsClient&) = delete;

    DomId domid() const { return domid_; }
    ConnId conn() const { return conn_; }
    Xenstore& store() { return xs_; }

    Result<std::string> read(std::string_view path, TxId tx = kNoTx);
    Result<void> write(std::string_view path, std::string_view value, TxId tx = kNoTx);
    Result<void> mkdir(std::string_view path, TxId tx = kNoTx);
    Result<void> rm(std::string_view path, TxId tx = kNoTx);
    Result<std::vector<std::string>> directory(std::string_view path, TxId tx = kNoTx);
    Result<Perms> get_perms(std::string_view path, TxId tx = kNoTx);
    Result<void> set_perms(std::string_view path, const Perms& perms, TxId tx = kNoTx);
    Result<std::string> get_domain_path(DomId domid);

    Result<TxId> transaction_start();
    Result<void> transaction_end(TxId tx, bool commit);
    // Runs `body` inside a transaction and commits, starting over when the commit reports
    // a conflict (EAGAIN), at most `attempts` times: the loop every xenstore client writes.
    Result<void> transact(const std::function<Result<void>(TxId)>& body, int attempts = 16);

    // Registers a watch; `cb` also gets the initial event xenstored sends on registration.
    Result<void> watch(std::string_view path, std::string_view token, WatchCallback cb);
    Result<void> unwatch(std::string_view path, std::string_view token);
    Result<void> reset_watches();

private:
    // Shared with the connection's sink so a posted event finds its callback (or that it
    // is gone) when it finally runs.
    struct Callbacks {
        std::mutex mu;  // guards map
        std::map<std::pair<std::string, std::string>, std::shared_ptr<WatchCallback>> map;
    };
    Result<std::string> run(TxId tx, RequestBody request);
    static void dispatch_event(const std::weak_ptr<Callbacks>& weak, const WatchEvent& ev);

    Xenstore& xs_;
    DomId domid_;
    std::shared_ptr<Callbacks> callbacks_;
    ConnId conn_;
};

}  // namespace pvhv::xs
