// The network anchor of bench/pv-io.sh: the host exchanging the guests' frames between two
// veth ends on the same kind of bridge.
//
//   pvhv-anchor-net IF_A IF_B pingpong|stream SIZE OPS
//
// Two threads, each with an AF_PACKET socket on its interface (ethertype 0x88b6, as
// bench_net): A sends SIZE-byte frames to B's MAC, B answers each ping with the same frame
// (pingpong) or counts them (stream), as the guests do. Prints bench_net's line:
//   BENCH name=net-pingpong-<size> ops=N ns=T           (round trips, timed at A)
//   BENCH name=net-stream-<size> ops=N ns=T sent=S      (N frames B received, T first to last)
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

constexpr uint16_t kEthertype = 0x88b6;
enum Kind : uint32_t { kPing = 3, kPong = 4, kData = 5, kEnd = 6 };

using Clock = std::chrono::steady_clock;

struct Endpoint {
    int fd = -1;
    int ifindex = 0;
    uint8_t mac[6]{};
};

Endpoint open_endpoint(const char* ifname) {
    Endpoint e;
    e.fd = ::socket(AF_PACKET, SOCK_RAW, htons(kEthertype));
    if (e.fd < 0) {
        std::perror("socket(AF_PACKET)");
        std::exit(1);
    }
    ifreq ifr{};
    std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    if (::ioctl(e.fd, SIOCGIFINDEX, &ifr) != 0) {
        std::perror(ifname);
        std::exit(1);
    }
    e.ifindex = ifr.ifr_ifindex;
    if (::ioctl(e.fd, SIOCGIFHWADDR, &ifr) != 0) {
        std::perror(ifname);
        std::exit(1);
    }
    std::memcpy(e.mac, ifr.ifr_hwaddr.sa_data, 6);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(kEthertype);
    sll.sll_ifindex = e.ifindex;
    if (::bind(e.fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
        std::perror("bind");
        std::exit(1);
    }
    // A packet socket also sees its own interface's outgoing frames: not ours to count.
    int one = 1;
    (void)::setsockopt(e.fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    // Room for a stream's burst (root may go past rmem_max), so B drops as few as it can.
    int bytes = 8 << 20;
    if (::setsockopt(e.fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
        (void)::setsockopt(e.fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    return e;
}

void send_frame(const Endpoint& from, const uint8_t* to, uint8_t* frame, size_t size, Kind kind,
                uint32_t seq) {
    std::memcpy(frame, to, 6);
    std::memcpy(frame + 6, from.mac, 6);
    frame[12] = kEthertype >> 8;
    frame[13] = kEthertype & 0xff;
    std::memcpy(frame + 14, &kind, 4);
    std::memcpy(frame + 18, &seq, 4);
    if (::send(from.fd, frame, size, 0) != static_cast<ssize_t>(size)) {
        std::perror("send");
        std::exit(1);
    }
}

// The next frame within timeout_ms: its kind and seq; false on timeout.
bool recv_frame(const Endpoint& at, uint8_t* frame, size_t size, int timeout_ms, Kind& kind,
                uint32_t& seq, ssize_t& len) {
    for (;;) {
        pollfd p{at.fd, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) return false;
        len = ::recv(at.fd, frame, size, 0);
        if (len < 22 || std::memcmp(frame, at.mac, 6) != 0) continue;
        std::memcpy(&kind, frame + 14, 4);
        std::memcpy(&seq, frame + 18, 4);
        return true;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: pvhv-anchor-net IF_A IF_B pingpong|stream SIZE OPS\n");
        return 2;
    }
    const std::string mode = argv[3];
    const size_t size = std::strtoul(argv[4], nullptr, 10);
    const uint32_t ops = static_cast<uint32_t>(std::strtoul(argv[5], nullptr, 10));
    if ((mode != "pingpong" && mode != "stream") || size < 60 || size > 1514) {
        std::fprintf(stderr, "pingpong|stream, SIZE 60..1514\n");
        return 2;
    }
    const Endpoint a = open_endpoint(argv[1]), b = open_endpoint(argv[2]);

    // B: answers pings, counts stream frames from the first to the last, stops at END.
    std::atomic<bool> b_done{false};
    uint32_t received = 0;
    Clock::time_point first{}, last{};
    std::thread peer([&] {
        uint8_t frame[2048];
        Kind kind;
        uint32_t seq;
        ssize_t len;
        while (recv_frame(b, frame, sizeof frame, 10000, kind, seq, len)) {
            if (kind == kPing) {
                send_frame(b, a.mac, frame, static_cast<size_t>(len), kPong, seq);
            } else if (kind == kData) {
                last = Clock::now();
                if (!received++) first = last;
            } else if (kind == kEnd) {
                break;
            }
        }
        b_done = true;
    });

    uint8_t frame[2048]{}, in[2048];
    unsigned resends = 0;
    const auto t0 = Clock::now();
    for (uint32_t seq = 0; seq < ops; ++seq) {
        if (mode == "stream") {
            send_frame(a, b.mac, frame, size, kData, seq);
            continue;
        }
        for (;;) {
            send_frame(a, b.mac, frame, size, kPing, seq);
            Kind kind;
            uint32_t got;
            ssize_t len;
            bool answered = false;
            while (recv_frame(a, in, sizeof in, 1000, kind, got, len))
                if (kind == kPong && got == seq) {
                    answered = true;
                    break;
                }
            if (answered) break;
            if (++resends > 10) {
                std::fprintf(stderr, "round %u: no pong\n", seq);
                std::exit(1);  // not return: the peer thread is still running
            }
        }
    }
    const auto t1 = Clock::now();
    // END until B has seen one (a frame may be dropped when B's socket buffer is full).
    for (int i = 0; i < 100 && !b_done; ++i) {
        send_frame(a, b.mac, frame, 60, kEnd, ops);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    peer.join();
    auto ns = [](Clock::duration d) {
        return static_cast<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
    };
    if (mode == "pingpong")
        std::printf("BENCH name=net-pingpong-%zu ops=%u ns=%lld resends=%u\n", size, ops, ns(t1 - t0),
                    resends);
    else
        std::printf("BENCH name=net-stream-%zu ops=%u ns=%lld sent=%u send_ns=%lld\n", size, received,
                    ns(last - first), ops, ns(t1 - t0));
    return 0;
}
