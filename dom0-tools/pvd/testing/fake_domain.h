// A scriptable GuestDomain/DomainFactory for unit tests of the manager and control server.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dom0-tools/pvd/guest_domain.h"

namespace pvhv::dom0::testing {

// What a test sees of one fake domain. The test thread and the loop thread both touch it;
// `mu` guards every field.
struct FakeDomainState {
    std::mutex mu;
    DomId id;
    DomainConfig config;
    DomainObserver* observer = nullptr;
    DomainState state = DomainState::Created;
    bool started = false;
    bool destroyed = false;
    bool pv_control = false;
    std::vector<ShutdownReason> shutdown_requests;
    CountersSnapshot counters;
    std::string console_on_destroy;  // output a back-end flushes while the domain goes away
    std::string console_input;       // what pvctl typed, as the domain received it
    std::string debug_text = "fake PV state\n";
    // PV devices as the manager attached them, in order; detaches waiting for completion.
    std::vector<back::DiskSpec> disks;
    std::vector<back::VifSpec> vifs;
    std::string fail_attach;     // non-empty: attach_* fail with this message
    int attached_while_running = 0;  // attaches after start(): hot-plugged
    bool detach_at_once = true;  // else detach_device() waits in `detaches` for the test
    struct PendingDetach {
        DeviceKind kind;
        uint32_t devid;
        back::DetachDone done;
    };
    std::vector<PendingDetach> detaches;

    // Act like the guest from a "vCPU thread": the observer must only post.
    void guest_console(std::string_view bytes) { observer->console_output(id, bytes); }
    void guest_shutdown(ShutdownReason r) {
        {
            std::lock_guard lock(mu);
            state = DomainState::Shutdown;
        }
        observer->state_changed(id, DomainState::Shutdown, r);
    }
};

class FakeDomain final : public GuestDomain {
  public:
    explicit FakeDomain(std::shared_ptr<FakeDomainState> s, bool fail_start)
        : s_(std::move(s)), fail_start_(fail_start) {}
    ~FakeDomain() override { destroy(); }

    Result<void> start() override {
        if (fail_start_) return fail(XEN_EINVAL, "fake start failure");
        {
            std::lock_guard lock(s_->mu);
            s_->started = true;
            s_->state = DomainState::Running;
        }
        s_->observer->state_changed(s_->id, DomainState::Running, std::nullopt);
        return {};
    }
    Result<void> pause() override { return move(DomainState::Running, DomainState::Paused); }
    Result<void> unpause() override { return move(DomainState::Paused, DomainState::Running); }
    void destroy() override {
        std::string last_words;
        {
            std::lock_guard lock(s_->mu);
            if (s_->destroyed) return;
            s_->destroyed = true;
            s_->state = DomainState::Dead;
            last_words = s_->console_on_destroy;
        }
        if (!last_words.empty()) s_->observer->console_output(s_->id, last_words);
        // The real Domain reports Dying/Dead from the destroying thread, too.
        s_->observer->state_changed(s_->id, DomainState::Dying, std::nullopt);
        s_->observer->state_changed(s_->id, DomainState::Dead, std::nullopt);
    }
    DomainState state() const override {
        std::lock_guard lock(s_->mu);
        return s_->state;
    }
    CountersSnapshot counters() const override {
        std::lock_guard lock(s_->mu);
        return s_->counters;
    }
    std::string transport() const override { return "pio"; }
    std::optional<std::chrono::nanoseconds> cpu_time() const override { return std::nullopt; }
    std::string debug_dump() const override {
        std::lock_guard lock(s_->mu);
        return s_->debug_text;
    }
    bool has_pv_control() const override {
        std::lock_guard lock(s_->mu);
        return s_->pv_control;
    }
    Result<void> request_shutdown(ShutdownReason r) override {
        std::lock_guard lock(s_->mu);
        s_->shutdown_requests.push_back(r);
        return {};
    }
    Result<size_t> console_input(std::string_view bytes) override {
        std::lock_guard lock(s_->mu);
        s_->console_input.append(bytes);
        return bytes.size();
    }
    Result<uint32_t> attach_disk(const back::DiskSpec& disk) override {
        std::lock_guard lock(s_->mu);
        if (!s_->fail_attach.empty()) return fail(XEN_EIO, s_->fail_attach);
        s_->attached_while_running += s_->started;
        s_->disks.push_back(disk);
        return *back::vdev_number(disk.vdev);
    }
    Result<uint32_t> attach_vif(const back::VifSpec& vif) override {
        std::lock_guard lock(s_->mu);
        if (!s_->fail_attach.empty()) return fail(XEN_EIO, s_->fail_attach);
        s_->attached_while_running += s_->started;
        s_->vifs.push_back(vif);
        return *vif.devid;
    }
    void detach_device(DeviceKind kind, uint32_t devid, back::DetachDone done) override {
        {
            std::lock_guard lock(s_->mu);
            if (!s_->detach_at_once) {
                s_->detaches.push_back({kind, devid, std::move(done)});
                return;
            }
            remove(kind, devid);
        }
        done(back::DetachOutcome{false, "front-end closed"});
    }
    std::vector<DeviceStatus> devices() const override {
        std::lock_guard lock(s_->mu);
        std::vector<DeviceStatus> out;
        for (const auto& d : s_->disks) {
            DeviceStatus st;
            st.kind = DeviceKind::Vbd;
            st.devid = *back::vdev_number(d.vdev);
            st.name = d.vdev;
            st.xenbus.backend = XenbusStateConnected;
            st.xenbus.frontend = "4";
            st.backend_path = back::backend_path(s_->id, back::kVbd, st.devid);
            st.counters = {{"requests", 7}};
            out.push_back(st);
        }
        for (const auto& v : s_->vifs) {
            DeviceStatus st;
            st.kind = DeviceKind::Vif;
            st.devid = *v.devid;
            st.name = v.mac;
            st.xenbus.backend = XenbusStateInitWait;
            st.xenbus.frontend = "1";
            st.backend_path = back::backend_path(s_->id, back::kVif, st.devid);
            out.push_back(st);
        }
        return out;
    }
    // The device is gone from the fake (mu held).
    void remove(DeviceKind kind, uint32_t devid) {
        std::erase_if(s_->disks, [&](const back::DiskSpec& d) {
            return kind == DeviceKind::Vbd && back::vdev_number(d.vdev) == devid;
        });
        std::erase_if(s_->vifs, [&](const back::VifSpec& v) { return kind == DeviceKind::Vif && v.devid == devid; });
    }

  private:
    // As the hv core: only from `from`, and the observer hears of it.
    Result<void> move(DomainState from, DomainState to) {
        {
            std::lock_guard lock(s_->mu);
            if (s_->state != from) return fail(XEN_EINVAL, std::string("domain is ") + to_string(s_->state));
            s_->state = to;
        }
        s_->observer->state_changed(s_->id, to, std::nullopt);
        return {};
    }

    std::shared_ptr<FakeDomainState> s_;
    bool fail_start_;
};

// Records every domain it builds; failures can be scripted. Used on the loop thread only,
// but tests read `built` from their own thread after joining: `mu` guards it.
class FakeFactory final : public DomainFactory {
  public:
    Result<std::unique_ptr<GuestDomain>> create(DomId id, const DomainConfig& config,
                                                DomainObserver& observer) override {
        std::lock_guard lock(mu);
        if (fail_create) return fail(XEN_ENOMEM, "fake create failure");
        auto s = std::make_shared<FakeDomainState>();
        s->id = id;
        s->config = config;
        s->observer = &observer;
        s->pv_control = pv_control;
        s->fail_attach = fail_attach;
        built.push_back(s);
        return std::unique_ptr<GuestDomain>(std::make_unique<FakeDomain>(s, fail_start));
    }
    std::string description() const override { return "fake"; }

    std::shared_ptr<FakeDomainState> last() {
        std::lock_guard lock(mu);
        return built.empty() ? nullptr : built.back();
    }

    std::mutex mu;
    std::vector<std::shared_ptr<FakeDomainState>> built;
    bool fail_create = false;
    bool fail_start = false;
    bool pv_control = false;
    std::string fail_attach;  // every new domain's attach_* fail with this
};

}  // namespace pvhv::dom0::testing
