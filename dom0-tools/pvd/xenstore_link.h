// One guest's xenstore connection: its ring page and store event channel, served on pvd's loop.
#pragma once

#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "dom0-tools/pvd/pv_shutdown.h"
#include "dom0-tools/pvd/xenstore_service.h"
#include "dom0-tools/xenstore/domain_tree.h"
#include "hv/domain/shutdown_reason.h"
#include "hv/evtchn/dom0_event_channels.h"

namespace pvhv::dom0 {

// What a guest's xenstore connection needs of its domain: RealDomain passes the hv core's
// special page and HVM params, unit tests a fake page.
struct StoreGuest {
    DomId id;
    std::string name;
    uint64_t memory_kib = 0;
    uint32_t vcpus = 1;
    std::span<uint8_t> ring_page;  // host view of the toolstack page; outlives the link
    uint64_t ring_gfn = 0;         // where the guest finds it (HVM_PARAM_STORE_PFN)
    std::function<void(uint32_t index, uint64_t value)> set_hvm_param;
    std::optional<xs::DomainTreeSpec::Console> console;  // the PV console, if the guest has one
};

// Threading: the loop thread only. Lifetime: made before the domain starts; destroyed after its
// vCPUs have stopped and before its memory goes (RealDomain declares it after the Domain).
// A guest that breaks its ring (hostile indexes, a bad length) loses this connection only: the
// store marks it broken and sets the page's error field, the link stops waiting for kicks, and
// the domain, pvd and other guests carry on.
class XenstoreLink {
  public:
    // In the order Xen's toolstack and xenstored follow: the ring page is initialised; dom0
    // allocates the store port in the guest (unbound, for dom0); HVM_PARAM_STORE_PFN and
    // STORE_EVTCHN are set; the domain's tree is created, which introduces the domain
    // (@introduceDomain, its ring connection); dom0 binds the port and waits for kicks.
    static Result<std::unique_ptr<XenstoreLink>> connect(XenstoreService& service,
                                                         const StoreGuest& guest);
    // Unbinds dom0's port, then removes the domain's tree and releases it (@releaseDomain).
    ~XenstoreLink();
    XenstoreLink(const XenstoreLink&) = delete;
    XenstoreLink& operator=(const XenstoreLink&) = delete;

    // The guest talks to its store (it sent at least one request) over an intact ring: a PV
    // driver is there to be asked to shut down. (xl asks PVH guests unconditionally and HVM
    // guests once HVM_PARAM_CALLBACK_IRQ is set; abi/README.md, "control/shutdown".)
    bool has_pv_control() const;
    // Writes control/shutdown ("poweroff", "reboot").
    Result<void> request_shutdown(ShutdownReason reason);

    bool broken() const { return broken_; }
    xs::ConnId conn() const { return conn_; }
    EvtchnPort guest_port() const { return guest_port_; }
    // Moves requests and replies now: on a kick, on output for this guest, or again after a
    // round limit. Harmless when nothing is to be done.
    void service();

  private:
    XenstoreLink(XenstoreService& service, const StoreGuest& guest);
    void wait_for_kick();

    XenstoreService& service_;
    const DomId id_;
    const std::string name_;
    const std::span<uint8_t> page_;
    EvtchnPort guest_port_{};
    xs::ConnId conn_ = 0;  // set once introduced
    std::optional<Dom0Port> port_;
    boost::asio::posix::stream_descriptor kicks_;  // a dup of port_'s eventfd, for the loop
    std::unique_ptr<PvShutdown> shutdown_;
    bool broken_ = false;
    bool again_posted_ = false;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // handlers check it
};

}  // namespace pvhv::dom0
