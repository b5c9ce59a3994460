"""gobernanza.validate_action and gobernanza.record_action_outcome lock the policy rows they need in one global order
(by id, schema/004: "always in id order so concurrent validators cannot deadlock"; record_action_outcome: "Lock in id
order (as validate_action does)"), so no interleaving of the two calls deadlocks (found by the mutation run: either
order could be reversed, or record_action_outcome's up-front lock dropped — its UPDATE then locks in scan order —
with every other test passing).

A wrong order shows only when each call holds a row the other wants, so the interleaving is pinned down, as
PostgreSQL's isolation tester would: a third session holds one policy row; the first call is started and seen
waiting on it (pg_blocking_pids, never a sleep), having locked the rows before it in its order; the second call is
started and seen waiting (or returning); the third session commits. In one global order the first call then gets
every row it needs and the second follows: both answer; in two different orders they wait for each other and one
ends with 40P01. The rows are written in descending id order, so a scan that ignores the id order meets them
highest id first.
"""
from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest

from leadboost_schema.testing.held_lock import run_behind_held_lock

ACTION = "ads.spend"
AT = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
EARLIER = AT - dt.timedelta(days=1)
INSERT = ("INSERT INTO gobernanza.policies (id, tenant_id, name, policy_type, action, limit_value, window_seconds,"
          " failure_threshold, cooldown_seconds, breaker_state, breaker_changed_at, valid_from)"
          " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
CALLS = {
    "validate": ("SELECT allowed, reason FROM gobernanza.validate_action(%s, %s, 1, %s)", (True, "ALLOWED")),
    "record": ("SELECT count(*) FROM gobernanza.record_action_outcome(%s, %s, false, %s)", None),
}
KINDS = {"B": "CIRCUIT_BREAKER", "S": "SPEND_LIMIT", "R": "RATE_LIMIT"}


def _policies(conn, tenant: uuid.UUID, kinds: str) -> list[uuid.UUID]:
    """Policies of ``kinds`` (B breaker, S spend cap, R rate cap) in ascending id order, all in force for ACTION
    (the last one for '*'), inserted highest id first."""
    ids = sorted(uuid.uuid4() for _ in kinds)
    for k in reversed(range(len(kinds))):
        kind = KINDS[kinds[k]]
        cap = (1000, 3600) if kind != "CIRCUIT_BREAKER" else (None, None)
        breaker = (100, 60, "CLOSED", EARLIER) if kind == "CIRCUIT_BREAKER" else (None, None, None, None)
        action = "*" if k == len(kinds) - 1 else ACTION
        conn.execute(INSERT, (ids[k], tenant, f"p{k}", kind, action, *cap, *breaker, EARLIER))
    return ids


# (policies in id order, the one the third session holds, the call started first, the call started second)
SCHEDULES = [
    ("BSB", 1, "validate", "record"),   # validate holds the first breaker, record would take the second first
    ("BSB", 2, "record", "validate"),
    ("BBB", 1, "record", "validate"),   # record holds the first breaker, validate would take the last first
    ("BBB", 1, "validate", "record"),
    ("BRBSB", 3, "validate", "record"),
    ("BRBSB", 2, "record", "validate"),
]


@pytest.mark.parametrize(("kinds", "held", "first", "second"), SCHEDULES,
                         ids=[f"{k}-hold{h}-{a}-then-{b}" for k, h, a, b in SCHEDULES])
def test_validate_and_record_outcome_never_deadlock(leadboost_dsn, make_tenant, kinds, held, first, second):
    """Rule: validate_action and record_action_outcome take their row locks in one global order (policy id), so
    whatever row a third transaction holds and whichever call starts first, both calls end normally once it
    commits — neither ends with 40P01 (deadlock) nor any other error."""
    with psycopg.connect(leadboost_dsn, autocommit=True) as observer:
        tenant = make_tenant(observer)
        ids = _policies(observer, tenant, kinds)
    calls = [(name, CALLS[name][0], (tenant, ACTION, AT)) for name in (first, second)]
    seen, answers = run_behind_held_lock(
        leadboost_dsn, "SELECT 1 FROM gobernanza.policies WHERE id = %s FOR UPDATE", (ids[held],), calls)
    breakers = kinds.count("B")
    assert seen[0] == (first, "waiting"), seen  # the first call needs the held row
    assert answers == {"validate": (True, "ALLOWED"), "record": (breakers,)}, f"{seen}: {answers}"
