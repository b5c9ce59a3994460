"""The ratio report's reading of pgbench-driven and growth figures (no server: pytest-benchmark JSON as data)."""
from __future__ import annotations

import pytest

from leadboost_schema.bench.chart import growth_chart
from leadboost_schema.bench.report import ratio_rows, read_figures


def _bench(path: str, median: float = 1.0, **info) -> dict:
    return {"group": "g", "stats": {"median": median}, "extra_info": {"path": path, **info}}


def _rows(*benchmarks: dict) -> dict:
    rows = ratio_rows([read_figures({"benchmarks": list(benchmarks)})], {}, {}, 0.4)
    return {row.figure.path: row.ratio for row in rows}


def test_server_rounds_are_the_figure_not_the_pgbench_process():
    """A pgbench-driven path is its rounds' median seconds per operation, paired with its baseline's rounds."""
    ratios = _rows(_bench("append", median=5.0, baseline="insert", server_rounds=[4e-4, 5e-4, 6e-4],
                          paired_baseline_rounds=[1e-4, 1e-4, 2e-4]))
    assert ratios["append"] == pytest.approx(1e-4 / 5e-4)


def test_growth_ratio_divides_each_size_by_its_reference_read():
    """Both sizes twice as slow because the machine was twice as busy (the reference read too): ratio 1, flat;
    twice as slow with the reference unchanged: 0.5. Without references, the plain ratio of the times."""
    small = _bench("read_1e4", server_rounds=[1e-3], normaliser_rounds=[1e-4], rows=10_000, read="read")
    busy = _bench("read_1e6", baseline="read_1e4", server_rounds=[2e-3], normaliser_rounds=[2e-4],
                  rows=1_000_000, read="read")
    slower = _bench("read_1e6", baseline="read_1e4", server_rounds=[2e-3], normaliser_rounds=[1e-4],
                    rows=1_000_000, read="read")
    assert _rows(small, busy)["read_1e6"] == pytest.approx(1.0)
    assert _rows(small, slower)["read_1e6"] == pytest.approx(0.5)
    plain = _bench("read_1e6", baseline="read_1e4", server_rounds=[2e-3], rows=1_000_000, read="read")
    assert _rows(small, plain)["read_1e6"] == pytest.approx(0.5)


def test_growth_chart_draws_a_line_per_read_on_log_axes():
    figures = read_figures({"benchmarks": [
        _bench(f"{read}_{rows}", server_rounds=[seconds], rows=rows, read=read)
        for read, points in {"flat": [(1_000, 1e-3), (1_000_000, 1e-3)],
                             "linear": [(1_000, 1e-3), (1_000_000, 1.0)]}.items()
        for rows, seconds in points]})
    svg = growth_chart(figures, "test")
    assert svg.count("<polyline") == 2 and ">flat<" in svg and ">linear<" in svg
    assert "10^3" in svg and "10^6" in svg
