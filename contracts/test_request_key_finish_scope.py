"""What finishing a key may touch (found by the mutation run: sys.complete_request_key's UPDATE could lose its tenant
condition with every other test passing). sys.complete_request_key and sys.fail_request_key change the row of their
own (tenant, key) and nothing else: not another key of the tenant, not the key of the same name of another tenant,
whatever state those rows are in.
"""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from psycopg.types.json import Jsonb

from leadboost_schema.testing.attempts import attempt

T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
S = dt.timedelta(seconds=1)
LEASE, TTL = 60 * S, dt.timedelta(days=1)
CLAIM = "SELECT lock_token FROM sys.claim_request_key(%s, %s, '{\"order\": 7}', %s, %s, %s)"
FINISH = {
    "complete": "SELECT sys.complete_request_key(%s, %s, %s, %s, %s)",
    "fail": "SELECT sys.fail_request_key(%s, %s, %s, %s, %s)",
}
STATES = ("LIVE", "LAPSED", "FAILED", "COMPLETED", "EXPIRED")


def _key(conn, tenant: uuid.UUID, key: str, state: str) -> uuid.UUID:
    """A key in ``state`` at T0 + 10 s (LIVE: PROCESSING with a running lease; LAPSED: lease over; FAILED;
    COMPLETED; EXPIRED: past its TTL); returns the lock token of its claim."""
    lease = S if state == "LAPSED" else LEASE
    ttl = S if state == "EXPIRED" else TTL
    token = conn.execute(CLAIM, (tenant, key, lease, ttl, T0)).fetchone()[0]
    if state == "FAILED":
        conn.execute(FINISH["fail"], (tenant, key, token, "boom", T0))
    elif state == "COMPLETED":
        conn.execute(FINISH["complete"], (tenant, key, token, Jsonb({"ok": 1}), T0))
    return token


def _rows(conn) -> dict[tuple[uuid.UUID, str], dict]:
    return {(tenant, key): row for tenant, key, row in conn.execute(
        "SELECT tenant_id, idempotency_key, to_jsonb(r) FROM sys.request_keys AS r")}


@pytest.mark.parametrize("finish", list(FINISH))
@pytest.mark.parametrize("others", STATES)
def test_finishing_a_key_changes_no_row_but_its_own(leadboost_conn, make_tenant, finish, others):
    """Rule: completing or failing (tenant, key) with its claim's token changes that row only — the same key of
    another tenant and the tenant's other keys, here all in state ``others``, stay as they were."""
    tenant, other = make_tenant(leadboost_conn), make_tenant(leadboost_conn)
    token = _key(leadboost_conn, tenant, "k", "LIVE")
    for state in STATES:
        _key(leadboost_conn, tenant, f"other-{state}", state)
    _key(leadboost_conn, other, "k", others)
    before = _rows(leadboost_conn)
    argument = Jsonb({"done": True}) if finish == "complete" else "it broke"
    result = attempt(leadboost_conn, FINISH[finish], (tenant, "k", token, argument, T0 + 10 * S))
    after = _rows(leadboost_conn)
    assert result.error is None, str(result)
    assert after[tenant, "k"]["status"] == ("COMPLETED" if finish == "complete" else "FAILED")
    changed = {row for row in before.keys() | after.keys() if before.get(row) != after.get(row)}
    assert changed == {(tenant, "k")}, f"{finish} of k changed {sorted(changed, key=str)}"
