"""Direct DML against the balance rule: any sequence of header and leg INSERTs, SET CONSTRAINTS statements and
savepoints, by the owner or by leadboost_app after the troubleshooting GRANT block, never commits an unbalanced
posting, and the stored balances equal the legs after it (issue 17.1, issue 14.1)."""
from __future__ import annotations

import uuid

import psycopg
from hypothesis import event, given
from hypothesis import strategies as st

from properties.hypothesis_settings import PROPERTY, find_counterexample

# The troubleshooting block's table grant (the function grant does not matter here).
GRANT = "GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA iam, finanzas TO leadboost_app"
TARGETS = ("ALL", "finanzas.transactions_balanced", "finanzas.ledger_entries_balanced")
# What a step may be refused with: the balance rule fired early (LB105/LB106), a leg before its header or a header
# twice (23503/23505), a ROLLBACK TO without a savepoint (3B001).
REFUSALS = {"LB105", "LB106", "23503", "23505", "3B001"}

slot = st.sampled_from((0, 0, 0, 1))  # mostly the posting the sequence opens
# Mostly legs of 7, so that debits and credits often balance; sometimes the attack's 1,000,000.
leg = st.tuples(st.just("leg"), slot, st.sampled_from(("CASH", "REVENUE")), st.sampled_from((7, 7, 7, 1000000)),
                st.sampled_from((1, -1)))
step = st.one_of(
    st.tuples(st.just("header"), st.just(1)), leg, leg,
    *[st.tuples(st.just("set constraints"), st.sampled_from(TARGETS),
                st.sampled_from(("IMMEDIATE", "IMMEDIATE", "DEFERRED")))] * 2,
    st.tuples(st.just("savepoint")), st.tuples(st.just("rollback to savepoint")))


def run_step(conn: psycopg.Connection, tenant: uuid.UUID, ids: dict[int, uuid.UUID], op: tuple) -> None:
    kind = op[0]
    if kind == "header":
        conn.execute("INSERT INTO finanzas.transactions (id, tenant_id, currency) VALUES (%s, %s, 'EUR')",
                     (ids[op[1]], tenant))
    elif kind == "leg":
        conn.execute("INSERT INTO finanzas.ledger_entries (tenant_id, transaction_id, account_type, amount,"
                     " direction, currency) VALUES (%s, %s, %s, %s, %s, 'EUR')", (tenant, ids[op[1]], *op[2:]))
    elif kind == "set constraints":
        conn.execute(f"SET CONSTRAINTS {op[1]} {op[2]}")
    elif kind == "savepoint":
        conn.execute("SAVEPOINT s")
    else:
        conn.execute("ROLLBACK TO SAVEPOINT s")


def check_committed_means_balanced(conn: psycopg.Connection, tenant: uuid.UUID, writer: str, ops: list) -> None:
    ids = {0: uuid.uuid4(), 1: uuid.uuid4()}
    if writer == "leadboost_app":
        conn.execute("SET ROLE leadboost_app")
    conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant),))
    try:
        conn.execute("BEGIN")
        try:
            for op in ops:
                run_step(conn, tenant, ids, op)
            conn.execute("COMMIT")
            committed = True
        except psycopg.Error as error:
            assert error.sqlstate in REFUSALS, f"unexpected {error.sqlstate}: {error}"
            conn.execute("ROLLBACK")
            committed = False
    finally:
        conn.execute("RESET ROLE")
        conn.execute("RESET app.tenant_id")
    unbalanced = conn.execute(
        "SELECT t.id, count(e.id), coalesce(sum(e.amount * e.direction), 0) FROM finanzas.transactions AS t"
        " LEFT JOIN finanzas.ledger_entries AS e ON (e.tenant_id, e.transaction_id) = (t.tenant_id, t.id)"
        " WHERE t.tenant_id = %s GROUP BY t.id"
        " HAVING count(e.id) < 2 OR coalesce(sum(e.amount * e.direction), 0) <> 0", (tenant,)).fetchall()
    assert unbalanced == [], f"committed an unbalanced posting: {unbalanced} after {ops}"
    stored = set(conn.execute("SELECT account_type, balance FROM finanzas.account_balances WHERE tenant_id = %s",
                              (tenant,)).fetchall())
    legs = set(conn.execute("SELECT account_type, sum(amount * direction) FROM finanzas.ledger_entries"
                            " WHERE tenant_id = %s GROUP BY account_type", (tenant,)).fetchall())
    assert stored == legs, f"stored balances {stored} differ from the legs {legs} after {ops}"
    event(f"{'committed' if committed else 'refused'}, {'with' if legs else 'without'} legs")


BALANCED = [("header", 0), ("leg", 0, "CASH", 7, 1), ("leg", 0, "REVENUE", 7, -1)]


@st.composite
def ops_strategy(draw) -> list[tuple]:
    """A balanced posting written statement by statement (or nothing), with up to 4 further steps — SET
    CONSTRAINTS, savepoints, more legs, a second header — each inserted at any point of it."""
    ops = list(draw(st.sampled_from((BALANCED, BALANCED, []))))
    for extra in draw(st.lists(step, max_size=4)):
        ops.insert(draw(st.integers(0, len(ops))), extra)
    return ops


writers = st.sampled_from(("owner", "leadboost_app"))


@PROPERTY
@given(ops=ops_strategy(), writer=writers)
def test_no_sequence_of_inserts_and_set_constraints_commits_an_unbalanced_posting(leadboost_conn, make_tenant,
                                                                                 ops, writer):
    """Invariant: for any sequence of header inserts, leg inserts, SET CONSTRAINTS (ALL or either balance trigger,
    IMMEDIATE or DEFERRED) and savepoints, by the owner or by leadboost_app after the GRANT block: if the
    transaction commits, every posting of the tenant has at least two legs summing to zero; committed or not,
    the stored balances equal the sums of the legs."""
    leadboost_conn.execute(GRANT)
    check_committed_means_balanced(leadboost_conn, make_tenant(leadboost_conn), writer, ops)


def test_without_the_per_leg_check_the_property_fails(leadboost_conn, make_tenant):
    """The property can fail: with only the header's deferred check (release 1.0.0's design), Hypothesis finds a
    sequence that fires it early and then adds a leg."""
    leadboost_conn.execute(GRANT)
    leadboost_conn.execute("ALTER TABLE finanzas.ledger_entries DISABLE TRIGGER ledger_entries_balanced")
    failure = find_counterexample(
        lambda data: check_committed_means_balanced(leadboost_conn, make_tenant(leadboost_conn),
                                                    data.draw(writers), data.draw(ops_strategy())),
        match="committed an unbalanced posting")
    assert "set constraints" in str(failure) and "IMMEDIATE" in str(failure)
