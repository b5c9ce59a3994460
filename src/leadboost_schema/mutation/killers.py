"""Tests that killed mutants, learned as a run goes (and from the journal): a mutant's pytest runs first the few
tests that killed other mutants of its own objects (then of their callers). Mutants of one object tend to die by
the same test (a function's contract test, a table's fixture), so ``-x`` stops after a few tests instead of after
whole modules. Fastest kill first: a killer is ranked by the shortest run in which it killed (a Hypothesis property
can need minutes of shrinking to fail where a contract test fails in seconds), then by its number of kills. Only
the order changes (``pytest_order``): the verdict is the same."""
from __future__ import annotations

import threading
from collections import Counter, defaultdict

from leadboost_schema.mutation.mutants import Mutant

FIRST_TESTS = 8  # the usual killers of an object; moved ahead, never added


class Killers:
    def __init__(self) -> None:
        self._by_object: dict[str, Counter[str]] = defaultdict(Counter)
        self._fastest: dict[str, float] = {}  # node id → the shortest mutant run it killed in
        self._lock = threading.Lock()

    def record(self, mutant: Mutant, node_id: str | None, seconds: float = float("inf")) -> None:
        if not node_id or "::" not in node_id:  # a collection error names a module, not a test
            return
        with self._lock:
            for obj in mutant.objects:
                self._by_object[obj][node_id] += 1
            self._fastest[node_id] = min(seconds, self._fastest.get(node_id, float("inf")))

    def first_for(self, mutant: Mutant, callers: set[str], modules: tuple[str, ...]) -> list[str]:
        """Up to FIRST_TESTS node ids inside ``modules``: killers of the mutant's objects, fastest kill first (then
        most kills), then killers of its callers in the same order."""
        allowed = set(modules)
        chosen: list[str] = []
        with self._lock:
            for group in (mutant.objects, sorted(callers)):
                ranked: Counter[str] = Counter()
                for obj in group:
                    ranked.update(self._by_object.get(obj, Counter()))
                for node_id in sorted(ranked, key=lambda node: (self._fastest[node], -ranked[node], node)):
                    if node_id not in chosen and node_id.split("::")[0] in allowed:
                        chosen.append(node_id)
                    if len(chosen) == FIRST_TESTS:
                        return chosen
        return chosen
