// Xenstore watches: registration per connection and matching changes to the events they fire.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dom0-tools/xenstore/quota.h"
#include "dom0-tools/xenstore/tree_ops.h"
#include "hv/error.h"
#include "hv/types.h"

namespace pvhv::xs {

using ConnId = uint32_t;  // a client of the store: a guest's ring or a C++ API handle

struct WatchEvent {
    ConnId conn = 0;
    std::string path;        // what changed, relative when the watch was registered relative
    std::string token;
    std::string watch_path;  // the watch as registered (lets API clients find their callback)
};

class WatchRegistry {
public:
    // `node` is canonical (absolute or "@..."); `registered` is what the client sent. A
    // relative registration strips its "/local/domain/<id>/" prefix from event paths.
    // EEXIST for the same node and token on one connection; the Watches quota error when the
    // domain already has `q.max_watches` (not for dom0).
    Result<void> add(ConnId conn, DomId domid, std::string node, std::string token,
                     std::string registered, bool relative, const Quotas& q);
    Result<void> remove(ConnId conn, std::string_view node, std::string_view token);
    void remove_all(ConnId conn);
    uint32_t count(DomId domid) const;

    // Appends the events `change` fires: for every watch on the path (and, unless the change
    // is exact, on its ancestors) whose domain may see the change.
    void match(const Change& change, std::vector<WatchEvent>& out) const;

    // The event a watch fires once when it is registered (xenstored does, so that clients
    // need no separate initial read).
    static WatchEvent initial_event(ConnId conn, std::string_view registered, std::string_view token);

private:
    struct Watch {
        ConnId conn;
        DomId domid;
        std::string token;
        std::string registered;
        size_t strip;  // bytes of prefix removed from event paths
    };
    void match_node(std::string_view node, const Change& change, std::vector<WatchEvent>& out) const;

    std::map<std::string, std::vector<Watch>, std::less<>> by_node_;
    std::unordered_map<uint16_t, uint32_t> per_domain_;
};

}  // namespace pvhv::xs
