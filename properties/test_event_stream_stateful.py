"""Snapshot equals replay, open-ended: a state machine drives two sessions one step at a time."""
from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from psycopg.types.json import Jsonb

from leadboost_schema.testing import strategies as lb
from leadboost_schema.testing.interleaving import BEGIN, COMMIT, ROLLBACK, Event, Step
from properties.hypothesis_settings import PROPERTY
from properties.models.event_stream import Stream

STREAMS = ("account-1", "account-2")


@dataclass
class Session:
    """What the machine knows of one session: its open transaction's appends, the versions it last saw."""

    in_transaction: bool = False
    aborted: bool = False
    appends: list[tuple[str, dict, int, int]] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    pending: tuple | None = None


def test_a_state_machine_of_appends_snapshots_and_cleanups_keeps_replay_exact(two_sessions, leadboost_conn,
                                                                             make_tenant):
    """Invariant (snapshot equals replay, stateful): after every step of any sequence of begins, appends
    (current or stale expected version), snapshots, rehydrations, commits, rollbacks and cleanups by two
    sessions: committed events equal the model replayed in commit order, versions have no gaps, a committed
    append's version is its expected version + 1, and rehydrating every stream equals its full replay."""
    scheduler, conn = two_sessions, leadboost_conn

    class EventStreams(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            scheduler.reset()
            self.tenant = make_tenant(conn)
            self.streams = {name: Stream() for name in STREAMS}
            self.sessions = {name: Session() for name in scheduler.names}

        def submit(self, data, step: Step, op: tuple) -> None:
            name = data.draw(st.sampled_from(scheduler.runnable()), label="session")
            self.sessions[name].pending = op
            for event in scheduler.submit(name, step if not callable(step) else step(name)):
                if event.finished:
                    self.finished(event)

        def finished(self, event: Event) -> None:
            session = self.sessions[event.session]
            op, session.pending = session.pending, None
            if event.failed:
                session.aborted = session.in_transaction
                return
            kind = op[0]
            if kind == "begin":
                session.in_transaction, session.aborted, session.appends = True, False, []
            elif kind == "append":
                session.seen[op[1]] = event.result[1]
                session.appends.append((op[1], op[2], *event.result))
                if not session.in_transaction:
                    self.commit(event.session)
            elif kind == "end":
                if event.result is None and op[1] == "commit" and not session.aborted:
                    self.commit(event.session)
                session.in_transaction, session.appends = False, []
            elif kind == "read" and event.result is not None:
                version, state = event.result
                model = self.streams[op[1]]
                assert version > model.version or state == model.state(version), (
                    f"{event} differs from the replay {model.state(version)}\n{scheduler.trace}")

        def commit(self, name: str) -> None:
            for stream, payload, expected, version in self.sessions[name].appends:
                model_version = self.streams[stream].append(payload, expected)
                assert model_version == version, (
                    f"{name} committed {stream} version {version} expecting {expected}; the model says "
                    f"{model_version}\n{scheduler.trace}")
            self.sessions[name].appends = []

        @precondition(lambda self: any(not s.in_transaction for n, s in self.sessions.items()
                                       if n in scheduler.runnable()))
        @rule(data=st.data())
        def begin(self, data):
            idle = [n for n in scheduler.runnable() if not self.sessions[n].in_transaction]
            name = data.draw(st.sampled_from(idle), label="session")
            self.sessions[name].pending = ("begin",)
            for event in scheduler.submit(name, BEGIN):
                if event.finished:
                    self.finished(event)

        @rule(data=st.data(), stream=st.sampled_from(STREAMS), payload=lb.make_event_payload(),
              stale=st.booleans())
        def append(self, data, stream, payload, stale):
            def step(name):
                def action(conn):
                    expected = max(0, self.sessions[name].seen.get(stream, 0) - stale)
                    return expected, conn.execute(
                        "SELECT events.append_event(%s, %s, 'ACCOUNT', 'Changed', %s, %s)",
                        (self.tenant, stream, Jsonb(payload), expected)).fetchone()[0]
                return Step(f"append {stream} {payload}{' stale' if stale else ''}", action)
            self.submit(data, step, ("append", stream, payload))

        @rule(data=st.data(), stream=st.sampled_from(STREAMS), kind=st.sampled_from(("create_snapshot",
                                                                                      "rehydrate")))
        def read(self, data, stream, kind):
            def action(conn):
                with conn.transaction():  # a savepoint: an unknown stream (LB603) must not abort the session
                    exists = conn.execute("SELECT 1 FROM events.event_store WHERE tenant_id = %s AND"
                                          " stream_id = %s LIMIT 1", (self.tenant, stream)).fetchone()
                    return exists and conn.execute(f"SELECT version, state FROM events.{kind}(%s, %s)",
                                                   (self.tenant, stream)).fetchone()
            self.submit(data, Step(f"{kind} {stream}", action), ("read", stream))

        @precondition(lambda self: any(s.in_transaction for n, s in self.sessions.items()
                                       if n in scheduler.runnable()))
        @rule(data=st.data(), end=st.sampled_from(("commit", "commit", "rollback")))
        def end(self, data, end):
            open_ = [n for n in scheduler.runnable() if self.sessions[n].in_transaction]
            name = data.draw(st.sampled_from(open_), label="session")
            self.sessions[name].pending = ("end", end)
            for event in scheduler.submit(name, COMMIT if end == "commit" else ROLLBACK):
                if event.finished:
                    self.finished(event)

        @rule()
        def cleanup(self):
            conn.execute("SELECT events.cleanup_old_snapshots()")

        @invariant()
        def committed_streams_equal_the_model(self):
            for name, model in self.streams.items():
                payloads = [p for (p,) in conn.execute(
                    "SELECT payload FROM events.event_store WHERE tenant_id = %s AND stream_id = %s"
                    " ORDER BY version", (self.tenant, name))]
                assert payloads == model.events, f"{name}: {payloads} != {model.events}\n{scheduler.trace}"
                if model.version:
                    version, state = conn.execute("SELECT version, state FROM events.rehydrate(%s, %s)",
                                                  (self.tenant, name)).fetchone()
                    assert (version, state) == (model.version, model.state()), f"{name}\n{scheduler.trace}"

        def teardown(self):
            scheduler.reset()

    # Each step also checks the invariant with queries: half the profile's examples keep it at a few seconds.
    run_state_machine_as_test(EventStreams, settings=settings(
        PROPERTY, max_examples=max(10, settings.default.max_examples // 2)))
