#!/usr/bin/env python3
"""The Linux I/O benchmark's table (pvd vs QEMU), results.tsv and plot.svg from the serial log of
the test-host scenario bench-linux (bench/linux-io.sh, bench/LINUX-IO.md).

    linux_io_report.py SERIAL_LOG OUT_DIR

Lines read (written by tests/testhost/scenarios/bench-linux.sh inside L1; t is L1's uptime):
  BENCH-CREATE: hv=H run=R who=a t=T        before `pvctl create` / starting QEMU
  BENCH-MARKER: hv=H run=R who=a t=T        the guest's PVHV-L2-MARKER line reached L1
  BENCH-RESULT: hv=H run=R who=W phase=P bytes=N [sec=S]   the guest's own timing
  BENCH-SNAP: hv=H run=R tag=TAG t=T took=S kvm.K=V ...    KVM's debugfs counters (all VMs)
  BENCH-TOP: hv=pvd run=R tag=TAG [JSON]    `pvctl top -l` at the same point
  BENCH-COMPLETE / BENCH-INCOMPLETE: hv=H run=R    incomplete runs are left out
Tags are PHASE-start / PHASE-end; the counters of a phase are end - start, less the idle margin
(see metrics()). Values over runs are medians (min-max in the table).
"""
import json
import math
import os
import re
import statistics
import sys

from report_format import fmt, markdown_table, svg_escape

PHASES = ["disk-write", "disk-read", "net-send"]
HVS = ["pvd", "qemu"]
PVD_KEYS = ["exits", "hcalls", "evtchn", "vcpu_op", "kicks_in", "kicks_out"]
KVM_KEYS = ["exits", "io_exits", "mmio_exits", "halt_exits", "irq_exits", "irq_injections",
            "insn_emulation"]

# (key, label, unit): the rows of the table, in order. "pvd only" rows have no QEMU column.
ROWS = [
    ("boot", "create -> init marker", "s"),
    ("disk-write.rate", "dd write 64 KiB O_DIRECT", "MB/s"),
    ("disk-read.rate", "dd read 64 KiB O_DIRECT", "MB/s"),
    ("net-send.rate", "nc a -> b over the L1 bridge", "MB/s"),
    ("disk-write.kvm.exits", "disk write: KVM exits", "/MB"),
    ("disk-read.kvm.exits", "disk read: KVM exits", "/MB"),
    ("net-send.kvm.exits", "net: KVM exits (both guests)", "/MB"),
    ("disk-write.kvm.irq_injections", "disk write: KVM interrupt injections", "/MB"),
    ("disk-read.kvm.irq_injections", "disk read: KVM interrupt injections", "/MB"),
    ("net-send.kvm.irq_injections", "net: KVM interrupt injections", "/MB"),
    ("disk-write.pvd.exits", "disk write: pvd exits (user space)", "/MB"),
    ("disk-write.pvd.hcalls", "disk write: pvd hypercalls", "/MB"),
    ("disk-write.pvd.evtchn", "disk write: of which event_channel_op", "/MB"),
    ("disk-write.pvd.vcpu_op", "disk write: of which vcpu_op (timer)", "/MB"),
    ("disk-write.pvd.kicks_in", "disk write: kicks guest -> pvd", "/MB"),
    ("disk-write.pvd.kicks_out", "disk write: kicks pvd -> guest", "/MB"),
    ("disk-read.pvd.exits", "disk read: pvd exits (user space)", "/MB"),
    ("disk-read.pvd.hcalls", "disk read: pvd hypercalls", "/MB"),
    ("disk-read.pvd.evtchn", "disk read: of which event_channel_op", "/MB"),
    ("disk-read.pvd.vcpu_op", "disk read: of which vcpu_op (timer)", "/MB"),
    ("disk-read.pvd.kicks_in", "disk read: kicks guest -> pvd", "/MB"),
    ("disk-read.pvd.kicks_out", "disk read: kicks pvd -> guest", "/MB"),
    ("net-send.pvd.exits", "net: pvd exits (user space, both)", "/MB"),
    ("net-send.pvd.hcalls", "net: pvd hypercalls (both)", "/MB"),
    ("net-send.pvd.evtchn", "net: of which event_channel_op", "/MB"),
    ("net-send.pvd.vcpu_op", "net: of which vcpu_op (timer)", "/MB"),
    ("net-send.pvd.kicks_in", "net: kicks guests -> pvd", "/MB"),
    ("net-send.pvd.kicks_out", "net: kicks pvd -> guests", "/MB"),
    ("idle.kvm.exits", "idle guest: KVM exits", "/s"),
    ("idle.pvd.exits", "idle guest: pvd exits", "/s"),
    ("idle.pvd.hcalls", "idle guest: pvd hypercalls", "/s"),
    ("idle.pvd.vcpu_op", "idle guest: of which vcpu_op (timer)", "/s"),
]


def kv(text):
    return dict(t.split("=", 1) for t in text.split() if "=" in t)


def parse(path):
    """runs[(hv, run)] = {"create": t, "marker": t, "results": {phase: {...}},
    "snaps": {tag: {...}}, "tops": {tag: [...]}}"""
    runs = {}

    def run_of(d):
        return runs.setdefault((d["hv"], int(d["run"])),
                               {"results": {}, "snaps": {}, "tops": {}})
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            m = re.match(r"^BENCH-(CREATE|MARKER|RESULT|SNAP|TOP|COMPLETE|INCOMPLETE): (.*)$", line)
            if not m:
                continue
            what, rest = m.groups()
            if what == "TOP":
                head, _, js = rest.partition(" [")
                d = kv(head)
                try:
                    run_of(d)["tops"][d["tag"]] = json.loads("[" + js)
                except json.JSONDecodeError:
                    pass  # a snapshot cut short (pvctl timed out): the phase has no pvd counters
                continue
            d = kv(rest)
            r = run_of(d)
            if what in ("COMPLETE", "INCOMPLETE"):
                r["status"] = what.lower()
            elif what in ("CREATE", "MARKER") and d.get("who") == "a":
                r[what.lower()] = float(d["t"])
            elif what == "RESULT":
                r["results"][d["phase"]] = d
            elif what == "SNAP":
                r["snaps"][d["tag"]] = d
    return runs


def pvd_totals(top):
    """exits, hypercalls, kicks_in, kicks_out per domain name."""
    out = {}
    for d in top:
        t = {"exits": sum(d["exits"].values()), "hcalls": sum(d["hypercalls"].values()),
             "kicks_in": 0, "kicks_out": 0,
             "evtchn": d["hypercalls"].get("event_channel_op", 0),
             "vcpu_op": d["hypercalls"].get("vcpu_op", 0)}
        for dev in d["devices"]:
            t["kicks_in"] += dev["counters"].get("kicks_in", 0)
            t["kicks_out"] += dev["counters"].get("kicks_out", 0)
        out[d["name"]] = t
    return out


def vbd_ops(top):
    """xvda's (reads, writes) in a snapshot (domain bench-a), or None."""
    for d in top:
        for dev in d["devices"]:
            if d["name"] == "bench-a" and dev["kind"] == "vbd":
                return dev["counters"].get("reads", 0), dev["counters"].get("writes", 0)
    return None


def idle_rates(r):
    """Counters per second of L1 time in the idle window (guest a alone, sleeping), by name."""
    s0, s1 = r["snaps"].get("idle-start"), r["snaps"].get("idle-end")
    if not (s0 and s1) or float(s1["t"]) <= float(s0["t"]):
        return {}
    dt = float(s1["t"]) - float(s0["t"])
    rates = {"kvm." + k: (int(s1["kvm." + k]) - int(s0["kvm." + k])) / dt for k in KVM_KEYS
             if "kvm." + k in s0 and "kvm." + k in s1}
    t0, t1 = r["tops"].get("idle-start"), r["tops"].get("idle-end")
    if t0 is not None and t1 is not None:
        p0, p1 = pvd_totals(t0), pvd_totals(t1)
        for k in PVD_KEYS:
            rates["pvd." + k] = sum(p1[n][k] - p0[n][k] for n in p0 if n in p1) / dt
    return rates


def metrics(r, warnings, label):
    """The metric values of one (hv, run). Counters of an I/O phase are taken between snapshots
    that also hold the guests' idle margin (2 s sleep before the phase, the snapshot's delay):
    that margin, (L1 time between the snapshots - the phase's own time) x the idle rate of the
    same run x the guests alive, is subtracted."""
    m = {}
    if "create" in r and "marker" in r:
        m["boot"] = r["marker"] - r["create"]
    idle = idle_rates(r)
    for phase in PHASES + ["idle"]:
        res = r["results"].get(phase)
        s0, s1 = r["snaps"].get(phase + "-start"), r["snaps"].get(phase + "-end")
        if not res:
            continue
        nbytes = int(res["bytes"])
        sec = float(res["sec"])
        if phase == "net-send":
            got = r["results"].get("net-recv", {}).get("bytes")
            if got is None or int(got) != nbytes:
                warnings.append(f"{label}: b received {got} of {nbytes} bytes; net phase ignored")
                continue
        if phase != "idle" and sec > 0:
            m[phase + ".rate"] = nbytes / 1e6 / sec
        if not (s0 and s1):
            continue
        # Per MB for the I/O phases; per second of L1 time between the snapshots when idle.
        per = nbytes / 1e6 if phase != "idle" else float(s1["t"]) - float(s0["t"])
        if per <= 0:
            continue
        guests = 2 if phase == "net-send" else 1
        margin = max(0.0, float(s1["t"]) - float(s0["t"]) - sec) * guests if phase != "idle" else 0.0

        def less_idle(name, v):
            return max(0.0, v - idle.get(name, 0.0) * margin)
        delta = {k: less_idle("kvm." + k, int(s1["kvm." + k]) - int(s0["kvm." + k]))
                 for k in KVM_KEYS if "kvm." + k in s0 and "kvm." + k in s1}
        for k, v in delta.items():
            m[f"{phase}.kvm.{k}"] = v / per
        t0, t1 = r["tops"].get(phase + "-start"), r["tops"].get(phase + "-end")
        if t0 is None or t1 is None:
            continue
        p0, p1 = pvd_totals(t0), pvd_totals(t1)
        names = [n for n in p0 if n in p1]
        if phase == "net-send" and len(names) < 2:
            warnings.append(f"{label}: net phase without both guests in pvctl top: {sorted(p1)}")
            continue
        for k in PVD_KEYS:
            m[f"{phase}.pvd.{k}"] = less_idle("pvd." + k, sum(p1[n][k] - p0[n][k] for n in names)) / per
        # A start snapshot taken after the phase began (the guest waits 2 s) would show it.
        if phase.startswith("disk"):
            before = r["tops"].get("disk-write-start" if phase == "disk-write" else "disk-write-end")
            a, b = vbd_ops(t0), vbd_ops(before) if before else None
            if a and b and a != b:
                warnings.append(f"{label}: {phase}-start snapshot late: xvda (reads, writes) "
                                f"{b} -> {a} before the phase")
    return m


def summarise(runs):
    warnings = []
    per_hv = {hv: {} for hv in HVS}  # hv -> key -> [values over runs]
    nruns = {hv: 0 for hv in HVS}
    for (hv, run), r in sorted(runs.items()):
        if hv not in per_hv:
            continue
        if r.get("status") == "incomplete":  # repeated by the scenario; partial data left out
            warnings.append(f"{hv} run {run}: incomplete (a stalled or crashed guest), left out")
            continue
        nruns[hv] += 1
        for k, v in metrics(r, warnings, f"{hv} run {run}").items():
            per_hv[hv].setdefault(k, []).append(v)
    return per_hv, nruns, warnings


def cell(vals):
    if not vals:
        return "—"
    med = statistics.median(vals)
    if len(vals) == 1:
        return fmt(med)
    return f"{fmt(med)} ({fmt(min(vals))}–{fmt(max(vals))})"


def rows(per_hv):
    out = []
    for key, label, unit in ROWS:
        pv, qe = per_hv["pvd"].get(key), per_hv["qemu"].get(key)
        if not pv and not qe:
            continue
        mp = statistics.median(pv) if pv else None
        mq = statistics.median(qe) if qe else None
        ratio = mp / mq if mp is not None and mq else None
        out.append({"key": key, "label": label, "unit": unit, "pvd": pv or [], "qemu": qe or [],
                    "pvd_median": mp, "qemu_median": mq, "ratio": ratio})
    return out


def table(rs, nruns):
    head = ["metric", "unit", f"pvd ({nruns['pvd']} runs)", f"QEMU ({nruns['qemu']} runs)",
            "pvd/QEMU"]
    cells = [head] + [[r["label"], r["unit"], cell(r["pvd"]), cell(r["qemu"]),
                       "—" if r["ratio"] is None else f"{r['ratio']:.2f}"] for r in rs]
    return markdown_table(cells)


def write_tsv(rs, path):
    with open(path, "w") as f:
        f.write("metric\tunit\tpvd_median\tqemu_median\tratio\tpvd_runs\tqemu_runs\n")
        for r in rs:
            f.write("\t".join([r["key"], r["unit"],
                               "" if r["pvd_median"] is None else repr(r["pvd_median"]),
                               "" if r["qemu_median"] is None else repr(r["qemu_median"]),
                               "" if r["ratio"] is None else repr(r["ratio"]),
                               ",".join(repr(v) for v in r["pvd"]),
                               ",".join(repr(v) for v in r["qemu"])]) + "\n")


def write_svg(rs, path):
    """By hand (no plotting library): pvd/QEMU per metric on a log scale, 1 in the middle; each
    run's ratio to the other's median as a tick, the medians' ratio as the bar."""
    rs = [r for r in rs if r["ratio"]]
    bar_h, gap, left, w = 12, 6, 300, 420
    height = 50 + len(rs) * (bar_h + gap) + 40
    width = left + w + 60
    span = max([abs(math.log10(r["ratio"])) for r in rs] + [1.0])
    span = math.ceil(span)

    def x_of(v):
        return left + w / 2 + (w / 2) * math.log10(v) / span
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'font-family="sans-serif" font-size="11">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="10" y="20" font-size="13">pvd / QEMU in the same L1 (log scale; '
         f'bars: ratio of the medians, ticks: each pvd run / QEMU\'s median)</text>']
    for dec in range(-span, span + 1):
        x = x_of(10 ** dec)
        o.append(f'<line x1="{x:.1f}" y1="30" x2="{x:.1f}" y2="{height - 30}" '
                 f'stroke="{"#888" if dec == 0 else "#ddd"}"/>')
        o.append(f'<text x="{x:.1f}" y="{height - 15}" text-anchor="middle">{10 ** dec:g}</text>')
    y = 40
    for r in rs:
        o.append(f'<text x="{left - 6}" y="{y + bar_h - 2}" text-anchor="end">'
                 f'{svg_escape(r["label"])} ({svg_escape(r["unit"])})</text>')
        x0, x1 = sorted((x_of(1), x_of(r["ratio"])))
        colour = "#3366cc" if r["unit"] == "MB/s" else "#cc6633"
        o.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(1.0, x1 - x0):.1f}" height="{bar_h}" '
                 f'fill="{colour}"/>')
        for v in r["pvd"]:
            if v > 0 and r["qemu_median"]:
                x = x_of(v / r["qemu_median"])
                o.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + bar_h}" stroke="black"/>')
        y += bar_h + gap
    o.append(f'<text x="10" y="{height - 2}">blue: throughput (right of 1: pvd faster); '
             f'orange: time and counters (left of 1: pvd needs less)</text>')
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: linux_io_report.py SERIAL_LOG OUT_DIR")
    log, out = sys.argv[1], sys.argv[2]
    per_hv, nruns, warnings = summarise(parse(log))
    rs = rows(per_hv)
    print(table(rs, nruns))
    os.makedirs(out, exist_ok=True)
    write_tsv(rs, os.path.join(out, "results.tsv"))
    write_svg(rs, os.path.join(out, "plot.svg"))
    for w in warnings:
        print("warning: " + w, file=sys.stderr)
    print(f"\nwrote {os.path.join(out, 'results.tsv')} and {os.path.join(out, 'plot.svg')}")
    need = ["boot", "disk-write.rate", "disk-read.rate", "net-send.rate"]
    missing = [f"{hv}:{k}" for hv in HVS for k in need if not per_hv[hv].get(k)]
    if missing:
        print("missing results: " + ", ".join(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
