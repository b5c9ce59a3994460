"""Concurrent runs read as database transactions: each session's steps grouped, which committed, in what order.

A script gives each session a list of :class:`Transaction` (operations between BEGIN and COMMIT/ROLLBACK).
Row locks held to commit make the committed transactions equivalent to running them one after the other in
commit order, so a property replays them in that order through its reference model.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from leadboost_schema.testing.interleaving import BEGIN, COMMIT, ROLLBACK, Event, Scenario, Step, Trace


@dataclass(frozen=True)
class Transaction:
    """Operations of one database transaction of one session, ended by COMMIT (or ROLLBACK); or, when
    ``autocommit``, one operation run alone (it commits when it ends: for operations whose effect is fixed
    by their snapshot, such as a cleanup, that is where they belong in the serial order)."""

    ops: tuple[Any, ...]
    commit: bool = True
    autocommit: bool = False


@dataclass
class Outcome:
    """A transaction after the run: each operation's event, and whether it committed."""

    session: str
    transaction: Transaction
    events: list[Event] = field(default_factory=list)
    committed: bool = False
    positions: list[int] = field(default_factory=list)  # where each operation's event is in the trace
    end: int = -1  # where its COMMIT/ROLLBACK (or its autocommitted operation) finished in the trace


Scripts = Mapping[str, Sequence[Transaction]]


@functools.cache  # building and validating the strategy each example costs more than drawing from it
def make_scripts(op: st.SearchStrategy, sessions: Sequence[str], max_ops: int = 3, max_transactions: int = 1,
                 alone: st.SearchStrategy | None = None) -> st.SearchStrategy[dict[str, list[Transaction]]]:
    """For each session, 0..max_transactions transactions of 1..max_ops operations (most of them commit),
    some of them, when ``alone`` is given, one such operation run in autocommit."""
    transaction = st.builds(Transaction, st.lists(op, min_size=1, max_size=max_ops).map(tuple),
                            st.sampled_from((True, True, True, False)))
    if alone is not None:
        transaction = st.one_of(transaction, st.builds(Transaction, st.tuples(alone), autocommit=st.just(True)))
    return st.fixed_dictionaries({name: st.lists(transaction, max_size=max_transactions)
                                  for name in sessions})



def statement(name: str, sql: str, params: Sequence[Any]) -> Step:
    """A step running ``sql`` whose result the trace need not show (ids differ from run to run)."""
    return Step(name, lambda conn: conn.execute(sql, params) and None)


def scenario(scripts: Scripts, step_of: Callable[[str, Any], Step]) -> Scenario:
    """The harness scenario of the scripts; ``step_of(session, op)`` makes each operation's step."""
    return Scenario({
        session: [step for t in transactions
                  for step in ([step_of(session, op) for op in t.ops] if t.autocommit else
                               (BEGIN, *(step_of(session, op) for op in t.ops), COMMIT if t.commit else ROLLBACK))]
        for session, transactions in scripts.items()
    })


def outcomes(trace: Trace, scripts: Scripts) -> list[Outcome]:
    """Every transaction with its events, in the order their COMMIT/ROLLBACK finished."""
    finished: dict[str, list[tuple[int, Event]]] = {}
    for position, event in enumerate(trace.events):
        if event.finished:
            finished.setdefault(event.session, []).append((position, event))
    ended: list[tuple[int, Outcome]] = []
    for session, transactions in scripts.items():
        events = iter(finished.get(session, []))
        for transaction in transactions:
            if transaction.autocommit:
                position, event = next(events)
                ended.append((position, Outcome(session, transaction, [event], event.error is None, [position],
                                                position)))
                continue
            next(events)  # BEGIN
            ran = [pair for _, pair in zip(transaction.ops, events, strict=False)]
            outcome = Outcome(session, transaction, [event for _, event in ran], positions=[p for p, _ in ran])
            position, end = next(events)
            outcome.committed = transaction.commit and end.error is None and end.result is None
            outcome.end = position
            ended.append((position, outcome))
    return [outcome for _, outcome in sorted(ended, key=lambda pair: pair[0])]


def committed(trace: Trace, scripts: Scripts) -> list[Outcome]:
    """The committed transactions in commit order: the serial order the run is equivalent to."""
    return [outcome for outcome in outcomes(trace, scripts) if outcome.committed]


# An error in a step aborts its transaction; every later step of it fails with this one.
IN_FAILED_TRANSACTION = "25P02"


def assert_errors_among(trace: Trace, expected: set[str]) -> None:
    """Steps may fail only with the documented refusals a property provokes: anything else (a typo in a test
    query, a missing grant) would otherwise pass as "the transaction rolled back"."""
    unexpected = [str(e) for e in trace.events if e.failed and e.sqlstate not in expected | {IN_FAILED_TRANSACTION}]
    assert not unexpected, f"unexpected errors: {unexpected}\n{trace}"


def story_of(failure: BaseException) -> list[str]:
    """The trace lines of a property's failure message (pytest indents them; the first line is the claim)."""
    return [line.strip() for line in str(failure).splitlines()[1:] if line.startswith("  s")]
