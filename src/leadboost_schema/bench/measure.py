"""Running a benchmark for the ratio report: its labels, and its baseline paired round by round."""
from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import NamedTuple

from leadboost_schema.bench.clients import ClientPool, Operation


class Paired(NamedTuple):
    """A baseline run in every round of a measured path, just before it, so both see the same load: ``work``
    is a call (``measure.calls``) or a client operation run on the same clients (``measure.concurrently``)."""

    name: str
    work: Callable


class Measure:
    """Runs a benchmark and labels it for the report (extra_info): ``path`` (a stable name); ``baseline``, the
    path it is divided by, run paired round by round; ``target``, the least ratio aimed at; ``also``, more
    baselines (their own benchmarks, not paired) shown beside it; ``ops_per_round``."""

    def __init__(self, benchmark) -> None:
        self.benchmark = benchmark

    def _run(self, path: str, target_round: Callable[[], object], paired_round: Callable[[], object] | None,
             rounds: int, warmup: int, labels: dict) -> None:
        self.benchmark.extra_info.update(path=path, **labels)
        paired: list[float] = []

        def run_baseline_first() -> None:
            started = time.perf_counter()
            paired_round()
            paired.append(time.perf_counter() - started)

        # Python's cyclic GC would land in whichever round happens to allocate past its threshold.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self.benchmark.pedantic(target_round, setup=run_baseline_first if paired_round else None,
                                    rounds=rounds, warmup_rounds=warmup)
        finally:
            if collecting:
                gc.enable()
        if paired_round:
            self.benchmark.extra_info["paired_baseline_rounds"] = paired[-rounds:]

    def calls(self, path: str, call: Callable[[], object], *, rounds: int, baseline: Paired | None = None,
              target: float | None = None, also: tuple[str, ...] = (), **info) -> None:
        """One client, one call per round (a paired baseline: one call of it just before; repeating a fast
        baseline within a round would make it look faster than it is alone, warm from itself)."""
        self._run(path, call, baseline.work if baseline else None, rounds, min(5, rounds),
                  dict(baseline=baseline.name if baseline else None, target=target, also=list(also),
                       ops_per_round=1, clients=1, **info))

    def concurrently(self, path: str, pool: ClientPool, op: Operation, *, per_client: int = 10,
                     rounds: int = 60, baseline: Paired | None = None, target: float | None = None,
                     also: tuple[str, ...] = (), **info) -> None:
        """``pool.size`` clients, ``per_client`` calls each per round: a round's time over its calls is the
        inverse of the throughput. A paired baseline runs on the same clients, as many calls."""
        paired_round = (lambda: pool.run(baseline.work, per_client)) if baseline else None
        self._run(path, lambda: pool.run(op, per_client), paired_round, rounds, 1,
                  dict(baseline=baseline.name if baseline else None, target=target, also=list(also),
                       ops_per_round=pool.size * per_client, clients=pool.size, **info))

    def note(self, **info) -> None:
        """Facts known only after the run (e.g. how many optimistic-lock retries it took)."""
        self.benchmark.extra_info.update(info)

