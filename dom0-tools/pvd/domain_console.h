// pvd's console wiring for one real domain: the PV console next to COM1, input routing, flushes.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "hv/domain/domain.h"
#include "hv/evtchn/dom0_event_channels.h"
#include "pvdrivers/back/console/pv_console.h"

namespace pvhv::dom0 {

// Stands between a Domain and pvd's manager: the Domain reports to it (it is the Domain's
// DomainObserver) and it forwards, so that it can drain the PV console ring before a
// shutdown is reported. Owned by RealDomain, declared before (so outliving) the Domain.
class DomainConsole final : public DomainObserver {
  public:
    DomainConsole(DomId id, const std::string& name, DomainObserver& manager)
        : id_(id), label_("dom" + std::to_string(id.value) + " (" + name + ") console"),
          manager_(manager) {}

    // After Domain::create, before start(): the PV console (page cleared, port allocated and
    // bound to dom0, HVM_PARAM_CONSOLE_PFN/_EVTCHN set, kicks awaited on `io`). Loop thread.
    Result<void> connect(Domain& domain, boost::asio::io_context& io, Dom0EventChannels& channels);
    // Typed input: the in ring once the guest uses its PV console (it has written to the out
    // ring, like hvc_xen as soon as it is a console), else COM1's receiver (ttyS0). Any thread.
    size_t input(Domain& domain, std::string_view bytes);
    // After the vCPUs are joined, before the domain's memory goes: last flush, port closed.
    void stop();

    // Where the ring is, for xenstore's /local/domain/<id>/console/{ring-ref,port}; nullopt
    // when the domain has no PV console (no Xen CPUID leaves).
    struct PvConsoleInfo {
        Gfn ring_gfn;
        EvtchnPort port;
    };
    std::optional<PvConsoleInfo> pv_console() const;

    // DomainObserver, on vCPU threads: output passes through; a shutdown is reported only once
    // the ring is drained, so nothing the guest wrote before SCHEDOP_shutdown arrives after
    // its exit.
    void console_output(DomId id, std::string_view bytes) override;
    void state_changed(DomId id, DomainState state, std::optional<ShutdownReason> reason) override;

  private:
    const DomId id_;
    const std::string label_;
    DomainObserver& manager_;
    std::shared_ptr<console::PvConsole> pv_;  // set by connect() before the vCPUs start, then fixed
};

}  // namespace pvhv::dom0
