"""Exact interleavings of concurrent PostgreSQL sessions, run step by step for Hypothesis properties.

A :class:`Scenario` is data, as in PostgreSQL's isolation tester: named sessions, each with its named
:class:`Step`\\ s in order (an SQL statement with parameters, or a callable taking the session's connection).
A :class:`Scheduler` owns one psycopg connection per session (each driven by its own worker thread) and a
monitor connection. It submits one step at a time and then *settles*: it returns when every busy session is
stably blocked by another session of the scenario (``pg_blocking_pids`` restricted to the scenario's own
pids; "stably" meaning no step finished while the monitor looked). Nothing sleeps: the scheduler waits on
the steps themselves, with a small bounded wait between monitor polls.

Which session acts next is drawn by Hypothesis from the sessions that may run
(``data.draw(st.sampled_from(runnable))``), so every schedule is valid and shrinking moves toward the
least interleaved story. Determinism rules:

* while a session waits, only the sessions it waits for may run (PostgreSQL wakes several waiters of one
  lock holder in racing order, so the harness never lets two sessions queue behind the same holder);
* the deadlock victim is always the session whose step closed the cycle: a step submitted while another
  session waits gets a short ``deadlock_timeout``, every other step a ``deadlock_timeout`` longer than
  ``lock_timeout`` (PostgreSQL checks for a deadlock once per wait, when that timeout expires);
* completions are written to the trace in a fixed order: the submitted step first, then the sessions it
  freed, by session order.

Safety timeouts are ordered ``lock_timeout`` < the harness's step timeout < ``statement_timeout``: a stuck
scenario ends with an error and its trace, never a hang. The sessions need the right to SET
``deadlock_timeout`` (a superuser, or ``GRANT SET ON PARAMETER deadlock_timeout``).

Usage::

    from hypothesis import given, strategies as st
    from leadboost_schema.testing.interleaving import BEGIN, COMMIT, Scenario, Scheduler, Step

    increment = Step("update", "UPDATE counter SET n = n + 1")
    story = Scenario({"s0": [BEGIN, increment, COMMIT], "s1": [BEGIN, increment, COMMIT]})

    def test_no_lost_update(leadboost_dsn, leadboost_conn):
        with Scheduler(leadboost_dsn, sessions=2) as scheduler:
            @given(st.data())
            def example(data):
                leadboost_conn.execute("UPDATE counter SET n = 0")
                trace = scheduler.run(story, data)
                n = leadboost_conn.execute("SELECT n FROM counter").fetchone()[0]
                assert n == 2, f"lost update:\\n{trace}"
            example()

A failure reads as a story::

    s0.begin
    s0.update
    s1.begin
    s1.update <waiting ...>
    s0.commit
    s1.update <... completed>
    s1.commit

``run(story, schedule=trace.schedule)`` replays a schedule (a replay-twice test compares the traces). For
open-ended workloads (a ``RuleBasedStateMachine``), skip the Scenario: each rule draws a session from
``scheduler.runnable()`` and calls ``scheduler.submit(name, step)``, which returns the events that step
caused (its own, and the completions of steps it unblocked); ``scheduler.reset()`` in ``teardown``.
"""

from __future__ import annotations

import concurrent.futures
import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Self

import psycopg
from hypothesis import strategies as st
from psycopg.pq import TransactionStatus

__all__ = [
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "Event",
    "InterleavingError",
    "InterleavingTimeout",
    "NotReplayable",
    "Scenario",
    "ScenarioStuck",
    "Scheduler",
    "Step",
    "Timeouts",
    "Trace",
]

StepAction = str | Callable[[psycopg.Connection], Any]


@dataclass(frozen=True)
class Step:
    """One named action of one session: an SQL statement (with parameters) or ``callable(connection)``."""

    name: str
    action: StepAction
    params: Sequence[Any] | Mapping[str, Any] | None = None


def _commit(conn: psycopg.Connection) -> str | None:
    """COMMIT, returning None, or PostgreSQL's answer when the transaction was rolled back instead."""
    status = conn.execute("COMMIT").statusmessage
    return None if status == "COMMIT" else status


BEGIN = Step("begin", "BEGIN")
#: Its trace line says ``-> 'ROLLBACK'`` when an earlier error had aborted the transaction.
COMMIT = Step("commit", _commit)
ROLLBACK = Step("rollback", "ROLLBACK")


@dataclass(frozen=True)
class Scenario:
    """Sessions and their steps, each session's steps in their order: the data of one concurrent story."""

    sessions: Mapping[str, Sequence[Step]]


@dataclass(frozen=True)
class Timeouts:
    """Safety nets and polling, in seconds. ``lock`` < ``step`` < ``statement`` so nothing ever hangs."""

    lock: float = 3.0
    step: float = 6.0
    statement: float = 12.0
    # Short enough that a deadlocking example stays cheap, long enough for one monitor poll.
    deadlock: float = 0.005
    poll: float = 0.001  # most steps end sooner: no monitor query for them
    poll_max: float = 0.008

    def __post_init__(self) -> None:
        if not 0 < self.deadlock < self.lock < self.step < self.statement:
            raise ValueError(
                "timeouts must be ordered 0 < deadlock < lock < step < statement, got "
                f"{self.deadlock}, {self.lock}, {self.step}, {self.statement}"
            )
        if not 0 < self.poll <= self.poll_max:
            raise ValueError(f"polling must satisfy 0 < poll <= poll_max, got {self.poll}, {self.poll_max}")


def _milliseconds(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


@dataclass(frozen=True)
class Event:
    """One line of a trace: a step that ran to its end (``done``), began to wait, or ended after waiting."""

    session: str
    step: str
    kind: Literal["done", "waiting", "completed"]
    result: Any = None
    sqlstate: str | None = None
    error: str | None = None
    exception: BaseException | None = field(default=None, compare=False, repr=False)

    @property
    def finished(self) -> bool:
        return self.kind != "waiting"

    @property
    def failed(self) -> bool:
        return self.error is not None

    def __str__(self) -> str:
        head = f"{self.session}.{self.step}"
        if self.kind == "waiting":
            return f"{head} <waiting ...>"
        if self.kind == "completed":
            head += " <... completed>"
        if self.error is not None:
            return f"{head} ERROR {self.sqlstate}: {self.error}"
        if self.result is not None:
            shown = repr(self.result)
            return f"{head} -> {shown if len(shown) <= 80 else shown[:77] + '...'}"
        return head


@dataclass
class Trace:
    """The events of one run, in a deterministic order, and the schedule (session per submitted step)."""

    events: list[Event] = field(default_factory=list)
    schedule: list[str] = field(default_factory=list)

    def outcomes(self) -> list[Event]:
        """Finished steps in the order they finished (as far as the trace can order them)."""
        return [event for event in self.events if event.finished]

    def __str__(self) -> str:
        return "\n".join(str(event) for event in self.events)


class InterleavingError(AssertionError):
    """A scenario could not be run as written; the message ends with the trace so far."""

    def __init__(self, message: str, trace: Trace) -> None:
        super().__init__(f"{message}\ntrace:\n{trace}")
        self.trace = trace


class InterleavingTimeout(InterleavingError):
    """A step did not settle within the step timeout."""


class ScenarioStuck(InterleavingError):
    """Sessions wait for sessions that have no step left to run."""


class NotReplayable(InterleavingError):
    """A replayed schedule asked for a session that may not run at that point."""


class _Session:
    """One connection of the scenario, with the worker thread that drives it and its current step."""

    def __init__(self, name: str, conninfo: str, timeouts: Timeouts) -> None:
        self.name = name
        self.conninfo = conninfo
        self.timeouts = timeouts
        self.executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"interleaving-{name}")
        self.future: concurrent.futures.Future | None = None
        self.step: Step | None = None
        self.waiting_reported = False
        self.blocked_since: float | None = None
        self.deadlock_timeout: float | None = None
        self.set_in_transaction, self.before_transaction = False, None
        self.connect()

    def connect(self) -> None:
        self.conn = psycopg.connect(self.conninfo, autocommit=True)
        self.pid = self.conn.info.backend_pid
        self.set_in_transaction = False
        slow = self.timeouts.lock * 10
        try:
            self.conn.execute(
                f"SET application_name = 'interleaving {self.name}';"
                f" SET lock_timeout = '{_milliseconds(self.timeouts.lock)}';"
                f" SET statement_timeout = '{_milliseconds(self.timeouts.statement)}';"
                f" SET deadlock_timeout = '{_milliseconds(slow)}'"
            )
        except psycopg.errors.InsufficientPrivilege as exc:
            self.conn.close()
            raise psycopg.errors.InsufficientPrivilege(
                "the interleaving harness sets deadlock_timeout per step to choose deadlock victims: connect "
                "as a superuser or GRANT SET ON PARAMETER deadlock_timeout TO the role"
            ) from exc
        self.deadlock_timeout = slow

    @property
    def busy(self) -> bool:
        return self.future is not None

    def prepare_deadlock_timeout(self, step: Step, seconds: float) -> None:
        """Set deadlock_timeout for the next step (BEGIN and ROLLBACK never wait for a lock: no need)."""
        status = self.conn.info.transaction_status
        if (self.deadlock_timeout == seconds or status == TransactionStatus.INERROR
                or step is BEGIN or step is ROLLBACK):
            return
        self.conn.execute("SELECT set_config('deadlock_timeout', %s, false)", (_milliseconds(seconds),))
        if status != TransactionStatus.IDLE and not self.set_in_transaction:
            # A SET inside a transaction is undone if the transaction rolls back: remember what it undoes to.
            self.set_in_transaction, self.before_transaction = True, self.deadlock_timeout
        self.deadlock_timeout = seconds

    def transaction_ended(self, committed: bool | None) -> None:
        """The session is outside a transaction again: what deadlock_timeout is now (None: ask next time)."""
        if self.set_in_transaction:
            if committed is False:
                self.deadlock_timeout = self.before_transaction
            elif committed is None:
                self.deadlock_timeout = None
            self.set_in_transaction = False

    def start(self, step: Step) -> None:
        self.step = step
        self.waiting_reported = False
        self.blocked_since = None
        self.future = self.executor.submit(self._execute, step)

    def _execute(self, step: Step) -> Any:
        if callable(step.action):
            return step.action(self.conn)
        cursor = self.conn.execute(step.action, step.params)
        return cursor.fetchall() if cursor.description is not None else None

    def finish(self, kind: Literal["done", "completed"]) -> Event:
        """Turn the finished future into an event; non-database exceptions are bugs and propagate."""
        assert self.future is not None and self.step is not None
        step, future = self.step, self.future
        self.future = self.step = None
        exception = future.exception()
        if self.conn.info.transaction_status == TransactionStatus.IDLE:
            if step is COMMIT:
                self.transaction_ended(exception is None and future.result() is None)
            else:  # ROLLBACK, or a callable that ended its transaction somehow
                self.transaction_ended(False if step is ROLLBACK else None)
        if exception is None:
            return Event(self.name, step.name, kind, result=future.result())
        if not isinstance(exception, psycopg.Error):
            raise exception
        message = str(exception).splitlines()[0] if str(exception) else type(exception).__name__
        return Event(self.name, step.name, kind, sqlstate=exception.sqlstate, error=message,
                     exception=exception)

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.conn.close()


class Scheduler:
    """Runs steps of several sessions one at a time, settling after each, and records the trace."""

    def __init__(self, conninfo: str, sessions: int | Sequence[str] = 2,
                 timeouts: Timeouts | None = None) -> None:
        self.conninfo = conninfo
        self.timeouts = timeouts or Timeouts()
        self.names = [f"s{i}" for i in range(sessions)] if isinstance(sessions, int) else list(sessions)
        if len(set(self.names)) != len(self.names) or not self.names:
            raise ValueError(f"session names must be distinct and at least one: {self.names}")
        self._sessions: dict[str, _Session] = {}
        self._blockers: dict[str, set[str]] = {}
        self.trace = Trace()
        self.monitor: psycopg.Connection | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    def open(self) -> Self:
        try:
            self.monitor = psycopg.connect(self.conninfo, autocommit=True)
            self.monitor.execute("SET application_name = 'interleaving monitor'")
            for name in self.names:
                self._sessions[name] = _Session(name, self.conninfo, self.timeouts)
        except BaseException:
            self.close()
            raise
        self._by_pid = {session.pid: session.name for session in self._sessions.values()}
        return self

    def close(self) -> None:
        if self.monitor is not None and not self.monitor.closed:
            self.reset()
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()
        if self.monitor is not None:
            self.monitor.close()

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def connection(self, name: str) -> psycopg.Connection:
        """The session's connection, for setup while the session is idle (never while it runs a step)."""
        session = self._sessions[name]
        if session.busy:
            raise RuntimeError(f"{name} is running {session.step.name}; its connection is in use")
        return session.conn

    def pid(self, name: str) -> int:
        return self._sessions[name].pid

    # -- scheduling ------------------------------------------------------------------------------------

    def waiting(self) -> list[str]:
        """Sessions whose step is blocked (after a settle, every busy session is)."""
        return [name for name, session in self._sessions.items() if session.busy]

    def runnable(self) -> list[str]:
        """Idle sessions that may take a step: while any session waits, only the sessions it waits for."""
        idle = [name for name, session in self._sessions.items() if not session.busy]
        waiting = self.waiting()
        if not waiting:
            return idle
        holders = set().union(*(self._blockers.get(name, set()) for name in waiting))
        return [name for name in idle if name in holders]

    def submit(self, name: str, step: Step) -> list[Event]:
        """Run one step of one session, settle, and return the events it caused (also added to the trace)."""
        if name not in self.runnable():
            raise InterleavingError(
                f"{name}.{step.name} submitted but the runnable sessions are {self.runnable()}", self.trace
            )
        session = self._sessions[name]
        fast = bool(self.waiting())
        session.prepare_deadlock_timeout(step, self.timeouts.deadlock if fast else self.timeouts.lock * 10)
        self.trace.schedule.append(name)
        session.start(step)
        events = self._settle(session)
        self.trace.events.extend(events)
        return events

    def run(self, scenario: Scenario, data: Any = None, *, schedule: Sequence[str] | None = None) -> Trace:
        """Run every step of ``scenario`` between two resets; the next session is drawn by ``data``
        (Hypothesis' ``st.data()``) or taken from ``schedule`` (a recorded ``trace.schedule``). Returns the
        trace."""
        unknown = set(scenario.sessions) - set(self._sessions)
        if unknown:
            raise ValueError(f"scenario sessions {sorted(unknown)} are not among {self.names}")
        if (data is None) == (schedule is None):
            raise ValueError("give exactly one of data (Hypothesis st.data()) or schedule")
        self.reset()
        position = {name: 0 for name in scenario.sessions}
        replay = iter(schedule or ())
        try:
            while True:
                candidates = [name for name in self.runnable()
                              if position.get(name, 0) < len(scenario.sessions.get(name, ()))]
                if not candidates:
                    if self.waiting():
                        raise ScenarioStuck(
                            f"{self._describe_waits()}, and no session they wait for has a step left",
                            self.trace)
                    trace = self.trace
                    self.reset()  # nothing of this example (an open transaction, a lock) reaches the next
                    return trace
                if data is not None:
                    name = data.draw(_choice_among(tuple(candidates)), label="next session")
                else:
                    name = next(replay, None)
                    if name not in candidates:
                        raise NotReplayable(f"schedule says {name!r}, runnable are {candidates}", self.trace)
                self.submit(name, scenario.sessions[name][position[name]])
                position[name] += 1
        except BaseException:
            self.reset()
            raise

    def reset(self) -> None:
        """Cancel every busy step and roll back every session, so the next example inherits no locks."""
        deadline = time.monotonic() + self.timeouts.step
        for session in self._sessions.values():
            while session.busy and not session.future.done() and time.monotonic() < deadline:
                self.monitor.execute("SELECT pg_cancel_backend(%s)", (session.pid,))
                concurrent.futures.wait([session.future], timeout=self.timeouts.poll_max)
            if session.busy and not session.future.done():
                self.monitor.execute("SELECT pg_terminate_backend(%s)", (session.pid,))
                concurrent.futures.wait([session.future], timeout=self.timeouts.step)
            if session.busy:
                session.future = session.step = None
            if session.conn.closed or session.conn.broken:
                session.conn.close()
                session.connect()
                self._by_pid = {s.pid: s.name for s in self._sessions.values()}
            elif session.conn.info.transaction_status != TransactionStatus.IDLE:
                session.conn.execute("ROLLBACK")
                session.transaction_ended(committed=False)
        self._blockers = {}
        self.trace = Trace()

    # -- settling --------------------------------------------------------------------------------------

    def _settle(self, submitted: _Session) -> list[Event]:
        """Wait until every busy session is stably blocked by the scenario; return the events, ordered."""
        deadline = time.monotonic() + self.timeouts.step
        poll = self.timeouts.poll
        finished: dict[str, Event] = {}
        while True:
            busy = [s for s in self._sessions.values() if s.busy]
            done = [s for s in busy if s.future.done()]
            if not done and busy:
                concurrent.futures.wait([s.future for s in busy], timeout=poll,
                                        return_when=concurrent.futures.FIRST_COMPLETED)
                done = [s for s in busy if s.future.done()]
            if done:
                for session in done:
                    kind = "completed" if session.waiting_reported else "done"
                    finished[session.name] = session.finish(kind)
                poll = self.timeouts.poll
                continue
            if not busy:
                break
            blockers = self._query_blockers(busy)
            if any(s.future.done() for s in busy):
                continue  # a step ended while the monitor looked: its answer may be stale
            if all(blockers[s.name] for s in busy) and not self._deadlock_pending(busy, blockers):
                self._blockers = blockers
                break
            if time.monotonic() > deadline:
                self._blockers = blockers
                blocked = {s.name for s in busy if blockers[s.name]}
                self.trace.events.extend(self._ordered(submitted, finished, blocked))
                raise InterleavingTimeout(
                    f"{submitted.name}.{submitted.step.name if submitted.step else '?'} did not settle "
                    f"within {self.timeouts.step}s ({self._describe_waits() or 'sessions still running'})",
                    self.trace)
            poll = min(poll * 2, self.timeouts.poll_max)
        return self._ordered(submitted, finished)

    def _ordered(self, submitted: _Session, finished: dict[str, Event],
                 blocked: set[str] | None = None) -> list[Event]:
        """The submitted step's event first, then the steps it let finish (session order), then new waits."""
        events = []
        if submitted.name in finished:
            events.append(finished.pop(submitted.name))
        events.extend(finished[name] for name in self.names if name in finished)
        for session in sorted(self._sessions.values(), key=lambda s: s is not submitted):
            if session.busy and not session.waiting_reported and (blocked is None or session.name in blocked):
                session.waiting_reported = True
                events.append(Event(session.name, session.step.name, "waiting"))
        return events

    def _query_blockers(self, busy: list[_Session]) -> dict[str, set[str]]:
        rows = self.monitor.execute(
            "SELECT pid, pg_blocking_pids(pid) FROM unnest(%s::int[]) AS pid",
            ([s.pid for s in busy],), prepare=True,
        ).fetchall()
        blockers = {self._by_pid[pid]: {self._by_pid[b] for b in blocking if b in self._by_pid}
                    for pid, blocking in rows}
        now = time.monotonic()
        for session in busy:
            if blockers[session.name] and session.blocked_since is None:
                session.blocked_since = now
        return blockers

    def _deadlock_pending(self, busy: list[_Session], blockers: dict[str, set[str]]) -> bool:
        """True while PostgreSQL still has to act: a waits-for cycle awaits its victim, or a session with
        the short deadlock_timeout has not yet spent its one deadlock check (it could pick a victim later)."""
        if _has_cycle(blockers):
            return True
        now = time.monotonic()
        return any(
            s.deadlock_timeout is not None and s.deadlock_timeout <= self.timeouts.deadlock
            and s.blocked_since is not None and now - s.blocked_since < 2 * self.timeouts.deadlock
            for s in busy
        )

    def _describe_waits(self) -> str:
        return ", ".join(f"{name} waits for {sorted(self._blockers[name])}" if self._blockers.get(name)
                         else f"{name} is running or waits outside the scenario"
                         for name in self.waiting())


@functools.cache  # a new strategy per draw would be validated and labelled per draw: slow
def _choice_among(candidates: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from(candidates)


def _has_cycle(edges: Mapping[str, set[str]]) -> bool:
    """Whether the waits-for graph among the scenario's sessions has a cycle."""
    state: dict[str, int] = {}

    def visit(node: str) -> bool:
        state[node] = 1
        for successor in edges.get(node, ()):
            if state.get(successor) == 1 or (successor not in state and visit(successor)):
                return True
        state[node] = 2
        return False

    return any(node not in state and visit(node) for node in edges)
