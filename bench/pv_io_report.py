#!/usr/bin/env python3
"""The PV I/O benchmark's table, results.tsv and plot.svg from the files bench/pv-io.sh wrote.

    pv_io_report.py OUT_DIR

OUT_DIR/pv/<phase>.console    the driving guest's console (its `BENCH name=... ops=... ns=...`)
OUT_DIR/pv/<phase>.top.json   `pvctl top -l` after the phase's guests powered off (preserved)
OUT_DIR/pv/{blk,net}-baseline.top.json   the same guests with ops=0: boot, connect, close
OUT_DIR/anchor/<phase>.out    the host doing the same operations (bench/anchor), three runs
OUT_DIR/ir/pvd-net-*.callgrind + .ops    pvd under callgrind: baseline and network phases
OUT_DIR/ir/backend-*.callgrind, backend-ops   the back-ends in-process (bench/blk, bench/net)

Per-operation counters are (phase - baseline) / operations, summed over the phase's domains
(both guests for the network), so boot, the xenbus handshake and the close cancel out.
"""
import json
import math
import os
import re
import sys

from report_format import fmt, markdown_table, svg_escape

# name, unit, how the rate is computed, the domains, the baseline, back-end Ir components
PHASES = [
    ("blk-seqwrite-64k-qd1", "MB/s", "bytes", "blk", [("blk-seqwrite-64k-qd1", 1)]),
    ("blk-seqwrite-64k-qd8", "MB/s", "bytes", "blk", [("blk-seqwrite-64k-qd8", 1)]),
    ("blk-seqread-64k-qd1", "MB/s", "bytes", "blk", [("blk-seqread-64k-qd1", 1)]),
    ("blk-seqread-64k-qd8", "MB/s", "bytes", "blk", [("blk-seqread-64k-qd8", 1)]),
    ("blk-randread-4k-qd1", "IOPS", "ops", "blk", [("blk-randread-4k-qd1", 1)]),
    # A round trip: two frames sent (TX) and two received (RX) by netback.
    ("net-pingpong-60", "rt/s", "ops", "net", [("net-tx-60", 2), ("net-rx-60", 2)]),
    # A frame: one TX on the sender's vif, one RX on the receiver's. Rate over the receiver's
    # first-to-last interval.
    ("net-stream-1514", "pkt/s", "intervals", "net", [("net-tx-1514", 1), ("net-rx-1514", 1)]),
]

COLUMNS = ["benchmark", "pvhv", "host anchor", "ratio", "exits/op", "hcalls/op", "kicks g>d",
           "kicks d>g", "pvd Ir/op", "back-end Ir/op"]


def bench_lines(path):
    """The `BENCH key=value ...` lines of a file, as dicts (none when it is absent)."""
    if not os.path.exists(path):
        return []
    with open(path, errors="replace") as f:
        return [dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
                for line in f if line.startswith("BENCH ")]


def bench_line(path):
    """The last BENCH line of a file (a guest prints one), or None."""
    lines = bench_lines(path)
    return lines[-1] if lines else None


def median_rate(path, how):
    """The median rate over a file's BENCH lines (the anchors run three times), or None."""
    rates = sorted(r for r in (rate(line, how) for line in bench_lines(path)) if r)
    return rates[len(rates) // 2] if rates else None


def rate(line, how):
    if not line:
        return None
    ops, ns = int(line["ops"]), int(line["ns"])
    if ns <= 0:
        return None
    if how == "bytes":
        return int(line["bytes"]) * 1e3 / ns  # MB/s (10^6 bytes)
    if how == "intervals":
        return (ops - 1) * 1e9 / ns if ops > 1 else None
    return ops * 1e9 / ns


def ops_sent(line):
    return int(line.get("sent", line["ops"]))


def counters(path, names):
    """exits, hypercalls, kicks in (guest to dom0), kicks out: summed over the domains."""
    with open(path) as f:
        domains = {d["name"]: d for d in json.load(f)}
    total = [0, 0, 0, 0]
    for n in names:
        d = domains.get(n)
        if d is None:
            raise SystemExit(f"{path}: no domain {n}")
        total[0] += sum(d["exits"].values())
        total[1] += sum(d["hypercalls"].values())
        for dev in d["devices"]:
            total[2] += dev["counters"].get("kicks_in", 0)
            total[3] += dev["counters"].get("kicks_out", 0)
    return total


def callgrind_total(path):
    """The Ir total (`totals:`/`summary:` line) of a callgrind output file, or None."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        for line in f:
            m = re.match(r"(totals|summary):\s+(\d+)", line)
            if m:
                return int(m.group(2))
    return None


def read_int(path):
    with open(path) as f:
        return int(f.read().split()[0])


def analyse(out):
    rows = []
    pvd_base = callgrind_total(os.path.join(out, "ir", "pvd-net-baseline.callgrind"))
    backend_ops = read_int(os.path.join(out, "ir", "backend-ops"))
    for name, unit, how, kind, backend in PHASES:
        pv = bench_line(os.path.join(out, "pv", name + ".console"))
        r_pv = rate(pv, how)
        r_host = median_rate(os.path.join(out, "anchor", name + ".out"), how)
        row = {"benchmark": name, "unit": unit, "pvhv": r_pv, "host anchor": r_host,
               "ratio": r_pv / r_host if r_pv and r_host else None}
        names = [name] + ([name + "-b"] if kind == "net" else [])
        base_names = [kind + "-baseline"] + (["net-baseline-b"] if kind == "net" else [])
        top = os.path.join(out, "pv", name + ".top.json")
        if pv and os.path.exists(top) and ops_sent(pv) > 0:
            c = counters(top, names)
            b = counters(os.path.join(out, "pv", kind + "-baseline.top.json"), base_names)
            n = ops_sent(pv)
            for col, i in (("exits/op", 0), ("hcalls/op", 1), ("kicks g>d", 2), ("kicks d>g", 3)):
                row[col] = (c[i] - b[i]) / n
        tag = name.split("-")[1]  # pingpong / stream
        cg = callgrind_total(os.path.join(out, "ir", f"pvd-net-{tag}.callgrind"))
        if kind == "net" and cg is not None and pvd_base is not None:
            n = read_int(os.path.join(out, "ir", f"pvd-net-{tag}.ops"))
            row["pvd Ir/op"] = (cg - pvd_base) / n if n else None
        parts = [(callgrind_total(os.path.join(out, "ir", f"backend-{b}.callgrind")), k)
                 for b, k in backend]
        if all(t is not None for t, _ in parts):
            row["back-end Ir/op"] = sum(t * k for t, k in parts) / backend_ops
        rows.append(row)
    return rows


def cell(row, col):
    v = row.get(col)
    if col == "benchmark":
        return v
    if col in ("pvhv", "host anchor"):
        return "n/a" if v is None else f"{fmt(v)} {row['unit']}"
    if col == "ratio":
        return "n/a" if v is None else f"{v:.2g}"
    if col == "pvd Ir/op" and v is None and row["benchmark"].startswith("blk"):
        return "n/a (io_uring)"
    return fmt(v)


def table(rows):
    cells = [COLUMNS] + [[cell(r, c) for c in COLUMNS] for r in rows]
    return markdown_table(cells)


def write_tsv(rows, path):
    with open(path, "w") as f:
        f.write("\t".join(COLUMNS[:1] + ["unit"] + COLUMNS[1:]) + "\n")
        for r in rows:
            vals = [r["benchmark"], r["unit"]] + [
                "" if r.get(c) is None else repr(r[c]) for c in COLUMNS[1:]]
            f.write("\t".join(vals) + "\n")


def write_svg(rows, path):
    """Two panels by hand (no plotting library): throughput of pvhv and the host anchor on a
    log scale, and pvd's exits, hypercalls and kicks per operation."""
    bar_h, gap, left, panel_w = 9, 8, 170, 330
    height = 60 + len(rows) * (2 * bar_h + gap) + 40
    width = left + panel_w + 60 + left + panel_w + 20
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
         f'font-family="sans-serif" font-size="11">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="{left}" y="20" font-size="13">throughput (log scale): pvhv vs host</text>']
    vals = [v for r in rows for v in (r["pvhv"], r["host anchor"]) if v]
    lo = math.floor(math.log10(min(vals))) if vals else 0
    hi = math.ceil(math.log10(max(vals))) if vals else 1
    hi = max(hi, lo + 1)

    def x_log(v):
        return left + panel_w * (math.log10(v) - lo) / (hi - lo)
    for dec in range(lo, hi + 1):
        x = x_log(10 ** dec)
        o.append(f'<line x1="{x:.1f}" y1="30" x2="{x:.1f}" y2="{height - 30}" stroke="#ddd"/>')
        o.append(f'<text x="{x:.1f}" y="{height - 15}" text-anchor="middle">1e{dec}</text>')
    y = 40
    for r in rows:
        o.append(f'<text x="{left - 6}" y="{y + bar_h + 3}" text-anchor="end">'
                 f'{svg_escape(r["benchmark"])} ({r["unit"]})</text>')
        for v, colour in ((r["pvhv"], "#3366cc"), (r["host anchor"], "#aaaaaa")):
            if v:
                o.append(f'<rect x="{left}" y="{y}" width="{max(1.0, x_log(v) - left):.1f}" '
                         f'height="{bar_h}" fill="{colour}"/>')
            y += bar_h
        y += gap
    o.append(f'<rect x="{left}" y="{height - 12}" width="10" height="8" fill="#3366cc"/>'
             f'<text x="{left + 14}" y="{height - 4}">pvhv</text>'
             f'<rect x="{left + 60}" y="{height - 12}" width="10" height="8" fill="#aaaaaa"/>'
             f'<text x="{left + 74}" y="{height - 4}">host anchor</text>')

    # Right panel: per-operation counters, linear.
    x0 = left + panel_w + 60 + left
    series = [("exits/op", "#cc3333"), ("hcalls/op", "#ff9900"), ("kicks g>d", "#339933"),
              ("kicks d>g", "#9933cc")]
    top = max([r.get(c) or 0 for r in rows for c, _ in series] + [1])
    o.append(f'<text x="{x0}" y="20" font-size="13">per operation (pvd counters)</text>')
    sub = (2 * bar_h) / len(series)
    y = 40
    for r in rows:
        o.append(f'<text x="{x0 - 6}" y="{y + bar_h + 3}" text-anchor="end">{svg_escape(r["benchmark"])}</text>')
        for i, (c, colour) in enumerate(series):
            v = r.get(c) or 0
            o.append(f'<rect x="{x0}" y="{y + i * sub:.1f}" width="{panel_w * v / top:.1f}" '
                     f'height="{sub:.1f}" fill="{colour}"/>')
        y += 2 * bar_h + gap
    for frac in (0, 0.5, 1):
        x = x0 + panel_w * frac
        o.append(f'<text x="{x:.1f}" y="{height - 15}" text-anchor="middle">{fmt(top * frac)}</text>')
    for i, (c, colour) in enumerate(series):
        o.append(f'<rect x="{x0 + i * 80}" y="{height - 12}" width="10" height="8" fill="{colour}"/>'
                 f'<text x="{x0 + i * 80 + 14}" y="{height - 4}">{svg_escape(c)}</text>')
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: pv_io_report.py OUT_DIR")
    out = sys.argv[1]
    rows = analyse(out)
    print(table(rows))
    write_tsv(rows, os.path.join(out, "results.tsv"))
    write_svg(rows, os.path.join(out, "plot.svg"))
    print(f"\nwrote {os.path.join(out, 'results.tsv')} and {os.path.join(out, 'plot.svg')}")
    missing = [r["benchmark"] for r in rows if r["pvhv"] is None or r["host anchor"] is None]
    if missing:
        print("missing results: " + ", ".join(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
