"""Issue 17's ledger findings, run as the attacker ran them (the owner, and a login role in leadboost_app after the
source document's troubleshooting GRANT block). Each test failed on release 1.0.0's schema:

* 17.1 an unbalanced posting committed after ``SET CONSTRAINTS … IMMEDIATE`` fired the balance check early;
* 17.3 a leg on another tenant's transaction answered LB108, an unknown id 23503 (an existence oracle);
* 17.4 a reversal header pointing at another tenant's posting blocked its reversal; ``OVERRIDING SYSTEM VALUE``
  took the entry ids other tenants were about to draw;
* 17.6 transaction ids were one namespace across tenants (LB111 for another tenant's id; a wait on its open one);
* 17.7 identical concurrent retries of ``post_transaction`` sometimes got 23505;
* 17.11 a ``reverse_transaction`` retried after its answer was lost got LB110 and no id.
"""
from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable

import psycopg
import pytest

from contracts.test_document_queries import GRANT_APP
from contracts.test_document_queries import run as run_block

LEGS = json.dumps([{"account_type": "CASH", "amount": 7, "direction": 1},
                   {"account_type": "REVENUE", "amount": 7, "direction": -1}])
HEADER = "INSERT INTO finanzas.transactions (id, tenant_id, currency) VALUES (%s, %s, 'EUR')"
LEG = ("INSERT INTO finanzas.ledger_entries (tenant_id, transaction_id, account_type, amount, direction, currency)"
       " VALUES (%s, %s, %s, %s, %s, 'EUR')")
WRITERS = ["owner", "leadboost_app after the GRANT block"]
# SET CONSTRAINTS targets: everything, the header's trigger, the legs' trigger.
TARGETS = ["ALL", "finanzas.transactions_balanced", "finanzas.ledger_entries_balanced"]


def act_as(conn: psycopg.Connection, writer: str, tenant: uuid.UUID) -> None:
    """The session writes as ``writer``, bound to ``tenant``."""
    if writer != "owner":
        run_block(conn, GRANT_APP)
        conn.execute("SET ROLE leadboost_app")
    conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant),))


def back_to_owner(conn: psycopg.Connection) -> None:
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.rollback()
    conn.execute("RESET ROLE")
    conn.execute("RESET app.tenant_id")


def failure(action: Callable[[], object]) -> str | None:
    """The SQLSTATE the action raised, or None."""
    try:
        action()
    except psycopg.Error as error:
        return error.sqlstate
    return None


def ledger_of(conn: psycopg.Connection, tenant: uuid.UUID) -> tuple:
    """(headers, legs, stored balance rows) of the tenant, read as the owner (no balance rows: 0, as on 1.0.0)."""
    tables = ["finanzas.transactions", "finanzas.ledger_entries"]
    if conn.execute("SELECT to_regclass('finanzas.account_balance_shards')").fetchone()[0] is not None:
        tables.append("finanzas.account_balance_shards")
    counts = [conn.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = %s", (tenant,)).fetchone()[0]
              for table in tables]
    return (*counts, 0)[:3] if len(counts) == 2 else tuple(counts)


# --- 17.1 ---------------------------------------------------------------------------------------------------------

def attack_steps(tenant: uuid.UUID, posting: uuid.UUID) -> list[tuple[str, tuple]]:
    """The issue's attack: a header, two balanced legs, then one more leg of 1,000,000 debit."""
    return [(HEADER, (posting, tenant)), (LEG, (tenant, posting, "CASH", 7, 1)),
            (LEG, (tenant, posting, "REVENUE", 7, -1)), (LEG, (tenant, posting, "CASH", 1000000, 1))]


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("position", range(5), ids=lambda p: f"set-before-step-{p}")
def test_set_constraints_immediate_at_any_point_cannot_commit_an_unbalanced_posting(
        leadboost_conn, make_tenant, writer, target, position):
    """SET CONSTRAINTS <target> IMMEDIATE before any step of the attack (before the header, between the legs, or
    just before COMMIT): the transaction is refused (LB105/LB106) and leaves no header, leg or balance."""
    conn, tenant = leadboost_conn, make_tenant(leadboost_conn)
    steps = attack_steps(tenant, uuid.uuid4())
    act_as(conn, writer, tenant)
    try:
        conn.execute("BEGIN")

        def attack() -> None:
            for index in range(len(steps) + 1):
                if index == position:
                    conn.execute(f"SET CONSTRAINTS {target} IMMEDIATE")
                if index < len(steps):
                    conn.execute(*steps[index])
            conn.execute("COMMIT")
        refused = failure(attack)
    finally:
        back_to_owner(conn)
    assert refused in {"LB105", "LB106"}, f"the unbalanced posting was not refused ({refused})"
    assert ledger_of(conn, tenant) == (0, 0, 0)


@pytest.mark.parametrize("writer", WRITERS)
def test_an_early_check_inside_a_rolled_back_savepoint_does_not_count(leadboost_conn, make_tenant, writer):
    """The balanced part checked early inside a savepoint that is rolled back, then an unbalancing leg: refused."""
    conn, tenant = leadboost_conn, make_tenant(leadboost_conn)
    header, *balanced, extra = attack_steps(tenant, uuid.uuid4())
    act_as(conn, writer, tenant)
    try:
        conn.execute("BEGIN")

        def attack() -> None:
            for statement, params in (header, *balanced):
                conn.execute(statement, params)
            conn.execute("SAVEPOINT early")
            conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
            conn.execute("ROLLBACK TO SAVEPOINT early")
            conn.execute(*extra)
            conn.execute("COMMIT")
        refused = failure(attack)
    finally:
        back_to_owner(conn)
    assert refused == "LB105"
    assert ledger_of(conn, tenant) == (0, 0, 0)


def test_a_balanced_posting_still_commits_under_set_constraints_immediate(leadboost_conn, make_tenant):
    """The function writes its legs in one statement, so it works whatever the caller set."""
    conn, tenant = leadboost_conn, make_tenant(leadboost_conn)
    act_as(conn, "leadboost_app after the GRANT block", tenant)
    try:
        conn.execute("BEGIN")
        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        conn.execute("SELECT finanzas.post_transaction(%s, %s)", (tenant, LEGS))
        conn.execute("COMMIT")
    finally:
        back_to_owner(conn)
    assert ledger_of(conn, tenant) == (1, 2, 2)


# --- 17.3, 17.4, 17.6: another tenant's ids answer as unused ones ----------------------------------------------------

@pytest.fixture
def two_tenants(leadboost_conn, make_tenant) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """Tenants A and B, and a committed posting of B."""
    a, b = make_tenant(leadboost_conn), make_tenant(leadboost_conn)
    posting = leadboost_conn.execute("SELECT finanzas.post_transaction(%s, %s)", (b, LEGS)).fetchone()[0]
    return a, b, posting


@pytest.mark.parametrize("leg_tenant", ["A (bound)", "B (the posting's)"])
def test_a_leg_on_another_tenants_posting_answers_as_an_unknown_id(leadboost_conn, two_tenants, leg_tenant):
    conn, (a, b, b_posting) = leadboost_conn, two_tenants
    tenant = a if leg_tenant.startswith("A") else b
    act_as(conn, "leadboost_app after the GRANT block", a)
    answers = {}
    try:
        for what, posting in (("B's posting", b_posting), ("an unknown id", uuid.uuid4())):
            answers[what] = failure(lambda p=posting: conn.execute(LEG, (tenant, p, "CASH", 1, 1)))
            conn.rollback()
    finally:
        back_to_owner(conn)
    assert answers["B's posting"] == answers["an unknown id"] and answers["B's posting"] in {"23503", "42501"}, answers


def test_a_reversal_header_cannot_point_at_another_tenants_posting(leadboost_conn, two_tenants):
    """Bound to A, a reversal of B's posting written directly is refused as one of an unknown id (23503), and B
    can still reverse its posting."""
    conn, (a, b, b_posting) = leadboost_conn, two_tenants
    act_as(conn, "leadboost_app after the GRANT block", a)
    answers = {}
    try:
        for what, target in (("B's posting", b_posting), ("an unknown id", uuid.uuid4())):
            def reversal(target=target) -> None:
                with conn.transaction():
                    header = uuid.uuid4()
                    conn.execute("INSERT INTO finanzas.transactions (id, tenant_id, currency, reverses_transaction_id)"
                                 " VALUES (%s, %s, 'EUR', %s)", (header, a, target))
                    conn.execute(LEG, (a, header, "CASH", 7, -1))
                    conn.execute(LEG, (a, header, "REVENUE", 7, 1))
            answers[what] = failure(reversal)
    finally:
        back_to_owner(conn)
    assert answers == {"B's posting": "23503", "an unknown id": "23503"}
    assert conn.execute("SELECT finanzas.reverse_transaction(%s, %s)", (b, b_posting)).fetchone()[0] is not None


def test_a_tenant_cannot_choose_entry_ids(leadboost_conn, two_tenants):
    """OVERRIDING SYSTEM VALUE with the id B's next leg would draw is refused (LB113); B's next posting works."""
    conn, (a, b, _) = leadboost_conn, two_tenants
    next_id = conn.execute("SELECT last_value + 1 FROM finanzas.ledger_entries_id_seq").fetchone()[0]
    act_as(conn, "leadboost_app after the GRANT block", a)
    try:
        def squat() -> None:
            with conn.transaction():
                header = uuid.uuid4()
                conn.execute(HEADER, (header, a))
                for offset, (account, direction) in enumerate((("CASH", 1), ("REVENUE", -1))):
                    conn.execute("INSERT INTO finanzas.ledger_entries (id, tenant_id, transaction_id, account_type,"
                                 " amount, direction, currency) OVERRIDING SYSTEM VALUE"
                                 " VALUES (%s, %s, %s, %s, 1, %s, 'EUR')",
                                 (next_id + offset, a, header, account, direction))
        refused = failure(squat)
    finally:
        back_to_owner(conn)
    assert refused == "LB113"
    assert failure(lambda: conn.execute("SELECT finanzas.post_transaction(%s, %s)", (b, LEGS))) is None


def test_another_tenants_transaction_id_is_free_for_this_tenant(leadboost_conn, leadboost_dsn, two_tenants):
    """Bound to A, posting with B's committed id — or the id of B's posting still open in another session —
    succeeds at once, as with an unused id, and leaves B's posting as it was."""
    conn, (a, b, b_posting) = leadboost_conn, two_tenants
    open_id = uuid.uuid4()
    with psycopg.connect(leadboost_dsn) as other:  # B's posting, not committed yet
        other.execute("SELECT finanzas.post_transaction(%s, %s, 'EUR', NULL, %s)", (b, LEGS, open_id))
        act_as(conn, "leadboost_app after the GRANT block", a)
        try:
            conn.execute("SET lock_timeout = '2s'")
            got = [conn.execute("SELECT finanzas.post_transaction(%s, %s, 'EUR', NULL, %s)",
                                (a, LEGS, posting)).fetchone()[0] for posting in (b_posting, open_id)]
        finally:
            conn.execute("RESET lock_timeout")
            back_to_owner(conn)
        other.commit()
    assert got == [b_posting, open_id]
    owners = conn.execute("SELECT id, array_agg(tenant_id::text ORDER BY tenant_id::text) FROM finanzas.transactions"
                          " WHERE id IN (%s, %s) GROUP BY id", (b_posting, open_id)).fetchall()
    assert {row[0]: set(row[1]) for row in owners} == {p: {str(a), str(b)} for p in (b_posting, open_id)}


# --- 17.7, 17.11: retries -----------------------------------------------------------------------------------------

def twins(dsn: str, call: Callable[[psycopg.Connection], object], rounds: int) -> list[tuple]:
    """``rounds`` times: the same call from two sessions released at once; each round's two answers."""
    sessions = [psycopg.connect(dsn, autocommit=True) for _ in range(2)]
    answers = []
    try:
        for round_ in range(rounds):
            barrier, got = threading.Barrier(2), [None, None]

            def one(k: int, round_: int = round_, barrier: threading.Barrier = barrier, got: list = got) -> None:
                barrier.wait()
                try:
                    got[k] = call(sessions[k], round_)
                except psycopg.Error as error:
                    got[k] = error.sqlstate
            threads = [threading.Thread(target=one, args=(k,)) for k in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            answers.append(tuple(got))
    finally:
        for session in sessions:
            session.close()
    return answers


def test_identical_concurrent_retries_of_a_posting_return_the_same_id(leadboost_conn, leadboost_dsn, make_tenant):
    """200 rounds of two identical post_transaction calls with one p_transaction_id, released together: both get
    the id, never 23505 (1.0.0: about 1 call in 100 got 23505), and each id is posted once."""
    tenant = make_tenant(leadboost_conn)
    ids = [uuid.uuid4() for _ in range(200)]
    answers = twins(leadboost_dsn, lambda conn, n: conn.execute(
        "SELECT finanzas.post_transaction(%s, %s, 'EUR', NULL, %s)", (tenant, LEGS, ids[n])).fetchone()[0], len(ids))
    assert [pair for pair, posting in zip(answers, ids, strict=True) if pair != (posting, posting)] == []
    assert ledger_of(leadboost_conn, tenant)[:2] == (200, 400)


def test_a_reversal_retried_returns_the_reversals_id(leadboost_conn, leadboost_dsn, make_tenant):
    """A reverse_transaction whose answer was lost, called again, returns the same reversal (sequentially and as
    concurrent twins); a reversal with another description is refused with LB110 naming the reversal."""
    conn, tenant = leadboost_conn, make_tenant(leadboost_conn)
    postings = [conn.execute("SELECT finanzas.post_transaction(%s, %s)", (tenant, LEGS)).fetchone()[0]
                for _ in range(31)]
    reverse = "SELECT finanzas.reverse_transaction(%s, %s, %s)"
    first = conn.execute(reverse, (tenant, postings[0], None)).fetchone()[0]
    assert conn.execute(reverse, (tenant, postings[0], None)).fetchone()[0] == first
    with pytest.raises(psycopg.Error, match=f"is already reversed by transaction {first}") as other:
        conn.execute(reverse, (tenant, postings[0], "another reason"))
    assert other.value.sqlstate == "LB110"
    answers = twins(leadboost_dsn, lambda c, n: c.execute(reverse, (tenant, postings[n + 1], "refund")).fetchone()[0],
                    30)
    assert [pair for pair in answers if pair[0] != pair[1] or not isinstance(pair[0], uuid.UUID)] == []
    assert ledger_of(conn, tenant)[0] == 31 + 31


def test_crossed_retries_end_one_transaction_with_40p01_and_keep_the_other(leadboost_conn, leadboost_dsn,
                                                                          make_tenant):
    """The documented promise for crossed retries: two open transactions, each having posted one id and then
    re-posting the other's, wait for each other; PostgreSQL ends exactly one with 40P01 (rolled back whole), the
    other commits both postings once."""
    tenant = make_tenant(leadboost_conn)
    ids = [uuid.uuid4(), uuid.uuid4()]
    post = "SELECT finanzas.post_transaction(%s, %s, 'EUR', NULL, %s)"
    sessions = [psycopg.connect(leadboost_dsn) for _ in range(2)]
    outcome: list[str | None] = [None, None]
    try:
        for k, session in enumerate(sessions):
            session.execute(post, (tenant, LEGS, ids[k]))

        def cross(k: int) -> None:
            try:
                sessions[k].execute(post, (tenant, LEGS, ids[1 - k]))
                sessions[k].commit()
                outcome[k] = "committed"
            except psycopg.Error as error:
                outcome[k] = error.sqlstate
                sessions[k].rollback()
        threads = [threading.Thread(target=cross, args=(k,)) for k in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for session in sessions:
            session.close()
    assert sorted(outcome) == ["40P01", "committed"]
    assert ledger_of(leadboost_conn, tenant)[:2] == (2, 4)
    assert dict(leadboost_conn.execute("SELECT account_type, balance FROM finanzas.account_balances"
                                       " WHERE tenant_id = %s", (tenant,)).fetchall()) == {"CASH": 14, "REVENUE": -14}
    assert {row[0] for row in leadboost_conn.execute("SELECT id FROM finanzas.transactions WHERE tenant_id = %s",
                                                       (tenant,))} == set(ids)
