"""The ratio chart of a benchmark report as a standalone SVG: one bar per path on a log scale, with its target
and its stored ratio marked, coloured by verdict."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from leadboost_schema.bench.report import RatioRow

_COLOURS = {"regressed": "#d62728", "improved": "#1f77b4", "new": "#7f7f7f", "ok": "#2ca02c",
            "no baseline in run": "#bbbbbb"}
_BELOW_TARGET = "#ff7f0e"
_LEGEND = ("green: within tolerance of the stored ratio · red: regressed · blue: improved · grey: nothing "
           "stored · orange: below target · black tick: stored ratio · dashed: target")
_ROW, _LABEL, _PLOT, _TOP = 22, 250, 560, 80


def ratio_chart(rows: list[RatioRow], subtitle: str) -> str:
    """SVG text: a bar per measured path, its ratio on a log axis (1× = as fast as its baseline)."""
    measured = [r for r in rows if r.ratio is not None]
    values = [v for r in measured for v in (r.ratio, r.stored, r.figure.target) if v]
    low = 10 ** math.floor(math.log10(min(values + [0.1])))
    high = 10 ** math.ceil(math.log10(max(values + [1.0])))

    def x(value: float) -> float:
        return _LABEL + _PLOT * (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))

    height, width = _TOP + _ROW * len(measured) + 40, _LABEL + _PLOT + 90
    bottom = height - 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           '<text x="10" y="22" font-size="16" font-weight="bold">Benchmark ratios to the in-run baselines '
           '(higher is better, log scale)</text>',
           f'<text x="10" y="40" fill="#555">{escape(subtitle)}</text>',
           f'<text x="10" y="56" fill="#555">{escape(_LEGEND)}</text>']
    decade = low
    while decade <= high * 1.0001:
        gx = x(decade)
        out.append(f'<line x1="{gx:.1f}" y1="{_TOP - 8}" x2="{gx:.1f}" y2="{bottom}" stroke="#ddd"/>')
        out.append(f'<text x="{gx:.1f}" y="{height - 14}" text-anchor="middle" fill="#555">'
                   f'{decade:g}×</text>')
        decade *= 10
    out.append(f'<line x1="{x(1.0):.1f}" y1="{_TOP - 8}" x2="{x(1.0):.1f}" y2="{bottom}" stroke="#888"/>')
    for n, r in enumerate(measured):
        out.extend(_bar(r, _TOP + n * _ROW, x))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _bar(r: RatioRow, top: float, x) -> list[str]:
    colour = _BELOW_TARGET if r.below_target and r.status in ("ok", "new") else _COLOURS[r.status]
    path, end = escape(r.figure.path), x(r.ratio)
    tip = f"{path}: {r.ratio:.3f} × {escape(r.figure.baseline or '')} ({r.status})"
    parts = [f'<text x="{_LABEL - 8}" y="{top + 14}" text-anchor="end">{path}</text>',
             f'<rect x="{_LABEL}" y="{top + 3}" width="{max(1.0, end - _LABEL):.1f}" height="{_ROW - 6}" '
             f'fill="{colour}"><title>{tip}</title></rect>',
             f'<text x="{end + 4:.1f}" y="{top + 15}" fill="#333">{r.ratio:.3g}</text>']
    if r.figure.target:
        tx = x(r.figure.target)
        parts.append(f'<line x1="{tx:.1f}" y1="{top}" x2="{tx:.1f}" y2="{top + _ROW}" stroke="#000" '
                     f'stroke-dasharray="3,2"><title>target {r.figure.target}</title></line>')
    if r.stored:
        sx = x(r.stored)
        parts.append(f'<line x1="{sx:.1f}" y1="{top + 2}" x2="{sx:.1f}" y2="{top + _ROW - 2}" stroke="#000" '
                     f'stroke-width="3"><title>stored {r.stored:.3f}</title></line>')
    return parts


_LINE_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def growth_chart(figures: dict, subtitle: str) -> str:
    """SVG text: the growth suite on log-log axes, one line per read — its time per call against the rows in
    the tables it reads. A flat line costs what one tenant holds; a slope of 1 grows with the whole table."""
    lines: dict[str, list[tuple[int, float]]] = {}
    for f in figures.values():
        if "rows" in f.notes and "read" in f.notes:
            lines.setdefault(f.notes["read"], []).append((int(f.notes["rows"]), f.per_op))
    width, height, left, top, plot_w, plot_h = 760, 420, 80, 70, 480, 300
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           'font-family="sans-serif" font-size="12">', f'<rect width="{width}" height="{height}" fill="white"/>',
           '<text x="10" y="22" font-size="16" font-weight="bold">Growth: one tenant\'s read against the '
           'table size (log-log)</text>', f'<text x="10" y="40" fill="#555">{escape(subtitle)}</text>']
    points = [p for series in lines.values() for p in series]
    if not points:
        out.append('<text x="10" y="70">no growth figures in this run</text></svg>')
        return "\n".join(out) + "\n"
    x_lo, x_hi = _decades(p[0] for p in points)
    y_lo, y_hi = _decades(p[1] for p in points)

    def x(rows: float) -> float:
        return left + plot_w * (math.log10(rows) - x_lo) / max(1e-9, x_hi - x_lo)

    def y(seconds: float) -> float:
        return top + plot_h - plot_h * (math.log10(seconds) - y_lo) / max(1e-9, y_hi - y_lo)

    for decade in range(x_lo, x_hi + 1):
        out.append(f'<line x1="{x(10 ** decade):.1f}" y1="{top}" x2="{x(10 ** decade):.1f}" '
                   f'y2="{top + plot_h}" stroke="#ddd"/>')
        out.append(f'<text x="{x(10 ** decade):.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                   f'fill="#555">10^{decade}</text>')
    for decade in range(y_lo, y_hi + 1):
        out.append(f'<line x1="{left}" y1="{y(10.0 ** decade):.1f}" x2="{left + plot_w}" '
                   f'y2="{y(10.0 ** decade):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y(10.0 ** decade) + 4:.1f}" text-anchor="end" fill="#555">'
                   f'{_seconds(10.0 ** decade)}</text>')
    out.append(f'<text x="{left + plot_w / 2}" y="{height - 12}" text-anchor="middle">rows in each grown '
               'table</text>')
    for n, (read, series) in enumerate(sorted(lines.items())):
        colour = _LINE_COLOURS[n % len(_LINE_COLOURS)]
        series.sort()
        path = " ".join(f"{x(r):.1f},{y(s):.1f}" for r, s in series)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for rows, seconds in series:
            out.append(f'<circle cx="{x(rows):.1f}" cy="{y(seconds):.1f}" r="3" fill="{colour}">'
                       f'<title>{escape(read)}: {_seconds(seconds)} at {rows:,} rows</title></circle>')
        out.append(f'<text x="{left + plot_w + 14}" y="{top + 14 + 18 * n}" fill="{colour}">'
                   f'{escape(read)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _decades(values) -> tuple[int, int]:
    logs = [math.log10(v) for v in values if v > 0]
    return math.floor(min(logs)), max(math.ceil(max(logs)), math.floor(min(logs)) + 1)


def _seconds(value: float) -> str:
    return f"{value * 1e3:g} ms" if value >= 1e-3 else f"{value * 1e6:g} µs"
