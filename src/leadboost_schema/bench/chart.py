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
