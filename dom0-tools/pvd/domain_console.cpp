// DomainConsole: PV console setup per domain, input routing, ring flushes that keep output in order.
#include "dom0-tools/pvd/domain_console.h"

#include "hv/boot/guest_layout.h"
#include "hv/xen_public.h"

namespace pvhv::dom0 {

Result<void> DomainConsole::connect(Domain& domain, boost::asio::io_context& io,
                                    Dom0EventChannels& channels) {
    auto page = domain.special_page(layout::special::kConsoleRing);
    if (!page) return std::unexpected(page.error());
    const Gfn gfn = GuestLayout::special_page(layout::special::kConsoleRing);
    auto pv = console::PvConsole::create(
        io, channels,
        console::PvConsole::Params{
            id_, *page, gfn, label_,
            [this](std::string_view bytes) { manager_.console_output(id_, bytes); }});
    if (!pv)
        return fail(pv.error().xen_errno, "cannot set up the PV console: " + pv.error().message);
    pv_ = std::move(*pv);
    domain.set_hvm_param(HVM_PARAM_CONSOLE_PFN, pv_->ring_gfn().value);
    domain.set_hvm_param(HVM_PARAM_CONSOLE_EVTCHN, pv_->guest_port().value);
    return {};
}

size_t DomainConsole::input(Domain& domain, std::string_view bytes) {
    if (pv_ && pv_->guest_active()) return pv_->input(bytes);
    return domain.serial_input(bytes);
}

void DomainConsole::stop() {
    if (pv_) pv_->stop();
}

std::optional<DomainConsole::PvConsoleInfo> DomainConsole::pv_console() const {
    if (!pv_) return std::nullopt;
    return PvConsoleInfo{pv_->ring_gfn(), pv_->guest_port()};
}

void DomainConsole::console_output(DomId id, std::string_view bytes) {
    // Output through console_io or COM1 comes after whatever the guest put in its PV ring
    // before: drain the ring first (this vCPU thread), so one log keeps the guest's order.
    if (pv_) pv_->flush();
    manager_.console_output(id, bytes);
}

void DomainConsole::state_changed(DomId id, DomainState state,
                                  std::optional<ShutdownReason> reason) {
    if (state == DomainState::Shutdown && pv_) pv_->flush();
    manager_.state_changed(id, state, reason);
}

}  // namespace pvhv::dom0
