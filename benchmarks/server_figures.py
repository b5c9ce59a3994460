"""pgbench-driven figures for the ratio report, and the scripts the server-side paths run."""
from __future__ import annotations


def record_server_rounds(benchmark, path: str, rounds: list[float], *, baseline: str | None = None,
                         baseline_rounds: list[float] | None = None, target: float | None = None,
                         clients: int = 1, **notes) -> None:
    """Labels a pgbench-driven figure for the report: its seconds per operation per round (``server_rounds``),
    and its baseline's, paired round by round. The pytest-benchmark timing itself is a no-op."""
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)
    benchmark.extra_info.update(path=path, baseline=baseline, target=target, also=[], ops_per_round=1,
                                clients=clients, server_rounds=rounds, **notes)
    if baseline_rounds is not None:
        benchmark.extra_info["paired_baseline_rounds"] = baseline_rounds
