"""The ratio chart of a benchmark report as a standalone SVG: one bar per path on a log scale, with its target
and its stored ratio marked, coloured by verdict."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from leadboost_schema.bench_report import RatioRow

_COLOURS = {"regressed": "#d62728", "improved": "#1f77b4", "new": "#7f7f7f", "ok": "#2ca02c",
            "no baseline in run": "#bbbbbb"}
_BELOW_TARGET = "#ff7f0e"
_ROW, _LABEL, _PLOT, _TOP = 22, 250, 560, 80


def ratio_chart(rows: list[RatioRow], subtitle: str) -> str:
    """SVG text. Green: within tolerance of the stored ratio; red: regressed; blue: improved; grey: nothing
    stored; orange: below its target. A black tick is the stored ratio, a dashed line the target."""
    measured = [r for r in rows if r.ratio is not None]
    values = [v for r in measured for v in (r.ratio, r.stored, r.figure.target) if v]
    low = 10 ** math.floor(math.log10(min(values + [0.1])))
    high = 10 ** math.ceil(math.log10(max(values + [1.0])))

    def x(value: float) -> float:
        return _LABEL + _PLOT * (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))

    height = _TOP + _ROW * len(measured) + 40
    width = _LABEL + _PLOT + 90
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           '<text x="10" y="22" font-size="16" font-weight="bold">Benchmark ratios to the in-run baselines '
           '(higher is better, log scale)</text>',
           f'<text x="10" y="40" fill="#555">{escape(subtitle)}</text>',
           '<text x="10" y="56" fill="#555">green: within tolerance of the stored ratio · red: regressed · blue: '
           'improved · grey: nothing stored · orange: below target · black tick: stored ratio · dashed: target'
           '</text>']
    decade = low
    while decade <= high * 1.0001:
        gx = x(decade)
        out.append(f'<line x1="{gx:.1f}" y1="{_TOP - 8}" x2="{gx:.1f}" y2="{height - 30}" stroke="#ddd"/>')
        out.append(f'<text x="{gx:.1f}" y="{height - 14}" text-anchor="middle" fill="#555">{decade:g}×</text>')
        decade *= 10
    one = x(1.0)
    out.append(f'<line x1="{one:.1f}" y1="{_TOP - 8}" x2="{one:.1f}" y2="{height - 30}" stroke="#888"/>')
    for n, r in enumerate(measured):
        top = _TOP + n * _ROW
        colour = _BELOW_TARGET if r.below_target and r.status in ("ok", "new") else _COLOURS[r.status]
        out.append(f'<text x="{_LABEL - 8}" y="{top + 14}" text-anchor="end">{escape(r.figure.path)}</text>')
        out.append(f'<rect x="{_LABEL}" y="{top + 3}" width="{max(1.0, x(r.ratio) - _LABEL):.1f}" height="{_ROW - 6}" '
                   f'fill="{colour}"><title>{escape(r.figure.path)}: {r.ratio:.3f} × {escape(r.figure.baseline or "")}'
                   f' ({r.status})</title></rect>')
        out.append(f'<text x="{x(r.ratio) + 4:.1f}" y="{top + 15}" fill="#333">{r.ratio:.3g}</text>')
        if r.figure.target:
            tx = x(r.figure.target)
            out.append(f'<line x1="{tx:.1f}" y1="{top}" x2="{tx:.1f}" y2="{top + _ROW}" stroke="#000" '
                       f'stroke-dasharray="3,2"><title>target {r.figure.target}</title></line>')
        if r.stored:
            sx = x(r.stored)
            out.append(f'<line x1="{sx:.1f}" y1="{top + 2}" x2="{sx:.1f}" y2="{top + _ROW - 2}" stroke="#000" '
                       f'stroke-width="3"><title>stored {r.stored:.3f}</title></line>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
