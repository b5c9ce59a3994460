"""Tests that killed mutants, learned as a run goes (and from the journal): a mutant's pytest runs first the few
tests that killed other mutants of its own objects (then of their callers). Mutants of one object tend to die by
the same test (a function's contract test, a table's fixture), so ``-x`` stops after a few tests instead of after
whole modules. Only the order changes (``pytest_order``): the verdict is the same."""
from __future__ import annotations

import threading
from collections import Counter, defaultdict

from leadboost_schema.mutation.mutants import Mutant

FIRST_TESTS = 8  # the usual killers of an object; moved ahead, never added


class Killers:
    def __init__(self) -> None:
        self._by_object: dict[str, Counter[str]] = defaultdict(Counter)
        self._lock = threading.Lock()

    def record(self, mutant: Mutant, node_id: str | None) -> None:
        if not node_id or "::" not in node_id:  # a collection error names a module, not a test
            return
        with self._lock:
            for obj in mutant.objects:
                self._by_object[obj][node_id] += 1

    def first_for(self, mutant: Mutant, callers: set[str], modules: tuple[str, ...]) -> list[str]:
        """Up to FIRST_TESTS node ids inside ``modules``: killers of the mutant's objects, most kills first, then
        killers of its callers."""
        allowed = set(modules)
        chosen: list[str] = []
        with self._lock:
            for group in (mutant.objects, sorted(callers)):
                ranked: Counter[str] = Counter()
                for obj in group:
                    ranked.update(self._by_object.get(obj, Counter()))
                for node_id, _ in ranked.most_common():
                    if node_id not in chosen and node_id.split("::")[0] in allowed:
                        chosen.append(node_id)
                    if len(chosen) == FIRST_TESTS:
                        return chosen
        return chosen
