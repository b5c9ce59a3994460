"""Deliberately broken copies of the schema's functions, to prove each property can fail.

A variant is the real function read back from the server (``pg_get_functiondef``) with one guard edited
out, created under the scratch schema ``broken`` of the test's own database. Every edit must match exactly
once, so a schema change that moves a guard fails here loudly instead of silently testing nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class Variant:
    """What is broken (in words), the functions copied with their edits, and any other SQL it needs."""

    broken: str
    functions: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    extra_sql: str = ""


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


def _edit(source: str, old: str, new: str) -> str:
    if source.count(old) != 1:
        raise AssertionError(f"broken variant: {old!r} occurs {source.count(old)} times, expected once")
    return source.replace(old, new)


LEDGER_WITHOUT_BALANCE_CHECK = Variant(
    "a posting without the balance check (and the commit-time balance trigger disabled)",
    (("finanzas.post_transaction(uuid,jsonb,text,text,uuid)",
      (("IF leg_count < 2 THEN", "IF false THEN"), ("IF leg_sum <> 0 THEN", "IF false THEN"))),),
    "ALTER TABLE finanzas.transactions DISABLE TRIGGER transactions_balanced",
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

CLAIM_WITHOUT_LOCK = Variant(
    "a claim that reads the key without locking it",
    (("sys.claim_request_key(uuid,text,jsonb,interval,interval,timestamp with time zone)",
      (("           FOR UPDATE;", ";"),)),),
)
