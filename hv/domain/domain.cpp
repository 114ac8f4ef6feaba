// Domain: the public face of DomainImpl, plus names of states and reasons.
#include "hv/domain/domain.h"

#include "hv/domain/domain_impl.h"

namespace pvhv {

const char* to_string(DomainState s) {
    switch (s) {
        case DomainState::Created: return "created";
        case DomainState::Running: return "running";
        case DomainState::Paused: return "paused";
        case DomainState::Shutdown: return "shutdown";
        case DomainState::Dying: return "dying";
        case DomainState::Dead: return "dead";
    }
    return "?";
}

const char* to_string(ShutdownReason r) {
    switch (r) {
        case ShutdownReason::Poweroff: return "poweroff";
        case ShutdownReason::Reboot: return "reboot";
        case ShutdownReason::Suspend: return "suspend";
        case ShutdownReason::Crash: return "crash";
        case ShutdownReason::Watchdog: return "watchdog";
        case ShutdownReason::SoftReset: return "soft_reset";
    }
    return "?";
}

Domain::Domain(std::unique_ptr<DomainImpl> impl) : impl_(std::move(impl)) {}
Domain::~Domain() = default;

Result<void> Domain::start() { return impl_->start(); }
Result<void> Domain::pause() { return impl_->set_paused(true); }
Result<void> Domain::unpause() { return impl_->set_paused(false); }
void Domain::destroy() { impl_->destroy(); }
DomId Domain::id() const { return impl_->id(); }
const DomainConfig& Domain::config() const { return impl_->config(); }
DomainState Domain::state() const { return impl_->state(); }
std::optional<ShutdownReason> Domain::shutdown_reason() const { return impl_->shutdown_reason(); }
CountersSnapshot Domain::counters() const { return impl_->counters().snapshot(); }
std::chrono::nanoseconds Domain::cpu_time() const { return impl_->cpu_time(); }
std::string Domain::transport() const { return "pio"; }
Result<std::span<uint8_t>> Domain::special_page(uint32_t index) const {
    if (index >= layout::kSpecialPagesCount) return fail(XEN_EINVAL, "no such special page");
    return impl_->memory().span(to_gpa(GuestLayout::special_page(index)), kPageSize);
}
void Domain::set_hvm_param(uint32_t index, uint64_t value) {
    impl_->hvm_params().set_by_toolstack(index, value);
}
size_t Domain::serial_input(std::string_view bytes) { return impl_->serial_input(bytes); }
std::shared_ptr<GrantTable> Domain::grant_table() const { return impl_->shared_grant_table(); }
std::string Domain::debug_dump() const { return impl_->debug_dump(); }
bool Domain::wait_stopped(std::chrono::milliseconds timeout) const {
    return impl_->wait_stopped(timeout);
}

}  // namespace pvhv
