"""The row sys.claim_request_key answers describes the key as the call left it (found by the mutation run: the
``status`` column of a CLAIMED or RECLAIMED answer could say COMPLETED or FAILED on every one of its three paths —
new key, key past its TTL, key taken over — with every other test passing).

A caller acts on the answer without reading the table (the application role cannot read another worker's claim
token and has no reason to re-read its own), so each column must agree with the stored row: ``status`` and
``attempts`` always, ``lock_token`` exactly when the caller now holds the key (CLAIMED/RECLAIMED; NULL otherwise,
so a caller told IN_PROGRESS or COMPLETED cannot finish somebody else's claim), ``response`` exactly when the key is
COMPLETED.
"""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from psycopg.types.json import Jsonb

T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
S = dt.timedelta(seconds=1)
LEASE, TTL = 60 * S, dt.timedelta(days=1)
PAYLOAD = {"order": 7}
RESPONSE = {"ok": True}
CLAIM = ("SELECT outcome, lock_token, status, response, attempts"
         " FROM sys.claim_request_key(%s, 'k', %s, %s, %s, %s)")
STORED = ("SELECT lock_token, status, response, attempts FROM sys.request_keys"
          " WHERE tenant_id = %s AND idempotency_key = 'k'")


def _claim(conn, tenant: uuid.UUID, at: dt.datetime, lease: dt.timedelta = LEASE, ttl: dt.timedelta = TTL) -> tuple:
    return conn.execute(CLAIM, (tenant, Jsonb(PAYLOAD), lease, ttl, at)).fetchone()


def _prepare(conn, tenant: uuid.UUID, state: str) -> None:
    """Leaves key 'k' in ``state`` as seen at T0 + 10 s (NEW: no row at all)."""
    if state == "NEW":
        return
    ttl = S if state == "EXPIRED" else TTL
    lease = S if state == "LAPSED" else LEASE
    _, token, _, _, _ = _claim(conn, tenant, T0, lease=lease, ttl=ttl)
    if state == "FAILED":  # EXPIRED stays PROCESSING under a live lease: only its TTL frees it
        conn.execute("SELECT sys.fail_request_key(%s, 'k', %s, 'boom', %s)", (tenant, token, T0))
    elif state == "COMPLETED":
        conn.execute("SELECT sys.complete_request_key(%s, 'k', %s, %s, %s)", (tenant, token, Jsonb(RESPONSE), T0))


PATHS = [("NEW", "CLAIMED"), ("EXPIRED", "CLAIMED"), ("FAILED", "RECLAIMED"), ("LAPSED", "RECLAIMED"),
         ("LIVE", "IN_PROGRESS"), ("COMPLETED", "COMPLETED")]


@pytest.mark.parametrize(("state", "told"), PATHS, ids=[state for state, _ in PATHS])
def test_the_claims_answer_is_the_stored_key(leadboost_conn, make_tenant, state, told):
    """Rule: whatever state the key was in, the answer's status and attempts are the stored row's; its lock_token is
    the stored token exactly when the caller was given the key (CLAIMED/RECLAIMED) and NULL otherwise; its response
    is the stored response exactly when the key is COMPLETED."""
    tenant = make_tenant(leadboost_conn)
    _prepare(leadboost_conn, tenant, state)
    outcome, token, status, response, attempts = _claim(leadboost_conn, tenant, T0 + 10 * S)
    stored_token, stored_status, stored_response, stored_attempts = leadboost_conn.execute(STORED,
                                                                                           (tenant,)).fetchone()
    assert outcome == told
    assert (status, attempts) == (stored_status, stored_attempts)
    holds_the_key = outcome in ("CLAIMED", "RECLAIMED")
    assert token == (stored_token if holds_the_key else None) and (token is not None) == holds_the_key
    assert response == (stored_response if stored_status == "COMPLETED" else None)
    assert (response is not None) == (stored_status == "COMPLETED")
