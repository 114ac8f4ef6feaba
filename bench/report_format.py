"""Formatting shared by the benchmark reports (pv_io_report.py, linux_io_report.py): numbers with
three significant digits, Markdown tables, text for the hand-written SVG plots."""
import math


def fmt(v, digits=3):
    """`digits` significant digits below 100, whole numbers with thousands separators above."""
    if v is None:
        return "n/a"
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.{max(0, digits - 1 - int(math.floor(math.log10(abs(v)))))}f}"


def markdown_table(rows):
    """rows[0] is the header; every cell a string. Columns padded to their widest cell."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def svg_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
