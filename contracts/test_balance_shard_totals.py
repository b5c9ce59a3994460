"""The stored balances' own CHECK, account_balance_shards_totals_check, as the last line of defence (found by the
mutation run: its bounds moved or dropped went unnoticed, because the only writer, the ledger's trigger, never
offers a bad row). The guard trigger of finanzas.account_balance_shards refuses writes at trigger depth 1 only
(LB112), so a write from inside another trigger reaches the table: there, totals are never negative and a shard
row counts at least one leg — 0 totals with one leg is the edge accepted."""
from __future__ import annotations

import psycopg
import pytest

# An owner's trigger on a scratch table that copies each row it receives into the shard table: a depth-2 write.
RELAY = """
CREATE TABLE public.shard_relay (LIKE finanzas.account_balance_shards);
CREATE FUNCTION public.shard_relay_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO finanzas.account_balance_shards SELECT (NEW).*;
    RETURN NULL;
END $$;
CREATE TRIGGER shard_relay_write AFTER INSERT ON public.shard_relay
    FOR EACH ROW EXECUTE FUNCTION public.shard_relay_write();
"""


@pytest.mark.parametrize(("total_debits", "total_credits", "entry_count", "accepted"), [
    (0, 0, 1, True), ("0.0001", 0, 1, True), (0, "0.0001", 2, True),
    ("-0.0001", 0, 1, False), (0, "-0.0001", 1, False), ("-1", "-1", 1, False), (0, 0, 0, False),
    (5, 5, -1, False),
])
def test_a_shard_row_never_holds_negative_totals_or_no_leg(leadboost_conn, make_tenant, total_debits,
                                                           total_credits, entry_count, accepted: bool):
    """Invariant: every row of finanzas.account_balance_shards has total_debits >= 0, total_credits >= 0 and
    entry_count > 0, whoever writes it — also a write the LB112 guard lets through (from inside a trigger)."""
    conn = leadboost_conn
    tenant = make_tenant(conn)
    conn.execute(RELAY)
    row = (tenant, "CASH", "EUR", 0, total_debits, total_credits, entry_count, "2026-01-01T00:00:00Z")
    insert = "INSERT INTO public.shard_relay VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    if accepted:
        conn.execute(insert, row)
        stored = conn.execute("SELECT total_debits, total_credits, entry_count FROM finanzas.account_balance_shards"
                              " WHERE tenant_id = %s", (tenant,)).fetchall()
        assert [tuple(str(v) for v in r) for r in stored] == [
            (str(conn.execute("SELECT %s::numeric", (total_debits,)).fetchone()[0]),
             str(conn.execute("SELECT %s::numeric", (total_credits,)).fetchone()[0]), str(entry_count))]
    else:
        with pytest.raises(psycopg.errors.CheckViolation) as refused:
            conn.execute(insert, row)
        assert refused.value.diag.constraint_name == "account_balance_shards_totals_check"
