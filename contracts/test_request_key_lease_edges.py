"""A key in progress is held until its HOLDER's lease ends, whatever lease a later caller asks for, at the
microsecond (issue 13, behaviour 9: judging by the new caller's lease passed the suite; the property
properties/test_request_keys.py::test_each_claim_is_judged_by_its_own_lease_and_cleanup_spares_live_leases needs
a rare sequence to tell them apart). sys.claim_request_key."""
from __future__ import annotations

import datetime as dt

import pytest
from psycopg.types.json import Jsonb

T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
S = dt.timedelta(seconds=1)
TICK = dt.timedelta(microseconds=1)
TTL = dt.timedelta(days=1)


def _claim(conn, tenant, lease: dt.timedelta, at: dt.datetime):
    return conn.execute("SELECT outcome, attempts FROM sys.claim_request_key(%s, 'k', %s, %s, %s, %s)",
                        (tenant, Jsonb({"n": 1}), lease, TTL, at)).fetchone()


# (holder's lease, the caller's lease, when the caller comes after the claim, what the caller is told)
CASES = [
    (60 * S, 10 * S, 20 * S, ("IN_PROGRESS", 1)),        # the caller's shorter lease would have ended: still held
    (60 * S, 10 * S, 60 * S - TICK, ("IN_PROGRESS", 1)),  # the holder's last instant
    (60 * S, 10 * S, 60 * S, ("RECLAIMED", 2)),           # the holder's lease ends: taken over
    (10 * S, 60 * S, 20 * S, ("RECLAIMED", 2)),           # the caller's longer lease would still run: taken over
    (10 * S, 60 * S, 10 * S, ("RECLAIMED", 2)),
    (10 * S, 60 * S, 10 * S - TICK, ("IN_PROGRESS", 1)),
]


@pytest.mark.parametrize(("held", "asked", "after", "told"), CASES)
def test_a_key_in_progress_is_judged_by_its_holders_lease(leadboost_conn, make_tenant, held, asked, after, told):
    tenant = make_tenant(leadboost_conn)
    assert _claim(leadboost_conn, tenant, held, T0) == ("CLAIMED", 1)
    assert _claim(leadboost_conn, tenant, asked, T0 + after) == told
    lease_end = leadboost_conn.execute("SELECT lease_expires_at FROM sys.request_keys WHERE tenant_id = %s",
                                       (tenant,)).fetchone()[0]
    assert lease_end == (T0 + held if told[0] == "IN_PROGRESS" else T0 + after + asked)
