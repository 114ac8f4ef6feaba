// The store on pvd's loop: executor, output_ready routing to the guests' rings, dom0's entry.
#include "dom0-tools/pvd/xenstore_service.h"

#include <boost/asio/post.hpp>

#include "dom0-tools/pvd/xenstore_link.h"
#include "dom0-tools/xenstore/domain_tree.h"

namespace pvhv::dom0 {

XenstoreService::XenstoreService(boost::asio::io_context& io,
                                 std::shared_ptr<Dom0EventChannels> channels)
    : io_(io), channels_(std::move(channels)) {
    xs::XenstoreOptions options;
    options.executor = [&io](std::function<void()> work) { boost::asio::post(io, std::move(work)); };
    options.output_ready = [this](xs::ConnId conn) { output_ready(conn); };
    store_ = std::make_unique<xs::Xenstore>(std::move(options));
    toolstack_ = std::make_unique<xs::XsClient>(*store_, kDom0);
}

Result<std::unique_ptr<XenstoreService>> XenstoreService::create(
    boost::asio::io_context& io, std::shared_ptr<Dom0EventChannels> channels) {
    std::unique_ptr<XenstoreService> s(new XenstoreService(io, std::move(channels)));
    if (auto r = xs::create_dom0_tree(*s->toolstack_); !r) return std::unexpected(r.error());
    return s;
}

XenstoreService::~XenstoreService() { alive_.reset(); }

void XenstoreService::add_link(xs::ConnId conn, XenstoreLink* link) { links_[conn] = link; }

void XenstoreService::remove_link(xs::ConnId conn) { links_.erase(conn); }

void XenstoreService::output_ready(xs::ConnId conn) {
    // Never serviced inline: this runs inside another connection's request (often on the
    // loop, in the middle of that guest's service_ring) or on a back-end's thread.
    boost::asio::post(io_, [this, alive = std::weak_ptr<int>(alive_), conn] {
        if (alive.expired()) return;
        if (auto it = links_.find(conn); it != links_.end()) it->second->service();
    });
}

}  // namespace pvhv::dom0
