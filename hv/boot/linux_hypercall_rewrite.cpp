// Rewrites Linux's xen_hypercall_{amd,intel} instruction to the pio hypercall transport.
#include "hv/boot/linux_hypercall_rewrite.h"

#include <elf.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>

#include "hv/format.h"
#include "pvhv/hypercall_transport.h"

namespace pvhv {

using fmt::hex;

namespace {

constexpr std::array<uint8_t, 4> kEndbr64{0xf3, 0x0f, 0x1e, 0xfa};
constexpr std::array<uint8_t, 3> kVmmcall{0x0f, 0x01, 0xd9};
constexpr std::array<uint8_t, 3> kVmcall{0x0f, 0x01, 0xc1};
constexpr std::array<uint8_t, 3> kPioCall{PVHV_REWRITE_OUT_OPCODE, PVHV_HYPERCALL_PORT,
                                          PVHV_REWRITE_NOP};
constexpr uint8_t kRet = 0xc3;
constexpr uint8_t kJmpRel32 = 0xe9;
constexpr uint64_t kMaxShape = 4 + 3 + 5;  // endbr64 + instruction + jmp rel32

struct MapSymbol {
    uint64_t addr = 0;
    char type = 0;
};

// What we need from a System.map: the wanted names (with every occurrence) and whether the
// text looked like a symbol map at all.
struct MapScan {
    size_t symbols = 0;
    bool debian_placeholder = false;
    std::vector<MapSymbol> amd, intel, return_thunk;
};

MapScan scan_system_map(std::string_view text) {
    MapScan out;
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.find("The real System.map is in") != std::string_view::npos)
            out.debian_placeholder = true;

        // "<hex address> <type> <name>[\t[module]]"
        const size_t sp1 = line.find(' ');
        if (sp1 == std::string_view::npos || sp1 == 0 || sp1 > 16) continue;
        uint64_t addr = 0;
        const auto [p, ec] = std::from_chars(line.data(), line.data() + sp1, addr, 16);
        if (ec != std::errc{} || p != line.data() + sp1) continue;
        if (line.size() < sp1 + 4 || line[sp1 + 2] != ' ') continue;
        const char type = line[sp1 + 1];
        std::string_view name = line.substr(sp1 + 3);
        if (const size_t end = name.find_first_of(" \t"); end != std::string_view::npos)
            name = name.substr(0, end);
        if (name.empty()) continue;
        ++out.symbols;
        const MapSymbol sym{addr, type};
        if (name == "xen_hypercall_amd")
            out.amd.push_back(sym);
        else if (name == "xen_hypercall_intel")
            out.intel.push_back(sym);
        else if (name == "__x86_return_thunk")
            out.return_thunk.push_back(sym);
    }
    return out;
}

std::string bytes_hex(std::span<const uint8_t> b) {
    std::string s;
    for (uint8_t v : b) {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%02x ", v);
        s += buf;
    }
    if (!s.empty()) s.pop_back();
    return s;
}

struct CheckedSite {
    HypercallSite site;
    bool already_pio = false;
};

// Checks one function's bytes in guest memory against the accepted shapes.
Result<CheckedSite> check_site(const GuestMemory& mem, const ElfImage& kernel, const char* name,
                               const std::vector<MapSymbol>& syms,
                               const std::array<uint8_t, 3>& insn,
                               std::optional<uint64_t> return_thunk) {
    const std::string who = std::string(name);
    if (syms.size() != 1)
        return fail(XEN_EINVAL, "hypercall rewrite: " + who + " appears " +
                                    std::to_string(syms.size()) + " times in System.map");
    const MapSymbol sym = syms.front();
    const std::string at = who + " (" + hex(sym.addr) + ")";
    if (sym.type != 't' && sym.type != 'T')
        return fail(XEN_EINVAL, std::string("hypercall rewrite: ") + at + " has symbol type '" +
                                    sym.type + "', not a text symbol");

    // The smallest shape (instruction + ret) must be file-backed code of the kernel.
    auto seg = kernel.segment_for_vaddr(sym.addr, 4);
    if (!seg)
        return fail(XEN_EFAULT, "hypercall rewrite: " + at +
                                    " is outside the loaded kernel (wrong System.map?)");
    if (!(seg->flags & PF_X))
        return fail(XEN_EINVAL, "hypercall rewrite: " + at +
                                    " is not in an executable segment (wrong System.map?)");
    const uint64_t in_seg = sym.addr - seg->vaddr;
    const uint64_t avail = std::min<uint64_t>(kMaxShape, seg->filesz - in_seg);
    const Gpa gpa{seg->paddr + in_seg};
    std::array<uint8_t, kMaxShape> buf{};
    const auto bytes = std::span<uint8_t>(buf).first(avail);
    if (auto r = mem.read(gpa, bytes); !r)
        return fail(XEN_EFAULT, "hypercall rewrite: " + at + " at " + hex(gpa.value) +
                                    " is not in guest memory: " + r.error().message);

    auto shape_error = [&](const std::string& why) {
        return fail(XEN_EINVAL, "hypercall rewrite: unexpected bytes at " + at + ": " +
                                    bytes_hex(bytes) + " (" + why + "); expected [f3 0f 1e fa] " +
                                    bytes_hex(insn) + " then c3 or e9 <rel32>");
    };
    uint64_t off = 0;
    if (avail >= 4 && std::equal(kEndbr64.begin(), kEndbr64.end(), bytes.begin())) off = 4;
    if (avail < off + 4) return shape_error("function too short");
    const auto found = bytes.subspan(off, 3);
    const bool is_insn = std::equal(insn.begin(), insn.end(), found.begin());
    const bool is_pio = std::equal(kPioCall.begin(), kPioCall.end(), found.begin());
    if (!is_insn && !is_pio) return shape_error("not the expected instruction");
    const uint8_t after = bytes[off + 3];
    if (after == kJmpRel32) {
        if (avail < off + 8) return shape_error("jmp rel32 cut off");
        int32_t rel = 0;
        std::memcpy(&rel, bytes.data() + off + 4, 4);
        const uint64_t target = sym.addr + off + 8 + static_cast<uint64_t>(int64_t{rel});
        if (return_thunk && target != *return_thunk)
            return shape_error("jmp goes to " + hex(target) + ", not __x86_return_thunk " +
                               hex(*return_thunk));
        if (!return_thunk) {
            auto tseg = kernel.segment_for_vaddr(target, 1);
            if (!tseg || !(tseg->flags & PF_X))
                return shape_error("jmp target " + hex(target) + " is not kernel code");
        }
    } else if (after != kRet) {
        return shape_error("no ret or jmp after the instruction");
    }

    CheckedSite c;
    c.site.symbol = who;
    c.site.vaddr = sym.addr + off;
    c.site.gpa = gpa + off;
    std::copy(found.begin(), found.end(), c.site.original.begin());
    c.already_pio = is_pio;
    return c;
}

}  // namespace

const char* to_string(HypercallRewriteStatus s) {
    switch (s) {
        case HypercallRewriteStatus::Rewritten:
            return "rewritten";
        case HypercallRewriteStatus::AlreadyPio:
            return "already-pio";
        case HypercallRewriteStatus::NoHypercallFunctions:
            return "no-hypercall-functions";
    }
    return "?";
}

std::string HypercallRewriteReport::describe() const {
    std::string s = std::string("linux hypercall rewrite: ") + to_string(status);
    if (status == HypercallRewriteStatus::NoHypercallFunctions)
        return s + " (kernel has no xen_hypercall_amd/intel; it uses the hypercall page)";
    for (const auto& site : sites)
        s += "; " + site.symbol + "@" + hex(site.vaddr) + " [" + bytes_hex(site.original) +
             (site.rewritten ? " -> e7 e4 90]" : "]");
    return s;
}

Result<HypercallRewriteReport> rewrite_linux_hypercalls(const GuestMemory& mem,
                                                        const ElfImage& kernel,
                                                        std::string_view system_map) {
    const MapScan map = scan_system_map(system_map);
    if (map.debian_placeholder && map.amd.empty() && map.intel.empty())
        return fail(XEN_EINVAL,
                    "hypercall rewrite: System.map is Debian's placeholder; use the real one "
                    "from linux-image-<version>-dbg (/usr/lib/debug/boot/System.map-<version>)");
    if (map.symbols == 0) return fail(XEN_EINVAL, "hypercall rewrite: System.map has no symbols");

    HypercallRewriteReport report;
    if (map.amd.empty() && map.intel.empty()) {
        report.status = HypercallRewriteStatus::NoHypercallFunctions;
        return report;
    }
    if (map.amd.empty() || map.intel.empty())
        return fail(XEN_EINVAL,
                    std::string("hypercall rewrite: System.map has ") +
                        (map.amd.empty() ? "xen_hypercall_intel but not xen_hypercall_amd"
                                         : "xen_hypercall_amd but not xen_hypercall_intel"));
    if (map.return_thunk.size() > 1)
        return fail(XEN_EINVAL, "hypercall rewrite: __x86_return_thunk appears " +
                                    std::to_string(map.return_thunk.size()) +
                                    " times in System.map");
    std::optional<uint64_t> thunk;
    if (!map.return_thunk.empty()) thunk = map.return_thunk.front().addr;

    auto amd = check_site(mem, kernel, "xen_hypercall_amd", map.amd, kVmmcall, thunk);
    if (!amd) return std::unexpected(amd.error());
    auto intel = check_site(mem, kernel, "xen_hypercall_intel", map.intel, kVmcall, thunk);
    if (!intel) return std::unexpected(intel.error());
    const uint64_t a = amd->site.vaddr, b = intel->site.vaddr;
    if ((a < b ? b - a : a - b) < 4)
        return fail(XEN_EINVAL,
                    "hypercall rewrite: xen_hypercall_amd and xen_hypercall_intel "
                    "overlap (" +
                        hex(a) + ", " + hex(b) + ")");

    bool changed = false;
    for (CheckedSite* c : {&*amd, &*intel}) {
        if (!c->already_pio) {
            if (auto r = mem.write(c->site.gpa, std::span<const uint8_t>(kPioCall)); !r)
                return fail(r.error().xen_errno, "hypercall rewrite: writing " + c->site.symbol +
                                                     ": " + r.error().message);
            c->site.rewritten = true;
            changed = true;
        }
        report.sites.push_back(c->site);
    }
    report.status =
        changed ? HypercallRewriteStatus::Rewritten : HypercallRewriteStatus::AlreadyPio;
    return report;
}

}  // namespace pvhv
