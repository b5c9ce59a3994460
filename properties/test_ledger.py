"""Double entry: concurrent postings, valid and invalid, leave a ledger that balances and equals the model."""
from __future__ import annotations

import json
import uuid

from hypothesis import given
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from leadboost_schema.testing import strategies as lb
from leadboost_schema.testing.interleaving import Step
from properties.broken_variants import LEDGER_WITHOUT_BALANCE_CHECK, install
from properties.hypothesis_settings import PROPERTY, find_counterexample
from properties.models.ledger import Ledger, mirror
from properties.transactions import (
    assert_errors_among,
    committed,
    make_scripts,
    outcomes,
    scenario,
    statement,
    story_of,
)

REAL = "finanzas.post_transaction"
BROKEN = "broken.post_transaction"

# (transaction id slot, legs, currency, route): the function, or plain INSERTs checked only at COMMIT.
posting = st.tuples(st.integers(0, 2), lb.make_legs(), st.sampled_from(("EUR", "USD")),
                    st.sampled_from(("function", "function", "insert")))


def _jsonb(legs: list[dict]) -> Jsonb:
    return Jsonb(legs, dumps=lambda obj: json.dumps(obj, default=float))


def posting_steps(tenant: uuid.UUID, ids: dict[int, uuid.UUID], post: str):
    def step_of(session: str, op) -> Step:
        slot, legs, currency, route = op
        if route == "function":
            return statement(f"post t{slot}", f"SELECT {post}(%s, %s, %s, NULL, %s)",
                             (tenant, _jsonb(legs), currency, ids[slot]))

        def insert(conn):
            conn.execute("INSERT INTO finanzas.transactions (id, tenant_id, currency) VALUES (%s, %s, %s)",
                         (ids[slot], tenant, currency))
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO finanzas.ledger_entries (tenant_id, transaction_id, account_type, amount,"
                    " direction, currency) VALUES (%s, %s, %s, %s, %s, %s)",
                    [(tenant, ids[slot], leg["account_type"], leg["amount"], leg["direction"], currency)
                     for leg in legs])
        return Step(f"insert t{slot}", insert)
    return step_of


DEADLOCK = "40P01"


def assert_deadlocks_only_on_crossed_ids(trace, scripts) -> None:
    """The promise for crossed retries (schema/README.md, "Retries and lost answers"): a posting waits only for
    another open transaction posting the SAME id, so a deadlock needs two transactions of different sessions that
    each post two ids the other posts too. Any other 40P01 (on balance rows, on distinct ids) breaks the promise."""
    everything = outcomes(trace, scripts)
    for outcome in everything:
        if not any(e.sqlstate == DEADLOCK for e in outcome.events):
            continue
        slots = {op[0] for op in outcome.transaction.ops}
        crossed = [o for o in everything if o.session != outcome.session
                   and len(slots & {op[0] for op in o.transaction.ops}) >= 2]
        assert crossed, f"{outcome.session} deadlocked without a crossed retry: {outcome.transaction.ops}\n{trace}"


def check_double_entry(scheduler, conn, make_tenant, data, post: str) -> None:
    tenant = make_tenant(conn)
    ids = {slot: uuid.uuid4() for slot in range(3)}
    scripts = data.draw(make_scripts(posting, tuple(scheduler.names)), label="scripts")
    trace = scheduler.run(scenario(scripts, posting_steps(tenant, ids, post)), data)
    assert_errors_among(trace, {"LB105", "LB106", "LB111", "23505", DEADLOCK})
    assert_deadlocks_only_on_crossed_ids(trace, scripts)

    ledger = Ledger()
    for outcome in committed(trace, scripts):
        for slot, legs, currency, route in outcome.transaction.ops:
            assert ledger.post(slot, currency, legs, retry_allowed=route == "function"), (
                f"{outcome.session} committed a posting the ledger must refuse: t{slot} {currency} {legs}"
                f"\n{trace}")
    unbalanced = conn.execute(
        "SELECT transaction_id, count(*), sum(amount * direction) FROM finanzas.ledger_entries"
        " WHERE tenant_id = %s GROUP BY transaction_id HAVING count(*) < 2 OR sum(amount * direction) <> 0",
        (tenant,)).fetchall()
    assert unbalanced == [], f"transactions that do not balance: {unbalanced}\n{trace}"
    balances = {(account, currency): balance for account, currency, balance in conn.execute(
        "SELECT account_type, currency, balance FROM finanzas.account_balances WHERE tenant_id = %s",
        (tenant,))}
    assert balances == ledger.balances(), f"balances differ from the model\n{trace}"
    legs = {(account, currency): balance for account, currency, balance in conn.execute(
        "SELECT account_type, currency, sum(amount * direction) FROM finanzas.ledger_entries WHERE tenant_id = %s"
        " GROUP BY account_type, currency", (tenant,))}
    assert balances == legs, f"stored balances differ from the legs\n{trace}"
    total = conn.execute("SELECT coalesce(sum(amount * direction), 0) FROM finanzas.ledger_entries"
                         " WHERE tenant_id = %s", (tenant,)).fetchone()[0]
    assert total == 0, f"tenant total is {total}\n{trace}"
    headers = {row[0] for row in conn.execute(
        "SELECT id FROM finanzas.transactions WHERE tenant_id = %s", (tenant,))}
    assert headers == {ids[slot] for slot in ledger.postings}, f"headers differ from the model\n{trace}"


@PROPERTY
@given(data=st.data())
def test_concurrent_postings_balance_and_equal_the_model(two_sessions, leadboost_conn, make_tenant, data):
    """Invariant (double entry): whatever postings two sessions interleave — balanced or not, through the
    function or plain INSERTs, retried under the same id, committed or rolled back — every committed
    transaction's legs sum to zero with at least two legs, so the tenant's total is zero; each account's
    stored balance equals the model's and the sum of its legs; a refused posting leaves nothing (not even its
    header). Crossed retries (each session's open transaction posting an id the other posted) may end one of them
    with 40P01, which rolls it back whole, as documented — a deadlock without such a crossing fails the property."""
    check_double_entry(two_sessions, leadboost_conn, make_tenant, data, REAL)


def test_a_ledger_without_balance_checks_is_caught(two_sessions, leadboost_conn, make_tenant):
    """The property can fail: with the balance guards removed, Hypothesis finds and shrinks a counterexample
    to one unbalanced posting committed by one session."""
    install(leadboost_conn, LEDGER_WITHOUT_BALANCE_CHECK)

    failure = find_counterexample(
        lambda data: check_double_entry(two_sessions, leadboost_conn, make_tenant, data, BROKEN),
        match="committed a posting the ledger must refuse")
    session = str(failure)[:2]
    assert story_of(failure)[:3] == [f"{session}.begin", f"{session}.post t0", f"{session}.commit"]


@PROPERTY
@given(legs=lb.make_balanced_legs(max_legs=5), currency=lb.make_currency(), twice=st.booleans())
def test_a_reversal_is_the_exact_mirror_of_the_original(leadboost_example, make_tenant, legs, currency, twice):
    """Invariant (reversal): for any balanced posting, its reversal (and the reversal of that reversal) has the
    original's legs leg for leg — same account, amount, currency and tenant, opposite direction, no leg more or
    less — a header with the original's tenant and currency that names the original, and afterwards every
    account of the tenant is back where it was (zero)."""
    with leadboost_example() as conn:
        tenant = make_tenant(conn)
        make_tenant(conn)  # another tenant's rows must not leak into the reversal
        original = conn.execute("SELECT finanzas.post_transaction(%s, %s, %s)",
                                (tenant, _jsonb(legs), currency)).fetchone()[0]
        chain = [(original, legs)]
        for _ in range(2 if twice else 1):
            reversed_id, reversed_legs = chain[-1]
            reversal = conn.execute("SELECT finanzas.reverse_transaction(%s, %s)",
                                    (tenant, reversed_id)).fetchone()[0]
            header = conn.execute("SELECT tenant_id, currency, reverses_transaction_id FROM finanzas.transactions"
                                  " WHERE id = %s", (reversal,)).fetchone()
            assert header == (tenant, currency, reversed_id), f"reversal header {header}"
            entries = conn.execute("SELECT account_type, amount, direction, currency, tenant_id FROM"
                                   " finanzas.ledger_entries WHERE transaction_id = %s", (reversal,)).fetchall()
            assert {(c, t) for *_, c, t in entries} <= {(currency, tenant)}, f"reversal legs {entries}"
            mirrored = sorted((account, amount, direction) for account, amount, direction, *_ in entries)
            assert mirrored == mirror(reversed_legs), f"reversal legs {mirrored}, the mirror is {mirror(reversed_legs)}"
            chain.append((reversal, [{"account_type": a, "amount": m, "direction": d} for a, m, d in mirrored]))
        model = Ledger()
        if twice:  # original, reversal and reversal of the reversal: the original's balances
            model.post(original, currency, legs)
        balances = {(account, cur): balance for account, cur, balance in conn.execute(
            "SELECT account_type, currency, balance FROM finanzas.account_balances WHERE tenant_id = %s",
            (tenant,))}
        expected = {key: model.balances().get(key, 0) for key in balances}
        assert balances == expected, f"balances after the reversals: {balances}, the model says {expected}"


@PROPERTY
@given(legs=lb.make_balanced_legs(max_legs=5), currency=lb.make_currency(), data=st.data())
def test_a_retry_with_the_legs_in_another_order_is_the_same_posting(leadboost_example, make_tenant, legs, currency,
                                                                     data):
    """Invariant (retry): posting again under the same transaction id with the same legs in ANY order answers the
    earlier id and changes nothing (schema/README.md "Retries and lost answers": the same posting — legs are a
    multiset, not a list); and every stored balance counts exactly the legs posted to its account
    (account_balances.entry_count = the number of ledger entries)."""
    shuffled = data.draw(st.permutations(legs), label="retried legs")
    with leadboost_example() as conn:
        tenant = make_tenant(conn)
        tx_id = uuid.uuid4()
        first = conn.execute("SELECT finanzas.post_transaction(%s, %s, %s, NULL, %s)",
                             (tenant, _jsonb(legs), currency, tx_id)).fetchone()[0]
        again = conn.execute("SELECT finanzas.post_transaction(%s, %s, %s, NULL, %s)",
                             (tenant, _jsonb(shuffled), currency, tx_id)).fetchone()[0]
        assert first == again == tx_id
        count = conn.execute("SELECT count(*) FROM finanzas.ledger_entries WHERE tenant_id = %s",
                             (tenant,)).fetchone()[0]
        assert count == len(legs), f"{count} legs stored for {len(legs)} posted"
        counted = dict(conn.execute(
            "SELECT b.account_type, b.entry_count FROM finanzas.account_balances AS b WHERE b.tenant_id = %s",
            (tenant,)).fetchall())
        legs_per_account = dict(conn.execute(
            "SELECT account_type, count(*) FROM finanzas.ledger_entries WHERE tenant_id = %s GROUP BY 1",
            (tenant,)).fetchall())
        assert counted == legs_per_account, f"entry_count {counted}, legs {legs_per_account}"
