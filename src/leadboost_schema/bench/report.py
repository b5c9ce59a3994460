"""Ratio report of pytest-benchmark runs: each path's time per operation against its in-run baseline's,
compared with stored ratios; a markdown table, an SVG chart and an exit status for CI.

    python -m leadboost_schema.bench.report results.json [more.json ...] \\
        --baseline benchmarks/baseline.json --markdown report.md --svg report.svg

A benchmark takes part when its ``extra_info`` names its ``path`` and, unless it is a baseline itself, the
``baseline`` path it is divided by (optional: ``target``, ``also``, ``ops_per_round``, ``clients``,
``paired_baseline_rounds``). ratio = the baseline's time per operation / the path's: 1.0 is as fast as the
baseline, 0.5 half as fast. Several result files (runs) give each path the median of its ratios, and
``--write-baseline`` then also stores how far apart the runs were, as that path's tolerance. Exit status: 0; 1
when a ratio fell more than its tolerance below its stored value (or, with --enforce-targets, below its
target); 2 when an input is unusable.
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

DEFAULT_TOLERANCE = 0.4
MAX_TOLERANCE = 0.8  # a path noisier than this is reported, never gated


class ReportInputError(Exception):
    """The results or the stored baseline cannot be used; the message says why."""


@dataclass
class PathFigure:
    """One labelled benchmark of one run: its median time per operation and what it is compared with."""

    path: str
    group: str
    per_op: float  # seconds
    clients: int
    baseline: str | None
    target: float | None
    also: list[str]
    notes: dict[str, Any]
    paired_ratio: float | None = None  # baseline's median round time / this path's, over the same rounds
    paired_per_op: float | None = None  # the paired baseline's median time per operation
    normaliser_per_op: float | None = None  # a reference read measured beside it (growth suite), per operation


@dataclass
class RatioRow:
    """A measured path against its baseline (over one or more runs), and against its stored ratio."""

    figure: PathFigure  # the first run's
    ratio: float | None  # median over the runs
    runs: list[float] = field(default_factory=list)  # each run's ratio
    stored: float | None = None
    tolerance: float = DEFAULT_TOLERANCE
    also: dict[str, float] = field(default_factory=dict)
    status: str = "new"  # ok | regressed | improved | new | no baseline in run

    @property
    def below_target(self) -> bool:
        return self.figure.target is not None and self.ratio is not None and self.ratio < self.figure.target

    @property
    def change(self) -> float | None:
        return None if self.ratio is None or not self.stored else self.ratio / self.stored - 1

    @property
    def spread(self) -> float:
        """How far apart the runs' ratios were: max / min - 1 (0 for a single run)."""
        return max(self.runs) / min(self.runs) - 1 if len(self.runs) > 1 and min(self.runs) > 0 else 0.0


_LABEL_KEYS = {"path", "baseline", "target", "also", "ops_per_round", "clients", "paired_baseline_rounds",
               "server_rounds", "normaliser_rounds"}


def read_figures(results: dict[str, Any]) -> dict[str, PathFigure]:
    """The labelled benchmarks of one pytest-benchmark JSON document, by path."""
    if not isinstance(results, dict) or not isinstance(results.get("benchmarks"), list):
        raise ReportInputError("not a pytest-benchmark JSON document (no 'benchmarks' list)")
    figures: dict[str, PathFigure] = {}
    for bench in results["benchmarks"]:
        info = bench.get("extra_info") or {}
        if "path" not in info:
            continue
        ops = int(info.get("ops_per_round", 1))
        # pgbench-driven paths carry the server's own seconds per operation per round (server_rounds): the
        # pytest-benchmark timing around them is the pgbench process, not the path.
        server = info.get("server_rounds")
        median = statistics.median(server) if server else bench["stats"]["median"]
        normaliser = info.get("normaliser_rounds")
        paired = info.get("paired_baseline_rounds") or []
        # Both medians over the same interleaved rounds: a change of load hits both.
        paired_median = statistics.median(paired) if paired else None
        figures[info["path"]] = PathFigure(
            path=info["path"], group=bench.get("group") or "", clients=int(info.get("clients", 1)),
            per_op=median / ops, baseline=info.get("baseline"), target=info.get("target"),
            also=list(info.get("also", [])), notes={k: v for k, v in info.items() if k not in _LABEL_KEYS},
            paired_ratio=paired_median / median if paired_median else None,
            paired_per_op=paired_median / ops if paired_median else None,
            normaliser_per_op=statistics.median(normaliser) if normaliser else None)
    if not figures:
        raise ReportInputError("no benchmark carries extra_info['path']: nothing to report")
    return figures


def _ratio(figures: dict[str, PathFigure], figure: PathFigure) -> float | None:
    """Paired if it was, else against the baseline's own benchmark in the same run; when both were measured
    beside a reference read (the growth suite: the same read at two sizes, minutes apart), each time is first
    divided by its reference's, so a change of the machine's load between the two cancels out."""
    if figure.paired_ratio is not None:
        return figure.paired_ratio
    base = figures.get(figure.baseline or "")
    if base is None:
        return None
    if base.normaliser_per_op and figure.normaliser_per_op:
        return (base.per_op / base.normaliser_per_op) / (figure.per_op / figure.normaliser_per_op)
    return base.per_op / figure.per_op


def ratio_rows(runs: list[dict[str, PathFigure]], stored: dict[str, float], tolerances: dict[str, float],
               tolerance: float) -> list[RatioRow]:
    """One row per measured path (baselines themselves are not rows), the median of the runs' ratios, judged
    against ``stored`` with the path's tolerance (``tolerances``, else ``tolerance``)."""
    rows = []
    for path, figure in runs[0].items():
        if figure.baseline is None:
            continue
        ratios = [r for r in (_ratio(run, run[path]) for run in runs if path in run) if r is not None]
        also = {name: runs[0][name].per_op / figure.per_op for name in figure.also if name in runs[0]}
        row = RatioRow(figure, statistics.median(ratios) if ratios else None, ratios, stored.get(path),
                       tolerances.get(path, tolerance), also)
        if row.ratio is None:
            row.status = "no baseline in run"
        elif row.stored is None:
            row.status = "new"
        elif row.ratio < row.stored * (1 - row.tolerance):
            row.status = "regressed"
        elif row.ratio > row.stored * (1 + row.tolerance):
            row.status = "improved"
        else:
            row.status = "ok"
        rows.append(row)
    return sorted(rows, key=lambda r: (r.figure.group, r.figure.path))


def failures(rows: list[RatioRow], enforce_targets: bool) -> list[str]:
    """Why the run fails, one sentence per path (empty: it passes)."""
    found = [f"{r.figure.path}: ratio {r.ratio:.3f} fell below the stored {r.stored:.3f} "
             f"(change {r.change:+.0%}, tolerance {r.tolerance:.0%})"
             for r in rows if r.status == "regressed"]
    if enforce_targets:
        found += [f"{r.figure.path}: ratio {r.ratio:.3f} is below its target {r.figure.target}"
                  for r in rows if r.below_target]
    return found


def _time(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f} µs"


def run_line(run: dict[str, Any]) -> str:
    """Where the figures come from, in one line (server, clients, dataset)."""
    version = run.get("server_version_num")
    server = f"PostgreSQL {version // 10000}.{version % 10000}" if isinstance(version, int) \
        else "PostgreSQL ?"
    dataset = run.get("dataset")
    if not dataset:  # a run of the growth suite alone: its data is described per size
        return f"{server} ({run.get('backend', '?')} backend); medians"
    return (f"{server} ({run.get('backend', '?')} backend), {run.get('clients', '?')} clients on the write "
            f"paths, {dataset.get('events', 0):,} events in {dataset.get('streams', 0):,} streams of "
            f"{dataset.get('tenants', '?')} tenants; medians")


def markdown(rows: list[RatioRow], figures: dict[str, PathFigure], run: dict[str, Any], runs: int,
             stored_from: str | None) -> str:
    """The summary a reviewer reads: ratios first, then the baselines' own figures (of the first run)."""
    lines = ["# Benchmark ratios", "", run_line(run) + (f"; ratios are the median of {runs} runs." if runs > 1
                                                          else "."), "",
             "ratio = the baseline's time per operation / the path's (higher is better). Each path ran "
             "paired with its baseline, round by round, the baseline first (baseline per op: its median in "
             "those rounds); a path without one is compared with its baseline's own benchmark. "
             f"Stored ratios: {stored_from or 'none'}; a ratio more than its tolerance below its stored "
             "value is a regression.", "",
             "| group | path | clients | per op | ops/s | baseline | baseline per op | ratio | target | "
             "stored (tolerance) | change | status |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        f = r.figure
        target = "" if f.target is None else (f"≥ {f.target}" + (" **missed**" if r.below_target else " met"))
        stored = "" if r.stored is None else f"{r.stored:.3f} (±{r.tolerance:.0%})"
        lines.append(
            f"| {f.group} | {f.path} | {f.clients} | {_time(f.per_op)} | {1 / f.per_op:,.0f} | "
            f"{f.baseline} | {'' if f.paired_per_op is None else _time(f.paired_per_op)} | "
            f"{'' if r.ratio is None else f'{r.ratio:.3f}'} | {target} | {stored} | "
            f"{'' if r.change is None else f'{r.change:+.0%}'} | "
            f"{'**' + r.status + '**' if r.status == 'regressed' else r.status} |")
    also = [f"* {r.figure.path}: " + ", ".join(f"{v:.3f} × {k}" for k, v in r.also.items())
            for r in rows if r.also]
    if also:
        lines += ["", "Against other baselines (their own benchmarks, not paired):", "", *also]
    notes = [f"* {r.figure.path}: " + ", ".join(f"{k} = {v}" for k, v in r.figure.notes.items())
             for r in rows if r.figure.notes]
    if notes:
        lines += ["", "Notes:", "", *notes]
    lines += ["", "Baselines on their own:", "", "| path | clients | per op | ops/s |",
              "|---|---:|---:|---:|"]
    lines += [f"| {f.path} | {f.clients} | {_time(f.per_op)} | {1 / f.per_op:,.0f} |"
              for f in sorted(figures.values(), key=lambda f: f.path) if f.baseline is None]
    return "\n".join(lines) + "\n"


def baseline_document(rows: list[RatioRow], run: dict[str, Any], tolerance: float) -> dict[str, Any]:
    """What ``--write-baseline`` stores: the ratios, where they were measured, and the tolerances —
    ``tolerance``, widened for a path whose runs were further apart (1.5 × their spread, at most
    MAX_TOLERANCE)."""
    measured = [r for r in rows if r.ratio is not None]
    return {"recorded": {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "machine": platform.node(),
                         "cpu": platform.processor() or platform.machine(), "run": run_line(run),
                         "runs": max((len(r.runs) for r in measured), default=0)},
            "tolerance": tolerance,
            "tolerances": {r.figure.path: round(min(MAX_TOLERANCE, 1.5 * r.spread), 2)
                           for r in measured if 1.5 * r.spread > tolerance},
            "ratios": {r.figure.path: round(r.ratio, 4) for r in measured}}


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise ReportInputError(f"{what} {path} does not exist") from None
    except (OSError, ValueError) as error:
        raise ReportInputError(f"{what} {path} is not readable JSON: {error}") from None
    if not isinstance(document, dict):
        raise ReportInputError(f"{what} {path} is not a JSON object")
    return document


def _stored(path: Path | None) -> tuple[dict[str, float], dict[str, float], float | None]:
    if path is None:
        return {}, {}, None
    document = _read_json(path, "baseline file")
    ratios, tolerances = document.get("ratios", {}), document.get("tolerances", {})
    if not isinstance(ratios, dict) or not isinstance(tolerances, dict):
        raise ReportInputError(f"baseline file {path}: 'ratios' and 'tolerances' must be objects of "
                               "path → number")
    return ratios, tolerances, document.get("tolerance")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leadboost_schema.bench.report",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("results", type=Path, nargs="+",
                        help="pytest-benchmark JSON (--benchmark-json=FILE); several: one per run")
    parser.add_argument("--baseline", type=Path,
                        help="stored ratios to compare with (benchmarks/baseline.json)")
    parser.add_argument("--tolerance", type=float, help="allowed fall of a ratio, as a fraction, for paths "
                        f"without their own (default: the baseline file's, else {DEFAULT_TOLERANCE})")
    parser.add_argument("--markdown", type=Path, help="write the summary table here (it is printed too)")
    parser.add_argument("--svg", type=Path, help="write the ratio chart here")
    parser.add_argument("--growth-svg", type=Path,
                        help="write the growth suite's log-log chart (time per call against rows) here")
    parser.add_argument("--write-baseline", type=Path, help="store these runs' ratios as the baseline here")
    parser.add_argument("--enforce-targets", action="store_true",
                        help="fail when a ratio is below its target too")
    args = parser.parse_args(argv)
    try:
        documents = [_read_json(path, "results file") for path in args.results]
        runs = [read_figures(document) for document in documents]
        stored, tolerances, stored_tolerance = _stored(args.baseline)
    except ReportInputError as error:
        print(f"bench_report: {error}", file=sys.stderr)
        return 2
    tolerance = args.tolerance if args.tolerance is not None else stored_tolerance or DEFAULT_TOLERANCE
    run = documents[0].get("leadboost", {})
    rows = ratio_rows(runs, stored, tolerances, tolerance)
    text = markdown(rows, runs[0], run, len(runs), str(args.baseline) if args.baseline else None)
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    if args.svg:
        from leadboost_schema.bench.chart import ratio_chart
        args.svg.write_text(ratio_chart(rows, run_line(run)))
    if args.growth_svg:
        from leadboost_schema.bench.chart import growth_chart
        args.growth_svg.write_text(growth_chart(runs[0], run_line(run)))
    if args.write_baseline:
        args.write_baseline.write_text(json.dumps(baseline_document(rows, run, tolerance), indent=2) + "\n")
    failed = failures(rows, args.enforce_targets)
    for reason in failed:
        print(f"bench_report: {reason}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
