"""A pytest plugin the runner loads into a mutant's pytest (``-p leadboost_schema.mutation.pytest_order``): it
runs first the tests most likely to kill the mutant, so ``-x`` stops early. It only reorders — the set of tests is
the one the command line selected, so the verdict (does any test fail?) is the same in any order; the tests are
independent (each module builds its own clone of the template).

Order: the node ids in ``LEADBOOST_MUTATION_FIRST`` (tests that killed mutants of the same objects earlier in the
run, most kills first), then tests whose node id names one of ``LEADBOOST_MUTATION_NAMES`` (the mutated object's
own name, e.g. a CHECK's edge-case test ``…[transactions_amount_check:1]``), then the rest, each group in pytest's
order (so a module's tests stay together and its module fixtures are set up at most once per group)."""
from __future__ import annotations

import json
import os

import pytest

FIRST = "LEADBOOST_MUTATION_FIRST"
NAMES = "LEADBOOST_MUTATION_NAMES"


def rank(node_ids: list[str], first: list[str], names: list[str]) -> list[int]:
    """The indexes of ``node_ids`` in run order."""
    position = {node: i for i, node in enumerate(first)}
    lowered = [name.lower() for name in names if name]

    def key(index: int) -> tuple[int, int, int]:
        node = node_ids[index]
        if node in position:
            return (0, position[node], index)
        if any(name in node.lower() for name in lowered):
            return (1, 0, index)
        return (2, 0, index)

    return sorted(range(len(node_ids)), key=key)


@pytest.hookimpl(trylast=True)  # after pytest's own grouping by fixture scope
def pytest_collection_modifyitems(items) -> None:
    first = json.loads(os.environ.get(FIRST, "[]"))
    names = json.loads(os.environ.get(NAMES, "[]"))
    if not first and not names:
        return
    order = rank([item.nodeid for item in items], first, names)
    items[:] = [items[i] for i in order]
