"""Ratio report of a pytest-benchmark run: each path's time per operation against its in-run baseline's,
compared with stored ratios; a markdown table, an SVG chart and an exit status for CI.

    python -m leadboost_schema.bench_report results.json --baseline benchmarks/baseline.json \\
        --markdown report.md --svg report.svg

A benchmark takes part when its ``extra_info`` names its ``path`` (and, unless it is a baseline, the ``baseline``
path it is divided by; optional ``target``, ``also``, ``ops_per_round``). ratio = baseline's median time per
operation / the path's: 1.0 is as fast as the baseline, 0.5 half as fast. Absolute times on shared machines
wander; ratios measured in one run are what is compared. Exit status: 0, 1 when a ratio fell more than the
tolerance below its stored value (or, with --enforce-targets, below its target), 2 when the input is unusable.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_TOLERANCE = 0.3


class ReportInputError(Exception):
    """The results or the stored baseline cannot be used; the message says why."""


@dataclass
class PathFigure:
    """One labelled benchmark: its median time per operation and what it is compared with."""

    path: str
    group: str
    per_op: float  # seconds
    clients: int
    baseline: str | None
    target: float | None
    also: list[str]
    notes: dict[str, Any]
    paired_ratio: float | None = None  # median over rounds of (baseline round time / this round's time)
    paired_per_op: float | None = None  # the paired baseline's median time per operation


@dataclass
class RatioRow:
    """A measured path against its baseline, and against the stored ratio."""

    figure: PathFigure
    ratio: float | None
    stored: float | None = None
    also: dict[str, float] = field(default_factory=dict)
    status: str = "new"  # ok | regressed | improved | new | no baseline in run

    @property
    def below_target(self) -> bool:
        return self.figure.target is not None and self.ratio is not None and self.ratio < self.figure.target

    @property
    def change(self) -> float | None:
        return None if self.ratio is None or not self.stored else self.ratio / self.stored - 1


_LABEL_KEYS = {"path", "baseline", "target", "also", "ops_per_round", "clients", "paired_baseline_rounds"}


def _paired(stats: dict[str, Any], paired: list[float], ops: int) -> tuple[float | None, float | None]:
    """From a path run paired with its baseline: the median of the per-round ratios (when the rounds' own times
    are in the results), else the ratio of the medians; and the baseline's median time per operation."""
    if not paired:
        return None, None
    rounds = stats.get("data") or []
    if len(rounds) == len(paired) and all(rounds):
        ratio = statistics.median(b / p for b, p in zip(paired, rounds, strict=True))
    else:
        ratio = statistics.median(paired) / stats["median"]
    return ratio, statistics.median(paired) / ops


def read_figures(results: dict[str, Any]) -> dict[str, PathFigure]:
    """The labelled benchmarks of a pytest-benchmark JSON document, by path."""
    if not isinstance(results, dict) or not isinstance(results.get("benchmarks"), list):
        raise ReportInputError("not a pytest-benchmark JSON document (no 'benchmarks' list)")
    figures: dict[str, PathFigure] = {}
    for bench in results["benchmarks"]:
        info = bench.get("extra_info") or {}
        if "path" not in info:
            continue
        ops = int(info.get("ops_per_round", 1))
        paired_ratio, paired_per_op = _paired(bench["stats"], info.get("paired_baseline_rounds") or [], ops)
        figures[info["path"]] = PathFigure(
            path=info["path"], group=bench.get("group") or "", clients=int(info.get("clients", 1)),
            per_op=bench["stats"]["median"] / ops, baseline=info.get("baseline"), target=info.get("target"),
            also=list(info.get("also", [])), notes={k: v for k, v in info.items() if k not in _LABEL_KEYS},
            paired_ratio=paired_ratio, paired_per_op=paired_per_op)
    if not figures:
        raise ReportInputError("no benchmark carries extra_info['path']: nothing to report")
    return figures


def ratio_rows(figures: dict[str, PathFigure], stored: dict[str, float], tolerance: float) -> list[RatioRow]:
    """One row per measured path (baselines themselves are not rows), judged against ``stored``."""
    rows = []
    for figure in figures.values():
        if figure.baseline is None:
            continue
        base = figures.get(figure.baseline)
        ratio = figure.paired_ratio if figure.paired_ratio is not None else (
            base.per_op / figure.per_op if base else None)
        row = RatioRow(figure, ratio, stored.get(figure.path),
                       {name: figures[name].per_op / figure.per_op for name in figure.also if name in figures})
        if row.ratio is None:
            row.status = "no baseline in run"
        elif row.stored is None:
            row.status = "new"
        elif row.ratio < row.stored * (1 - tolerance):
            row.status = "regressed"
        elif row.ratio > row.stored * (1 + tolerance):
            row.status = "improved"
        else:
            row.status = "ok"
        rows.append(row)
    return sorted(rows, key=lambda r: (r.figure.group, r.figure.path))


def failures(rows: list[RatioRow], enforce_targets: bool) -> list[str]:
    """Why the run fails, one sentence per path (empty: it passes)."""
    found = [f"{r.figure.path}: ratio {r.ratio:.3f} fell below the stored {r.stored:.3f} (change {r.change:+.0%})"
             for r in rows if r.status == "regressed"]
    if enforce_targets:
        found += [f"{r.figure.path}: ratio {r.ratio:.3f} is below its target {r.figure.target}"
                  for r in rows if r.below_target]
    return found


def _time(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f} µs"


def _run_line(run: dict[str, Any]) -> str:
    version = run.get("server_version_num")
    server = f"PostgreSQL {version // 10000}.{version % 10000}" if isinstance(version, int) else "PostgreSQL ?"
    dataset = run.get("dataset", {})
    return (f"{server} ({run.get('backend', '?')} backend), {run.get('clients', '?')} clients on the write paths, "
            f"{dataset.get('events', '?'):,} events in {dataset.get('streams', '?'):,} streams of "
            f"{dataset.get('tenants', '?')} tenants; medians")


def markdown(rows: list[RatioRow], figures: dict[str, PathFigure], run: dict[str, Any], tolerance: float,
             stored_from: str | None) -> str:
    """The summary a reviewer reads: ratios first, then the baselines' own figures."""
    lines = ["# Benchmark ratios", "", _run_line(run) + ".", "",
             f"ratio = baseline time per operation / this path's (higher is better). Stored ratios: "
             f"{stored_from or 'none'}; regression when a ratio falls more than {tolerance:.0%} below its stored value.",
             "A path run paired with its baseline, round by round (baseline per op filled in) has ratio = median "
             "over rounds of baseline round time / path round time; otherwise it is the ratio of the two "
             "benchmarks' medians.",
             "", "| group | path | clients | per op | ops/s | baseline | baseline per op | ratio | target | stored | "
             "change | status |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        f = r.figure
        target = "" if f.target is None else (f"≥ {f.target}" + (" **missed**" if r.below_target else " met"))
        lines.append(
            f"| {f.group} | {f.path} | {f.clients} | {_time(f.per_op)} | {1 / f.per_op:,.0f} | {f.baseline} | "
            f"{'' if f.paired_per_op is None else _time(f.paired_per_op)} | "
            f"{'' if r.ratio is None else f'{r.ratio:.3f}'} | {target} | "
            f"{'' if r.stored is None else f'{r.stored:.3f}'} | {'' if r.change is None else f'{r.change:+.0%}'} | "
            f"{'**' + r.status + '**' if r.status == 'regressed' else r.status} |")
    also = [f"* {r.figure.path}: " + ", ".join(f"{v:.3f} × {k}" for k, v in r.also.items()) for r in rows if r.also]
    if also:
        lines += ["", "Against other baselines:", "", *also]
    notes = [f"* {r.figure.path}: " + ", ".join(f"{k} = {v}" for k, v in r.figure.notes.items())
             for r in rows if r.figure.notes]
    if notes:
        lines += ["", "Notes:", "", *notes]
    lines += ["", "Baselines (same run):", "", "| path | clients | per op | ops/s |", "|---|---:|---:|---:|"]
    lines += [f"| {f.path} | {f.clients} | {_time(f.per_op)} | {1 / f.per_op:,.0f} |"
              for f in sorted(figures.values(), key=lambda f: f.path) if f.baseline is None]
    return "\n".join(lines) + "\n"


def baseline_document(rows: list[RatioRow], run: dict[str, Any], tolerance: float) -> dict[str, Any]:
    """What ``--write-baseline`` stores: the ratios, the tolerance, and where they were measured."""
    return {"recorded": {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "machine": platform.node(),
                         "cpu": platform.processor() or platform.machine(), "run": _run_line(run)},
            "tolerance": tolerance,
            "ratios": {r.figure.path: round(r.ratio, 4) for r in rows if r.ratio is not None}}


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ReportInputError(f"{what} {path} does not exist") from None
    except (OSError, ValueError) as error:
        raise ReportInputError(f"{what} {path} is not readable JSON: {error}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leadboost_schema.bench_report", description=__doc__.split("\n")[0])
    parser.add_argument("results", type=Path, help="pytest-benchmark JSON (--benchmark-json=FILE)")
    parser.add_argument("--baseline", type=Path, help="stored ratios to compare with (e.g. benchmarks/baseline.json)")
    parser.add_argument("--tolerance", type=float, help=f"allowed fall of a ratio, as a fraction (default: the "
                        f"baseline file's, else {DEFAULT_TOLERANCE})")
    parser.add_argument("--markdown", type=Path, help="write the summary table here (it is printed too)")
    parser.add_argument("--svg", type=Path, help="write the ratio chart here")
    parser.add_argument("--write-baseline", type=Path, help="store this run's ratios as the new baseline here")
    parser.add_argument("--enforce-targets", action="store_true", help="fail when a ratio is below its target too")
    args = parser.parse_args(argv)
    try:
        results = _read_json(args.results, "results file")
        figures = read_figures(results)
        stored_doc = _read_json(args.baseline, "baseline file") if args.baseline else {}
        stored = stored_doc.get("ratios", {})
        if not isinstance(stored, dict):
            raise ReportInputError(f"baseline file {args.baseline}: 'ratios' must be an object of path → ratio")
    except ReportInputError as error:
        print(f"bench_report: {error}", file=sys.stderr)
        return 2
    tolerance = args.tolerance if args.tolerance is not None else stored_doc.get("tolerance", DEFAULT_TOLERANCE)
    run = results.get("leadboost", {})
    rows = ratio_rows(figures, stored, tolerance)
    text = markdown(rows, figures, run, tolerance, str(args.baseline) if args.baseline else None)
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    if args.svg:
        from leadboost_schema.bench_chart import ratio_chart
        args.svg.write_text(ratio_chart(rows, _run_line(run)))
    if args.write_baseline:
        args.write_baseline.write_text(json.dumps(baseline_document(rows, run, tolerance), indent=2) + "\n")
    failed = failures(rows, args.enforce_targets)
    for reason in failed:
        print(f"bench_report: {reason}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
