"""Deliberately broken copies of the schema's functions, to prove each property can fail.

A variant is the real function read back from the server (``pg_get_functiondef``) with one guard edited
out, created under the scratch schema ``broken`` of the test's own database. Every edit must match exactly
once, so a schema change that moves a guard fails here loudly instead of silently testing nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg

HANDWRITTEN = Path(__file__).parent / "broken"


@dataclass(frozen=True)
class Variant:
    """What is broken (in words), the functions copied with their edits, and any other SQL it needs (or a
    hand-written file under ``broken/`` when no small edit of the real function can express the flaw)."""

    broken: str
    functions: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    extra_sql: str = ""
    sql_file: str = ""


def install(conn: psycopg.Connection, variant: Variant) -> None:
    conn.execute("CREATE SCHEMA IF NOT EXISTS broken")
    for signature, edits in variant.functions:
        qualified = signature.split("(", 1)[0]
        source = conn.execute("SELECT pg_get_functiondef(%s::regprocedure)", (signature,)).fetchone()[0]
        source = _edit(source, f"FUNCTION {qualified}(", f"FUNCTION broken.{qualified.split('.')[1]}(")
        for old, new in edits:
            source = _edit(source, old, new)
        conn.execute(source.encode())
    if variant.extra_sql:
        conn.execute(variant.extra_sql.encode())
    if variant.sql_file:
        conn.execute((HANDWRITTEN / variant.sql_file).read_bytes())


def _edit(source: str, old: str, new: str) -> str:
    if source.count(old) != 1:
        raise AssertionError(f"broken variant: {old!r} occurs {source.count(old)} times, expected once")
    return source.replace(old, new)


LEDGER_WITHOUT_BALANCE_CHECK = Variant(
    "a posting without the balance check (and the commit-time balance trigger disabled)",
    (("finanzas.post_transaction(uuid,jsonb,text,text,uuid)",
      (("IF leg_count < 2 THEN", "IF false THEN"), ("IF leg_sum <> 0 THEN", "IF false THEN"))),),
    "ALTER TABLE finanzas.transactions DISABLE TRIGGER transactions_balanced;"
    " ALTER TABLE finanzas.ledger_entries DISABLE TRIGGER ledger_entries_balanced",
)

RESERVE_WITHOUT_VERSION_CHECK = Variant(
    "a reserve/release without the version check",
    (("stock.change_reservation(uuid,text,integer,integer,integer)",
      (("AND i.version = p_expected_version", ""),)),
     ("stock.reserve_inventory(uuid,text,integer,integer)",
      (("stock.change_reservation(", "broken.change_reservation("),)),
     ("stock.release_inventory(uuid,text,integer,integer)",
      (("stock.change_reservation(", "broken.change_reservation("),))),
)

# Removing FOR UPDATE from the real claim is not enough to break it: its INSERT … ON CONFLICT already waits
# for a concurrent writer of the key. The flaw that matters is reading, deciding, then writing.
CLAIM_WITHOUT_LOCK = Variant("a claim that reads the key without locking it, decides, then writes",
                             sql_file="claim_without_lock.sql")

COMPENSATION_WITHOUT_IDEMPOTENCY_GUARD = Variant(
    "a compensation report that answers 'applied' again when the step was already compensated",
    (("sys.record_compensation_done(uuid,uuid,integer)",
      (("""IF st.status = 'COMPENSATED' THEN
        RETURN QUERY SELECT * FROM sys.saga_report(p_tenant_id, p_saga_id, false, p_step_index);""",
        """IF st.status = 'COMPENSATED' THEN
        RETURN QUERY SELECT * FROM sys.saga_report(p_tenant_id, p_saga_id, true, p_step_index);"""),)),),
)

APPEND_WITHOUT_EXPECTED_VERSION_CHECK = Variant(
    "an append that ignores the expected version and writes after whatever the stream holds",
    (("events.append_event(uuid,text,text,text,jsonb,bigint,jsonb,uuid,timestamp with time zone)",
      (("IF coalesce(current_version, 0) <> p_expected_version THEN", "IF false THEN"),
       ("new_version := p_expected_version + 1;", "new_version := coalesce(current_version, 0) + 1;"))),),
)

VALIDATE_WITHOUT_LOCK = Variant(
    "a validation that reads the policies without locking them",
    (("gobernanza.validate_action(uuid,text,numeric,timestamp with time zone)",
      (("""         ORDER BY p.id
           FOR UPDATE
""", """         ORDER BY p.id
"""),)),),
)

BREAKER_OPENING_ONE_FAILURE_LATE = Variant(
    "a breaker that opens one failure after its threshold",
    (("gobernanza.record_action_outcome(uuid,text,boolean,timestamptz)",
      (("WHEN NOT p_succeeded AND p.breaker_state = 'CLOSED' AND p.failure_count + 1 >= p.failure_threshold THEN 'OPEN'",
        "WHEN NOT p_succeeded AND p.breaker_state = 'CLOSED' AND p.failure_count + 1 > p.failure_threshold THEN 'OPEN'"),
       ("WHEN NOT p_succeeded AND p.breaker_state = 'CLOSED' AND p.failure_count + 1 >= p.failure_threshold THEN p_now",
        "WHEN NOT p_succeeded AND p.breaker_state = 'CLOSED' AND p.failure_count + 1 > p.failure_threshold THEN p_now"))),
     ("gobernanza.validate_action(uuid,text,numeric,timestamptz)", ()),),
)

FINISH_WITHOUT_KEY_LOCK = Variant(
    "complete/fail that read the key and its token without locking the row",
    (("sys.lock_claimed_key(uuid,text,uuid)", (("       FOR UPDATE;\n", ";\n"),)),
     ("sys.complete_request_key(uuid,text,uuid,jsonb,timestamptz)",
      (("sys.lock_claimed_key(", "broken.lock_claimed_key("),)),
     ("sys.fail_request_key(uuid,text,uuid,text,timestamptz)",
      (("sys.lock_claimed_key(", "broken.lock_claimed_key("),))),
)

# Not restricted to the shard it holds, the trigger's UPDATE adds a leg to every shard row of the account: right
# while an account has one shard (postings one at a time), wrong once concurrent first postings made several.
BALANCES_ADDED_TO_EVERY_SHARD = Variant(
    "a leg added to every shard row of its account, not only to the shard the transaction holds",
    (("finanzas.add_leg_to_balances()", (("\n       AND s.shard = free_shard;", ";"),)),),
    "CREATE OR REPLACE TRIGGER ledger_entries_balances AFTER INSERT ON finanzas.ledger_entries"
    " FOR EACH ROW EXECUTE FUNCTION broken.add_leg_to_balances()",
)
