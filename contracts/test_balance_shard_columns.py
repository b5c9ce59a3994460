"""Every column of the stored balances equals the legs, exactly, for every (tenant, account, currency) and across
shards (finanzas.add_leg_to_balances; issue 14's stored balance, issue 13's mutation run: a CASE constant, a
count step, a key column of the UPDATE or the insert-if-missing branch changed was caught only by a Hypothesis
property, after minutes of shrinking).

The rule, checked on the whole shard table after each step: summed over an account's shards, total_debits is the
sum of its debit legs' amounts, total_credits of its credit legs', entry_count the number of its legs and
last_posted_at the latest posted_at; and no shard row exists for an account without legs. The postings mix
directions, amounts, two tenants and two currencies on one account type, and a second shard is made by a posting
while another transaction holds the first (it never waits: the shard lock is only tried), so a later posting must
add to one shard only.
"""
from __future__ import annotations

import psycopg

SHARDS = """
SELECT tenant_id, account_type, currency, sum(total_debits), sum(total_credits), sum(entry_count)::bigint,
       max(last_posted_at)
  FROM finanzas.account_balance_shards GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
LEGS = """
SELECT tenant_id, account_type, currency, coalesce(sum(amount) FILTER (WHERE direction = 1), 0),
       coalesce(sum(amount) FILTER (WHERE direction = -1), 0), count(*), max(posted_at)
  FROM finanzas.ledger_entries GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""


def _legs(*legs: tuple[str, str, int]) -> str:
    """The legs document as JSON text, amounts as exact JSON numbers."""
    return "[" + ", ".join(f'{{"account_type": "{a}", "amount": {m}, "direction": {d}}}' for a, m, d in legs) + "]"


def _post(conn: psycopg.Connection, tenant, legs: str, currency: str = "EUR") -> None:
    conn.execute("SELECT finanzas.post_transaction(%s, %s::jsonb, %s)", (tenant, legs, currency))


def _assert_balances_equal_legs(conn: psycopg.Connection) -> None:
    assert conn.execute(SHARDS).fetchall() == conn.execute(LEGS).fetchall()


def test_every_balance_column_equals_the_legs_after_each_posting(leadboost_conn, make_tenant) -> None:
    """After every posting (each committed on its own), summed shards equal the legs column by column."""
    first, second = make_tenant(leadboost_conn), make_tenant(leadboost_conn)
    steps = [
        (first, _legs(("CASH", "100", 1), ("REVENUE", "100", -1)), "EUR"),
        (first, _legs(("CASH", "2.5", -1), ("EXPENSE", "2.5", 1)), "EUR"),
        (first, _legs(("CASH", "7", 1), ("CASH", "3", 1), ("REVENUE", "10", -1)), "EUR"),
        (second, _legs(("CASH", "40", 1), ("REVENUE", "40", -1)), "EUR"),
        (first, _legs(("CASH", "0.0001", 1), ("REVENUE", "0.0001", -1)), "USD"),
        (second, _legs(("REVENUE", "5", 1), ("CASH", "5", -1)), "EUR"),
    ]
    for tenant, legs, currency in steps:
        _post(leadboost_conn, tenant, legs, currency)
        _assert_balances_equal_legs(leadboost_conn)


def test_a_posting_adds_to_one_shard_only_once_an_account_has_two(leadboost_conn, leadboost_dsn, make_tenant) -> None:
    """A posting made while another transaction holds shard 0 of the account goes to shard 1 without waiting; a
    later posting adds to one shard, so the sums still equal the legs."""
    tenant = make_tenant(leadboost_conn)
    # A posting never waits for a row and never loops for long: a change that made it do either fails here within
    # seconds instead of hanging on the holder below (which commits only after it).
    leadboost_conn.execute("SET lock_timeout = '5s'")
    leadboost_conn.execute("SET statement_timeout = '20s'")
    _post(leadboost_conn, tenant, _legs(("CASH", "1", 1), ("REVENUE", "1", -1)))
    with psycopg.connect(leadboost_dsn) as holder:
        _post(holder, tenant, _legs(("CASH", "10", 1), ("REVENUE", "10", -1)))  # open: holds shard 0's lock
        _post(leadboost_conn, tenant, _legs(("CASH", "100", 1), ("REVENUE", "100", -1)))
        holder.commit()
    shards = leadboost_conn.execute("SELECT DISTINCT shard FROM finanzas.account_balance_shards"
                                    " WHERE tenant_id = %s ORDER BY shard", (tenant,)).fetchall()
    assert shards == [(0,), (1,)]
    _assert_balances_equal_legs(leadboost_conn)
    _post(leadboost_conn, tenant, _legs(("CASH", "1000", -1), ("REVENUE", "1000", 1)))
    _assert_balances_equal_legs(leadboost_conn)
