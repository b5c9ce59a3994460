"""The 16 MiB state limit (LB608) is inclusive: a state of exactly 16,777,216 bytes, as events.fold_stream measures
it (each key's bytes plus the stored size of its value), still folds, and one byte more is refused. Found by the
mutation run: the limit made exclusive (``>=``) went unnoticed, since contracts/test_fold_state_limit.py stays about
1 MB either side of it.

Sixteen events each add a key of 1,000,000 characters; event 17 writes key ``last`` sized so that the state is
exactly at the limit, event 18 writes ``last`` again one character longer."""
from __future__ import annotations

import psycopg
import pytest

LIMIT = 16 * 1024 * 1024
BIG = 1_000_000
FOLDS = ("events.rehydrate", "events.replay_stream")


def _measure(conn: psycopg.Connection, key: str, length: int) -> int:
    """What one key of the state costs: its name's bytes and its JSON string value's stored size."""
    return conn.execute("SELECT octet_length(%s::text) + pg_column_size(to_jsonb(repeat('x', %s)))",
                        (key, length)).fetchone()[0]


def _append(conn: psycopg.Connection, tenant, key: str, length: int, expected: int) -> None:
    conn.execute("SELECT events.append_event(%s, 'edge', 'CAMPAIGN', 'Grown', jsonb_build_object(%s::text,"
                 " repeat('x', %s)), %s)", (tenant, key, length, expected))


def test_a_state_of_exactly_16_mib_folds_and_one_byte_more_does_not(leadboost_conn, make_tenant):
    conn = leadboost_conn
    tenant = make_tenant(conn)
    used = 0
    for n in range(1, 17):
        _append(conn, tenant, f"k{n}", BIG, n - 1)
        used += _measure(conn, f"k{n}", BIG)
    last = LIMIT - used - _measure(conn, "last", 0)  # the value's stored size grows by one byte per character
    assert used + _measure(conn, "last", last) == LIMIT
    assert used + _measure(conn, "last", last + 1) == LIMIT + 1
    _append(conn, tenant, "last", last, 16)
    _append(conn, tenant, "last", last + 1, 17)
    for fold in FOLDS:
        keys = conn.execute(f"SELECT f.version, (SELECT count(*) FROM jsonb_object_keys(f.state))"
                            f" FROM {fold}(%s, 'edge', 17) AS f", (tenant,)).fetchone()
        assert keys == (17, 17), fold
        with pytest.raises(psycopg.Error) as refused:
            conn.execute(f"SELECT f.version FROM {fold}(%s, 'edge', 18) AS f", (tenant,))
        assert refused.value.sqlstate == "LB608", refused.value
        assert f"would be {LIMIT + 1} bytes" in refused.value.diag.message_primary
