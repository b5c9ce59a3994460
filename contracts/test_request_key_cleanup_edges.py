"""Which keys sys.cleanup_expired_request_keys removes, at the microsecond (found by the mutation run: cleanup could
spare every key whose lease end lies ahead — finished ones included — with every other test passing).

A key past its TTL (expires_at <= p_now) is removed unless it is PROCESSING with a live lease (lease_expires_at >
p_now): a COMPLETED or FAILED key past its TTL goes even when its claim's lease would still run (a lease may outlive
the TTL), and so does a PROCESSING key whose lease has just ended. A key before its TTL always stays.
"""
from __future__ import annotations

import datetime as dt

import pytest
from psycopg.types.json import Jsonb

T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
S = dt.timedelta(seconds=1)
TICK = dt.timedelta(microseconds=1)
CLAIM = "SELECT lock_token FROM sys.claim_request_key(%s, 'k', '{\"order\": 7}', %s, %s, %s)"

# (status, lease, ttl, cleanup moment after the claim, removed?)
CASES = [
    ("COMPLETED", 60 * S, 10 * S, 10 * S, True),           # past its TTL, its claim's lease would still run
    ("FAILED", 60 * S, 10 * S, 10 * S, True),
    ("COMPLETED", 60 * S, 10 * S, 10 * S - TICK, False),   # before its TTL
    ("FAILED", 5 * S, 10 * S, 10 * S - TICK, False),
    ("PROCESSING", 60 * S, 10 * S, 30 * S, False),         # past its TTL, lease live: kept
    ("PROCESSING", 60 * S, 10 * S, 60 * S - TICK, False),  # the lease's last instant
    ("PROCESSING", 60 * S, 10 * S, 60 * S, True),          # the lease has ended
    ("PROCESSING", 5 * S, 10 * S, 10 * S, True),           # lease over before the TTL
    ("PROCESSING", 5 * S, 10 * S, 10 * S - TICK, False),
]


@pytest.mark.parametrize(("status", "lease", "ttl", "after", "removed"), CASES,
                         ids=[f"{c[0]}-lease{c[1].seconds}-ttl{c[2].seconds}-at{c[3]}" for c in CASES])
def test_cleanup_removes_keys_past_their_ttl_except_live_leases(leadboost_conn, make_tenant, status, lease, ttl,
                                                                after, removed):
    """Rule: cleanup at p_now removes a key iff expires_at <= p_now and not (PROCESSING and lease_expires_at >
    p_now), and returns how many it removed."""
    tenant = make_tenant(leadboost_conn)
    token = leadboost_conn.execute(CLAIM, (tenant, lease, ttl, T0)).fetchone()[0]
    if status == "COMPLETED":
        leadboost_conn.execute("SELECT sys.complete_request_key(%s, 'k', %s, %s, %s)",
                               (tenant, token, Jsonb({"ok": 1}), T0 + S))
    elif status == "FAILED":
        leadboost_conn.execute("SELECT sys.fail_request_key(%s, 'k', %s, NULL, %s)", (tenant, token, T0 + S))
    count = leadboost_conn.execute("SELECT sys.cleanup_expired_request_keys(%s)", (T0 + after,)).fetchone()[0]
    left = leadboost_conn.execute("SELECT status FROM sys.request_keys WHERE tenant_id = %s", (tenant,)).fetchall()
    assert (count, left) == ((1, []) if removed else (0, [(status,)]))
