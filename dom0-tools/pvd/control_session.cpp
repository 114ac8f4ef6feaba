// One pvctl connection: request dispatch onto the domain manager, replies and streaming.
#include "dom0-tools/pvd/control_session.h"

#include <unistd.h>

#include <boost/asio/write.hpp>

#include "dom0-tools/pvctl/xl_cfg.h"
#include "dom0-tools/pvd/config_codec.h"
#include "dom0-tools/pvd/config_rules.h"
#include "dom0-tools/pvd/control_server.h"
#include "dom0-tools/pvd/domain_manager.h"
#include "dom0-tools/pvd/log.h"
#include "dom0-tools/pvd/shutdown_request.h"

namespace pvhv::dom0 {

ControlSession::ControlSession(boost::asio::local::stream_protocol::socket socket,
                               ControlServer& server, uint64_t id)
    : socket_(std::move(socket)), server_(&server), manager_(&server.manager()), id_(id) {}

void ControlSession::start() {
    read_more();
}

void ControlSession::read_more() {
    if (closed_) return;
    socket_.async_read_some(
        boost::asio::buffer(rbuf_),
        [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
            if (self->closed_) return;
            if (ec) {  // EOF included: the client hung up
                self->close();
                return;
            }
            self->decoder_.feed(std::span<const char>(self->rbuf_.data(), n));
            for (;;) {
                auto frame = self->decoder_.next();
                if (!frame) {
                    log_warn("control client: " + frame.error().message);
                    self->close();
                    return;
                }
                if (!*frame) break;
                control::Request req;
                if (!req.ParseFromString(**frame)) {
                    self->send_error("malformed request");
                    self->close_after_flush();
                    return;
                }
                self->handle(req);
                if (self->closed_ || self->closing_) return;
            }
            self->read_more();
        });
}

void ControlSession::handle(const control::Request& req) {
    if (!manager_) return;
    switch (req.kind_case()) {
        case control::Request::kCreate:
            return handle_create(req.create());
        case control::Request::kList:
            return handle_list();
        case control::Request::kDestroy:
            return handle_destroy(req.destroy());
        case control::Request::kShutdown:
            return handle_shutdown(req.shutdown());
        case control::Request::kConsoleAttach:
            return handle_console(req.console_attach());
        case control::Request::kInfo:
            return handle_info();
        case control::Request::kTop:
            return handle_top();
        case control::Request::kConsoleInput:
            return handle_console_input(req.console_input());
        case control::Request::kPause:
            return handle_pause(req.pause().domain(), true);
        case control::Request::kUnpause:
            return handle_pause(req.unpause().domain(), false);
        case control::Request::kDebugDump:
            return handle_debug_dump(req.debug_dump());
        case control::Request::kDeviceAttach:
            return handle_device_attach(req.device_attach());
        case control::Request::kDeviceDetach:
            return handle_device_detach(req.device_detach());
        case control::Request::kDeviceList:
            return handle_device_list(req.device_list());
        case control::Request::KIND_NOT_SET:
            break;
    }
    send_error("unknown or empty request (is pvctl newer than pvd?)");
}

bool ControlSession::following_something(control::Response& reply) const {
    if (!following_) return false;
    reply.set_error("this connection already follows domain " + std::to_string(following_->value));
    return true;
}

Result<DomId> ControlSession::resolve(const control::DomainRef& ref) const {
    switch (ref.ref_case()) {
        case control::DomainRef::kId: {
            const DomId id{static_cast<uint16_t>(ref.id())};
            if (ref.id() > 0xffff || !manager_->exists(id))
                return fail(XEN_ESRCH, "no domain with id " + std::to_string(ref.id()));
            return id;
        }
        case control::DomainRef::kName:
            return manager_->find_by_name(ref.name());
        case control::DomainRef::REF_NOT_SET:
            break;
    }
    return fail(XEN_EINVAL, "no domain given");
}

void ControlSession::handle_create(const control::CreateRequest& req) {
    control::Response reply;
    if ((req.attach_console() || req.destroy_on_disconnect()) && following_something(reply))
        return send(reply);
    if (req.destroy_on_disconnect() && bound_)
        return send_error("this connection is already bound to domain " +
                          std::to_string(bound_->value));
    DomainConfig config;
    DeviceConfig devices;
    switch (req.source_case()) {
        case control::CreateRequest::kConfig:
            config = from_proto(req.config());
            devices = devices_from_proto(req.config());
            break;
        case control::CreateRequest::kXlConfig: {
            const auto& x = req.xl_config();
            if (x.path().empty() || x.path().front() != '/')
                return send_error(
                    "xl_config.path must be absolute (pvd does not know your directory)");
            XlCfgInput in{x.text(), x.path(), {x.overrides().begin(), x.overrides().end()}, "/"};
            auto parsed = parse_xl_cfg(in);
            if (!parsed) {
                for (const auto& w : parsed.error().warnings) reply.add_warnings(w);
                std::string msg;
                for (const auto& e : parsed.error().errors) msg += (msg.empty() ? "" : "\n") + e;
                reply.set_error(msg);
                return send(reply);
            }
            for (const auto& w : parsed->warnings) reply.add_warnings(w);
            config = parsed->config;
            devices = parsed->devices;
            break;
        }
        case control::CreateRequest::SOURCE_NOT_SET:
            return send_error("create request without a config");
    }
    const bool follow = req.attach_console() || req.destroy_on_disconnect();
    auto id = manager_->create(config, follow ? shared_from_this() : nullptr, req.attach_console(),
                               std::move(devices));
    if (!id) {
        reply.set_error(id.error().message);
        return send(reply);
    }
    if (follow) {
        following_ = *id;
        streaming_ = req.attach_console();
        if (req.destroy_on_disconnect()) bound_ = *id;
    }
    auto* c = reply.mutable_create();
    c->set_domid(id->value);
    c->set_name(config.name);
    for (const auto& d : manager_->list())
        if (d.id == *id) c->set_console_log(d.console_log);
    send(reply);
}

void ControlSession::handle_list() {
    control::Response reply;
    auto* list = reply.mutable_list();
    for (const auto& d : manager_->list()) {
        auto* i = list->add_domains();
        i->set_domid(d.id.value);
        i->set_name(d.name);
        i->set_state(to_proto(d.state));
        if (d.shutdown_reason) i->set_shutdown_reason(to_proto(*d.shutdown_reason));
        *i->mutable_config() = to_proto(d.config);
        devices_to_proto(d.devices, *i->mutable_config());
        i->set_uptime_ms(static_cast<uint64_t>(d.uptime.count()));
        if (d.cpu_time) i->set_cpu_time_ns(static_cast<uint64_t>(d.cpu_time->count()));
        i->set_transport(d.transport);
        i->set_console_log(d.console_log);
    }
    send(reply);
}

void ControlSession::handle_destroy(const control::DestroyRequest& req) {
    auto id = resolve(req.domain());
    if (!id) return send_error(id.error().message);
    if (auto r = manager_->destroy(*id, "destroy requested"); !r)
        return send_error(r.error().message);
    control::Response reply;
    reply.mutable_destroy();
    send(reply);
}

void ControlSession::handle_shutdown(const control::ShutdownRequest& req) {
    auto id = resolve(req.domain());
    if (!id) return send_error(id.error().message);
    ShutdownOptions options;
    options.reason = from_proto(req.reason()).value_or(ShutdownReason::Crash);  // refused below
    options.force = req.force();
    if (req.timeout_ms() != 0) options.timeout = std::chrono::milliseconds(req.timeout_ms());
    ShutdownDone done;
    if (req.wait())
        done = [w = weak_from_this()](const Result<std::string>& outcome) {
            if (auto self = w.lock()) self->shutdown_finished(outcome);
        };
    auto started = start_shutdown(socket_.get_executor(), *manager_, *id, options, std::move(done));
    if (!started) return send_error(started.error().message);
    if (req.wait() && !started->finished) return;  // answered by shutdown_finished
    shutdown_finished(started->note);
}

void ControlSession::shutdown_finished(const Result<std::string>& outcome) {
    if (!outcome) return send_error(outcome.error().message);
    control::Response reply;
    if (!outcome->empty()) reply.add_warnings(*outcome);
    reply.mutable_shutdown();
    send(reply);
}

void ControlSession::handle_console(const control::ConsoleAttachRequest& req) {
    control::Response reply;
    if (following_something(reply)) return send(reply);
    auto id = resolve(req.domain());
    if (!id) return send_error(id.error().message);
    if (auto w = manager_->watch(*id, shared_from_this(), true); !w)
        return send_error(w.error().message);
    following_ = *id;
    streaming_ = true;
    auto* a = reply.mutable_console_attach();
    a->set_domid(id->value);
    a->set_name(manager_->name_of(*id));
    send(reply);
}

void ControlSession::handle_console_input(const control::ConsoleInput& req) {
    // Only the stream's own connection types into it; there is no reply to interleave.
    if (!streaming_ || !following_)
        return send_error("console input without an attached console (send ConsoleAttach first)");
    // The domain may have gone since; its DomainExited is on the way.
    (void)manager_->console_input(*following_, req.data());
}

void ControlSession::handle_pause(const control::DomainRef& ref, bool pause) {
    auto id = resolve(ref);
    if (!id) return send_error(id.error().message);
    if (auto r = pause ? manager_->pause(*id) : manager_->unpause(*id); !r)
        return send_error(r.error().message);
    control::Response reply;
    if (pause)
        reply.mutable_pause();
    else
        reply.mutable_unpause();
    send(reply);
}

void ControlSession::handle_info() {
    control::Response reply;
    auto* i = reply.mutable_info();
    const ServerInfo& s = server_->info();
    i->set_version(s.version);
    i->set_pid(static_cast<uint32_t>(::getpid()));
    i->set_runtime_dir(s.runtime_dir);
    i->set_socket(s.socket_path);
    i->set_domains(static_cast<uint32_t>(manager_->size()));
    i->set_hv_core(manager_->factory_description());
    if (s.host_facts) {
        for (const auto& [k, v] : s.host_facts()) {
            auto* kv = i->add_host();
            kv->set_key(k);
            kv->set_value(v);
        }
    }
    send(reply);
}

void ControlSession::handle_top() {
    control::Response reply;
    auto* top = reply.mutable_top();
    for (const auto& d : manager_->list()) {
        auto c = manager_->counters(d.id);
        if (!c) continue;
        auto* out = top->add_domains();
        out->set_domid(d.id.value);
        out->set_name(d.name);
        for (const auto& [k, v] : c->exits) (*out->mutable_exits())[k] = v;
        for (const auto& [k, v] : c->hypercalls) (*out->mutable_hypercalls())[k] = v;
        out->set_hypercall_enosys(c->hypercall_enosys);
        out->set_mmio_unclaimed(c->mmio_unclaimed);
        if (auto devices = manager_->devices(d.id))
            for (const auto& s : *devices) *out->add_devices() = to_proto(s);
    }
    send(reply);
}

void ControlSession::handle_debug_dump(const control::DebugDumpRequest& req) {
    auto id = resolve(req.domain());
    if (!id) return send_error(id.error().message);
    auto text = manager_->debug_dump(*id);
    if (!text) return send_error(text.error().message);
    control::Response reply;
    auto* d = reply.mutable_debug_dump();
    d->set_domid(id->value);
    d->set_name(manager_->name_of(*id));
    d->set_text(std::move(*text));
    send(reply);
}

void ControlSession::handle_device_attach(const control::DeviceAttachRequest& req) {
    auto id = resolve(req.domain());
    if (!id) return send_error(id.error().message);
    control::Response reply;
    auto* a = reply.mutable_device_attach();
    switch (req.device_case()) {
        case control::DeviceAttachRequest::kDisk: {
            auto disk = manager_->attach_disk(*id, from_proto(req.disk()));
            if (!disk) return send_error(disk.error().message);
            a->set_kind(control::DEVICE_VBD);
            a->set_devid(back::vdev_number(disk->vdev).value_or(0));
            *a->mutable_disk() = to_proto(*disk);
            break;
        }
        case control::DeviceAttachRequest::kVif: {
            auto vif = manager_->attach_vif(*id, from_proto(req.vif()));
            if (!vif) return send_error(vif.error().message);
            a->set_kind(control::DEVICE_VIF);
            a->set_devid(vif->devid.value_or(0));
            *a->mutable_vif() = to_proto(*vif);
            break;
        }
        case control::DeviceAttachRequest::DEVICE_NOT_SET:
            return send_error("device attach request without a disk or vif");
    }
    send(reply);
}

void ControlSession::handle_device_detach(const control::DeviceDetachRequest& req) {
    auto id = resolve(req.domain());
    if (!id) return send_error(id.error().message);
    // Answered when the device is gone: after the guest's front-end closed, or the timeout.
    auto started = manager_->detach_device(
        *id, from_proto(req.kind()), req.device(),
        [w = weak_from_this()](Result<back::DetachOutcome> r) {
            auto self = w.lock();
            if (!self) return;
            if (!r) return self->send_error(r.error().message);
            control::Response reply;
            reply.mutable_device_detach()->set_forced(r->forced);
            if (r->forced) reply.add_warnings("device removed without the guest's consent: " + r->detail);
            self->send(reply);
        });
    if (!started) send_error(started.error().message);
}

void ControlSession::handle_device_list(const control::DeviceListRequest& req) {
    auto id = resolve(req.domain());
    if (!id) return send_error(id.error().message);
    auto devices = manager_->devices(*id);
    if (!devices) return send_error(devices.error().message);
    control::Response reply;
    auto* l = reply.mutable_device_list();
    l->set_domid(id->value);
    for (const auto& s : *devices)
        if (s.kind == from_proto(req.kind())) *l->add_devices() = to_proto(s);
    send(reply);
}

// --- DomainWatcher ---------------------------------------------------------------------------

void ControlSession::on_console(DomId id, std::string_view bytes) {
    if (closed_ || closing_ || !streaming_) return;
    if (out_bytes_ + bytes.size() > kMaxQueuedBytes) {
        dropped_console_bytes_ += bytes.size();
        return;
    }
    control::Response r;
    auto* d = r.mutable_console_data();
    d->set_domid(id.value);
    if (dropped_console_bytes_ > 0) {
        d->set_data(
            "\r\n[pvd: " + std::to_string(dropped_console_bytes_) +
            " bytes of console output dropped: client too slow; the console log has them]\r\n");
        dropped_console_bytes_ = 0;
    }
    d->mutable_data()->append(bytes.data(), bytes.size());
    send(r);
}

void ControlSession::on_restarted(DomId old_id, DomId new_id, ShutdownReason reason,
                                  const std::string& name) {
    if (bound_ == old_id) bound_ = new_id;
    if (!following_ || *following_ != old_id) return;
    following_ = new_id;
    if (!streaming_ || closed_ || closing_) return;
    control::Response r;
    auto* m = r.mutable_domain_restarted();
    m->set_old_domid(old_id.value);
    m->set_new_domid(new_id.value);
    m->set_reason(to_proto(reason));
    m->set_name(name);
    send(r);
}

void ControlSession::on_exited(DomId id, const ExitInfo& info) {
    if (bound_ == id && manager_ && !manager_->exists(id)) bound_.reset();
    if (!following_ || *following_ != id) return;
    following_.reset();
    const bool streaming = std::exchange(streaming_, false);
    if (closed_ || closing_) return;
    control::Response r;
    if (streaming) {
        auto* e = r.mutable_domain_exited();
        e->set_domid(id.value);
        if (info.reason) e->set_reason(to_proto(*info.reason));
        e->set_destroyed(info.destroyed);
        e->set_exit_code(info.exit_code);
        e->set_detail(info.detail);
    } else {
        return;  // bound without a stream: nothing to tell
    }
    send(r);
}

// --- output ----------------------------------------------------------------------------------

void ControlSession::send_error(const std::string& message) {
    control::Response r;
    r.set_error(message);
    send(r);
}

void ControlSession::send(const control::Response& r) {
    if (closed_ || closing_) return;
    auto frame = encode_frame(r);
    if (!frame) {
        log_error("control reply not sent: " + frame.error().message);
        control::Response e;
        e.set_error("reply too large: " + frame.error().message);
        frame = encode_frame(e);
        if (!frame) return;
    }
    out_bytes_ += frame->size();
    out_.push_back(std::move(*frame));
    if (!writing_) write_next();
}

void ControlSession::write_next() {
    if (closed_) return;
    if (out_.empty()) {
        writing_ = false;
        if (closing_) close();
        return;
    }
    writing_ = true;
    boost::asio::async_write(
        socket_, boost::asio::buffer(out_.front()),
        [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
            if (self->closed_) return;
            if (ec) {
                self->close();
                return;
            }
            self->out_bytes_ -= self->out_.front().size();
            self->out_.pop_front();
            self->write_next();
        });
}

void ControlSession::close_after_flush() {
    if (closed_) return;
    closing_ = true;
    if (!writing_) close();
}

void ControlSession::detach_from_server() {
    server_ = nullptr;
    manager_ = nullptr;
    closed_ = true;
    boost::system::error_code ec;
    socket_.close(ec);
}

void ControlSession::close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    socket_.close(ec);
    out_.clear();
    out_bytes_ = 0;
    if (bound_ && manager_ && manager_->exists(*bound_)) {
        // pvctl create -F went away (done, Ctrl-C, killed, timed out): its domain goes too.
        const DomId id = *std::exchange(bound_, std::nullopt);
        (void)manager_->destroy(id, "its pvctl create -F disconnected");
    }
    if (server_) server_->session_closed(id_);
}

}  // namespace pvhv::dom0
