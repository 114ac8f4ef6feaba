// pvd's xenstored: one Xenstore served on the Asio loop, dom0's own client and entry, the guests' links.
#pragma once

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>

#include "dom0-tools/xenstore/client.h"
#include "dom0-tools/xenstore/handler.h"
#include "hv/error.h"

namespace pvhv {
class Dom0EventChannels;
}

namespace pvhv::dom0 {

class XenstoreLink;

// Threading: created, used and destroyed on the loop thread (pvd's io_context), which is also
// the store's executor: API watch callbacks and the servicing of rings that have new output
// run there. The Xenstore itself is thread-safe, so a back-end on another thread may open its
// own XsClient on store(); the rings are only ever touched on the loop.
//
// Ownership: RealFactory owns the service; each domain's XenstoreLink refers to it and must be
// destroyed first (the factory outlives every domain it built).
class XenstoreService {
  public:
    // The store, dom0's client, and dom0's entry (/local/domain/0, as xen-init-dom0 writes it).
    static Result<std::unique_ptr<XenstoreService>> create(
        boost::asio::io_context& io, std::shared_ptr<Dom0EventChannels> channels);
    ~XenstoreService();
    XenstoreService(const XenstoreService&) = delete;
    XenstoreService& operator=(const XenstoreService&) = delete;

    xs::Xenstore& store() { return *store_; }
    xs::XsClient& toolstack() { return *toolstack_; }  // dom0: the toolstack's connection
    Dom0EventChannels& channels() { return *channels_; }
    boost::asio::io_context& io() { return io_; }

  private:
    friend class XenstoreLink;
    XenstoreService(boost::asio::io_context& io, std::shared_ptr<Dom0EventChannels> channels);
    // A link registers its ring connection so that output for it (another client's write
    // firing its watch) gets its ring serviced.
    void add_link(xs::ConnId conn, XenstoreLink* link);
    void remove_link(xs::ConnId conn);
    void output_ready(xs::ConnId conn);  // any thread: posts onto the loop

    boost::asio::io_context& io_;
    std::shared_ptr<Dom0EventChannels> channels_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // posted work checks it
    std::unique_ptr<xs::Xenstore> store_;
    std::unique_ptr<xs::XsClient> toolstack_;  // declared after store_: closed first
    std::map<xs::ConnId, XenstoreLink*> links_;  // loop thread only
};

}  // namespace pvhv::dom0
