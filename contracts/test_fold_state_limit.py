"""The 16 MiB state limit (LB608) is on the state at the version asked for: events.fold_stream estimates the size
from each key's last write up to that version (after the snapshot it starts from), so a stream whose later events
outgrow the limit still folds at its earlier versions, and a later event removing a key brings it back under.

Each event adds one key of about 1 MB (repeat() on the server, so nothing large crosses the wire and TOAST stores
it compressed): 16 such keys fit in 16 MiB, 17 do not."""
from __future__ import annotations

import psycopg
import pytest

KEY_BYTES = 1_040_000  # 16 keys: 16.6 MB (fits 16 MiB = 16,777,216 bytes); 17 keys: 17.7 MB (does not)
FOLDS = ("events.rehydrate", "events.replay_stream")  # from the latest snapshot at or below the version; from 1


def grow(conn: psycopg.Connection, tenant, events: int) -> None:
    """Events 1..events, event n adding key k<n> of KEY_BYTES characters."""
    conn.execute("SELECT events.append_event(%s, 'big', 'CAMPAIGN', 'Grown',"
                 " jsonb_build_object('k' || n, repeat('x', %s)), n - 1) FROM generate_series(1, %s) AS n",
                 (tenant, KEY_BYTES, events))


def folded_keys(conn: psycopg.Connection, fold: str, tenant, version: int) -> tuple[int, list[str]]:
    """The version folded and the state's keys (the state itself stays on the server)."""
    return conn.execute(f"SELECT f.version, ARRAY(SELECT jsonb_object_keys(f.state) ORDER BY 1)"
                        f" FROM {fold}(%s, 'big', %s) AS f", (tenant, version)).fetchone()


def keys(*numbers: int) -> list[str]:
    return sorted(f"k{n}" for n in numbers)


def assert_over_the_limit(conn: psycopg.Connection, fold: str, tenant, version: int) -> None:
    with pytest.raises(psycopg.Error) as raised:
        folded_keys(conn, fold, tenant, version)
    assert raised.value.sqlstate == "LB608", raised.value
    assert f"at version {version} would be" in str(raised.value), raised.value


def test_the_state_limit_applies_to_the_version_folded(leadboost_conn, make_tenant):
    """Rule: folding at version v raises LB608 exactly when the state AT v (each key's last write up to v, JSON
    nulls removed) exceeds 16 MiB — events after v never count, whether the fold starts from the first event
    (replay_stream) or from a snapshot below v (rehydrate)."""
    tenant = make_tenant(leadboost_conn)
    grow(leadboost_conn, tenant, 17)
    leadboost_conn.execute("SELECT events.create_snapshot(%s, 'big', 8)", (tenant,))
    for fold in FOLDS:
        for version in (1, 8, 16):  # later events would push the state over the limit: they must not count
            assert folded_keys(leadboost_conn, fold, tenant, version) == (version, keys(*range(1, version + 1)))
        assert_over_the_limit(leadboost_conn, fold, tenant, 17)

    # Event 18 removes k1: the state at 18 is k2..k17 (16 keys) and fits; at 17 it still does not.
    leadboost_conn.execute("SELECT events.append_event(%s, 'big', 'CAMPAIGN', 'Shrunk', '{\"k1\": null}', 17)",
                           (tenant,))
    for fold in FOLDS:
        assert folded_keys(leadboost_conn, fold, tenant, 18) == (18, keys(*range(2, 18)))
        assert_over_the_limit(leadboost_conn, fold, tenant, 17)
