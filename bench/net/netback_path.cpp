// netback's host cost per packet: a fake netfront's packets through the real vif path (callgrind).
//
//   pvhv-netback-path MODE SIZE BATCH ITERATIONS
//     tx         guest -> host, no checksum offload flags
//     tx-csum    guest -> host with NETTXF_csum_blank (field found, pseudo-header seeded)
//     rx         host -> guest, checksum complete
//     rx-csum    host -> guest, partial checksum passed on as NETRXF_csum_blank
//     rx-swcsum  host -> guest, partial checksum finished here (feature-no-csum-offload)
//
// Only the back-end's work is inside net_bench_serve (VifBackend::process_once: kicks
// consumed, ring parsed, grant copies, port, responses, the notification); the fake guest's
// work is outside. Count it with
//   valgrind --tool=callgrind --toggle-collect='net_bench_serve' pvhv-netback-path ...
// and divide the total Ir by the packets printed. Kernel work (the eventfd reads, the TAP's
// read/write, KVM_SIGNAL_MSI) is not in callgrind's count; the port here is a memory copy.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "pvdrivers/back/net/vif_backend.h"
#include "tests/unit/net_fake_frontend.h"

using namespace pvhv;
using namespace pvhv::net;
using pvhv::testing::FakeNetfront;

namespace {

// The host side at its cheapest: frames sent are counted, frames received are copies of one.
class BenchPort final : public PacketPort {
  public:
    BenchPort(std::vector<uint8_t> frame, PacketMeta meta) : frame_(std::move(frame)), meta_(meta) {}
    int fd() const override { return -1; }
    Result<size_t> receive(std::span<uint8_t> buf, PacketMeta& meta) override {
        if (pending == 0) return size_t{0};
        --pending;
        std::memcpy(buf.data(), frame_.data(), frame_.size());
        meta = meta_;
        return frame_.size();
    }
    Result<void> send(std::span<const uint8_t> frame, const PacketMeta&) override {
        ++sent;
        sent_bytes += frame.size();
        return {};
    }
    bool checksum_offload() const override { return true; }
    const std::string& name() const override { return name_; }

    uint64_t pending = 0;
    uint64_t sent = 0;
    uint64_t sent_bytes = 0;

  private:
    std::vector<uint8_t> frame_;
    PacketMeta meta_;
    std::string name_ = "bench";
};

// A UDP/IPv4 frame of `size` bytes; with `pseudo` its checksum field holds the pseudo-header
// sum (what a partial checksum carries), else the full checksum.
std::vector<uint8_t> udp_frame(size_t size, bool pseudo) {
    std::vector<uint8_t> f(size, 0);
    for (size_t i = 42; i < size; ++i) f[i] = static_cast<uint8_t>(i * 7);
    const uint8_t hdr[] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x16, 0x3e, 0, 0, 2, 0x08, 0x00,
                           0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
                           0x0f, 0xa0, 0x13, 0x88};
    std::memcpy(f.data(), hdr, sizeof hdr);
    const uint16_t ip_len = static_cast<uint16_t>(size - 14), udp_len = static_cast<uint16_t>(size - 34);
    f[16] = ip_len >> 8, f[17] = ip_len & 0xff;
    f[38] = udp_len >> 8, f[39] = udp_len & 0xff;
    auto l4 = find_l4_checksum(f);
    if (!l4) std::abort();
    seed_pseudo_header(f, *l4);
    if (!pseudo) finish_checksum(f, l4->spot);
    return f;
}

}  // namespace

extern "C" __attribute__((noinline)) void net_bench_serve(VifBackend* vif) {
    if (!vif->process_once()) std::abort();
}

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s tx|tx-csum|rx|rx-csum|rx-swcsum SIZE BATCH ITERATIONS\n",
                     argv[0]);
        return 2;
    }
    const std::string mode = argv[1];
    const size_t size = std::strtoul(argv[2], nullptr, 10);
    const uint32_t batch = static_cast<uint32_t>(std::strtoul(argv[3], nullptr, 10));
    const uint64_t iterations = std::strtoull(argv[4], nullptr, 10);
    const bool tx = mode.starts_with("tx");
    if (size < 60 || size > 65535 || batch < 1 || batch > 64 || (!tx && size > 4096 * 16)) {
        std::fprintf(stderr, "SIZE 60..65535, BATCH 1..64\n");
        return 2;
    }

    FakeNetfront fe;
    if (mode == "rx-swcsum") fe.keys["feature-no-csum-offload"] = "1";
    const bool partial = mode == "tx-csum" || mode == "rx-csum" || mode == "rx-swcsum";
    const auto frame = udp_frame(size, partial);
    PacketMeta meta;
    if (!tx && partial) meta = PacketMeta{PacketMeta::Csum::Partial, ChecksumSpot{34, 6}};
    auto port_owner = std::make_unique<BenchPort>(frame, meta);
    BenchPort* port = port_owner.get();
    VifOptions o;
    o.domid = FakeNetfront::kDomid;
    o.mac = *parse_mac("00:16:3e:00:00:02");
    auto vif = VifBackend::create_with_port(o, std::move(port_owner));
    if (!vif || !(*vif)->attach(fe.connection())) {
        std::fprintf(stderr, "attach failed\n");
        return 1;
    }

    // TX frames go in slots of at most a page, as netfront's.
    std::vector<uint16_t> slots;
    for (size_t left = size; left > 0; left -= std::min<size_t>(left, 4096))
        slots.push_back(static_cast<uint16_t>(std::min<size_t>(left, 4096)));
    const uint16_t tx_flags = mode == "tx-csum" ? NETTXF_csum_blank | NETTXF_data_validated : 0;

    uint64_t packets = 0, guest_seen = 0;
    const auto start = std::chrono::steady_clock::now();
    for (uint64_t it = 0; it < iterations; ++it) {
        if (tx) {
            for (uint32_t b = 0; b < batch; ++b) fe.queue_tx(frame, tx_flags, slots);
            fe.push_tx();
        } else {
            fe.post_rx(batch * static_cast<uint32_t>(slots.size()));
            port->pending = batch;
        }
        net_bench_serve(vif->get());
        packets += batch;
        guest_seen += tx ? fe.tx_responses().size() : fe.rx_packets().size();
        (void)fe.take_notification(fe.port_tx);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const uint64_t done = tx ? port->sent : (*vif)->stats().rx_packets.load();
    if (done != packets) {
        std::fprintf(stderr, "only %llu of %llu packets went through\n",
                     static_cast<unsigned long long>(done), static_cast<unsigned long long>(packets));
        return 1;
    }
    std::printf("mode %s size %zu batch %u: %llu packets (%llu guest responses), %.0f ns/packet "
                "wall (fake guest included)\n",
                mode.c_str(), size, batch, static_cast<unsigned long long>(packets),
                static_cast<unsigned long long>(guest_seen), secs * 1e9 / double(packets));
    return 0;
}
