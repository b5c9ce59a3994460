"""Stored balances arrive in two upgrades (issue 12): 0003 installs the leg trigger and records the backfill's
boundary under its lock on the ledger, 0004 backfills the legs up to the boundary and only then points
finanzas.account_balances at the shards. A 1.0.0 database stopped between the two reads the same balances as the sum
over its legs, and every leg is counted once in the shards after 0004 — also when a posting to the same account is
open while 0004 runs (0004 takes another shard instead of waiting for it, and the posting's legs are not lost)."""
from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest

from contracts.test_ledger_balances import LEGS
from contracts.test_psql_master import psql
from contracts.test_upgrade_from_1_0_0 import release_1_0_0  # noqa: F401 — the session fixture
from leadboost_schema.databases.sql_files import apply_sql_file
from leadboost_schema.paths import schema_dir
from leadboost_schema.testing.release_data import fill_release_data
from leadboost_schema.upgrades.files import load

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not (REPO / ".git").exists(), reason="not a git checkout: 1.0.0 is read from git")
TRIGGER_FILE, BACKFILL_FILE = 3, 4  # 0003 installs the leg trigger, 0004 backfills and switches the view


def apply_upgrades(conn: psycopg.Connection, numbers: range) -> None:
    """Apply the upgrade files numbered in ``numbers`` as 000 would: a 'transaction: file' one in one transaction."""
    for upgrade in load(schema_dir()):
        if upgrade.number in numbers:
            if upgrade.in_transaction:
                with conn.transaction():
                    apply_sql_file(conn, upgrade.path)
            else:
                apply_sql_file(conn, upgrade.path)


@pytest.fixture
def between(leadboost_server, empty_dsn, release_1_0_0) -> tuple[str, list[uuid.UUID]]:  # noqa: F811
    """A filled 1.0.0 database upgraded up to the file that installs the leg trigger, not further."""
    for script in ("000_master_migration.sql", "008_seed_data.sql"):
        done = psql(leadboost_server, empty_dsn, "-q", "-f", script, cwd=release_1_0_0)
        assert done.returncode == 0, done.stderr
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        tenants = fill_release_data(conn, tenants=2, rounds=15)
        apply_upgrades(conn, range(1, TRIGGER_FILE + 1))
    return empty_dsn, tenants


# Per account and currency (the filled data posts EUR and USD): balance, debits, credits, legs.
FROM_VIEW = ("SELECT account_type, currency, balance, total_debits, total_credits, entry_count"
             " FROM finanzas.account_balances WHERE tenant_id = %s")
FROM_SHARDS = ("SELECT account_type, currency, sum(total_debits) - sum(total_credits), sum(total_debits),"
               " sum(total_credits), sum(entry_count) FROM finanzas.account_balance_shards WHERE tenant_id = %s"
               " GROUP BY account_type, currency")
FROM_LEGS = ("SELECT account_type, currency, sum(amount * direction),"
             " coalesce(sum(amount) FILTER (WHERE direction = 1), 0),"
             " coalesce(sum(amount) FILTER (WHERE direction = -1), 0), count(*) FROM finanzas.ledger_entries"
             " WHERE tenant_id = %s AND id > %s GROUP BY account_type, currency")


def totals(conn: psycopg.Connection, query: str, *args) -> dict:
    return {tuple(row[:2]): tuple(row[2:]) for row in conn.execute(query, args)}


def from_legs(conn: psycopg.Connection, tenant: uuid.UUID, after_id: int = 0) -> dict:
    return totals(conn, FROM_LEGS, tenant, after_id)


def post_and_reverse(conn: psycopg.Connection, tenant: uuid.UUID) -> None:
    posting = conn.execute("SELECT finanzas.post_transaction(%s, %s)", (tenant, LEGS)).fetchone()[0]
    conn.execute("SELECT finanzas.reverse_transaction(%s, %s)", (tenant, posting))
    conn.execute("SELECT finanzas.post_transaction(%s, %s)", (tenant, LEGS))


def test_between_the_two_upgrades_balances_are_the_sum_over_the_legs(between):
    dsn, tenants = between
    with psycopg.connect(dsn, autocommit=True) as conn:
        boundary = conn.execute("SELECT last_value FROM finanzas.account_balances_backfill_boundary").fetchone()[0]
        assert boundary == conn.execute("SELECT max(id) FROM finanzas.ledger_entries").fetchone()[0]
        for tenant in tenants:
            post_and_reverse(conn, tenant)
        for tenant in tenants:
            assert totals(conn, FROM_VIEW, tenant) == from_legs(conn, tenant)
            # The trigger counted exactly the legs posted after the boundary; the older ones wait for 0004.
            assert totals(conn, FROM_SHARDS, tenant) == from_legs(conn, tenant, boundary)


def test_after_the_backfill_every_leg_is_in_the_shards_once_even_with_a_posting_open(between):
    dsn, tenants = between
    with psycopg.connect(dsn, autocommit=True) as conn, psycopg.connect(dsn) as open_posting:
        for tenant in tenants:
            post_and_reverse(conn, tenant)
        # Holds the advisory lock of shard 0 of each account it posts to until it commits, while 0004 runs.
        open_posting.execute("SELECT finanzas.post_transaction(%s, %s)", (tenants[0], LEGS))
        apply_upgrades(conn, range(BACKFILL_FILE, BACKFILL_FILE + 1))
        open_posting.commit()
        for tenant in tenants:
            post_and_reverse(conn, tenant)
        for tenant in tenants:
            assert totals(conn, FROM_VIEW, tenant) == from_legs(conn, tenant)
            assert totals(conn, FROM_SHARDS, tenant) == from_legs(conn, tenant)
        assert conn.execute("SELECT to_regclass('finanzas.account_balances_backfill_boundary')").fetchone()[0] is None
        # The guard 0004 relaxed inside its own transaction refuses direct writes again.
        with pytest.raises(psycopg.Error) as refused:
            conn.execute("UPDATE finanzas.account_balance_shards SET entry_count = entry_count + 1")
        assert refused.value.sqlstate == "LB112"
