"""`verify`: compare a live database with the contract (committed catalog snapshot) and run the source document's
verification block; the report lists what is missing, extra or changed, and the exit status says whether any is."""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from leadboost_schema.catalog import drift, runbook
from leadboost_schema.catalog import snapshot as catalog
from leadboost_schema.cli import target
from leadboost_schema.cli.errors import DIFFERS, OK, SQL_FAILED, CliError, failure, statement_error
from leadboost_schema.cli.output import emit_json, print_checks, step
from leadboost_schema.paths import schema_dir

SHOWN_DIFFERENCES = 40


@dataclass
class ContractReport:
    differences: list[drift.Difference] = field(default_factory=list)
    objects: int = 0
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.differences and not self.note

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "objects": self.objects, "note": self.note,
                "differences": [d.as_dict() for d in self.differences]}


def contract_report(conn: psycopg.Connection, schema_folder: Path) -> ContractReport:
    """The database's catalog against the committed contract.json. The contract describes the package's own
    schema/; for another --schema-dir it is not the right yardstick, and the report says so instead."""
    try:
        actual = catalog.snapshot(conn)
    except psycopg.Error as error:
        raise statement_error(error, "reading the catalog") from None
    expected = catalog.load_contract()
    report = ContractReport(drift.compare(expected, actual), objects=_count(expected))
    if schema_folder.resolve() != schema_dir().resolve():
        report.note = (f"the contract describes the packaged schema, not {schema_folder}: differences may be "
                       "intended (compare with its own: `leadboost-schema contract --write --schema-dir DIR --contract FILE`)")
    return report


def require_schema_access(conn: psycopg.Connection) -> None:
    """The verification block counts through information_schema, which shows only what the role may use: without
    USAGE on the schemas its counts would be wrong, so say so instead."""
    denied = conn.execute(
        "SELECT array_agg(nspname ORDER BY nspname) FROM pg_namespace"
        " WHERE nspname = ANY(%s::text[]) AND NOT has_schema_privilege(oid, 'USAGE')",
        [list(catalog.SCHEMAS)]).fetchone()[0]
    if denied:
        raise failure("42501", f"permission denied for schema {', '.join(denied)}", "the verification block")


def _count(snapshot: dict[str, Any]) -> int:
    return sum(len(snapshot.get(section) or {}) for section in ("schemas", "tables", "views", "sequences",
                                                                "functions"))


def seed_state(checks: list[runbook.QueryResult]) -> str | None:
    """"fresh", "used" or "absent": the seed data as the verification block's reservation found it."""
    return next((c.seed for c in checks if c.seed is not None), None)


def seed_remark(state: str | None) -> str:
    return {"used": " (its seed data has been used)", "absent": " (no seed data)"}.get(state or "", "")


def require_schema(conn: psycopg.Connection, name: str) -> None:
    """A database without any of the schema's seven schemas (after `rollback`, or an `up` interrupted after
    CREATE DATABASE) is not a drift to list object by object: one line, as `diag` and `maintain` say it."""
    present = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = ANY(%s)",
                           [list(catalog.SCHEMAS)]).fetchone()[0]
    if not present:
        raise CliError(f"{name} has no leadboost schema (none of {', '.join(catalog.SCHEMAS)}): is the schema "
                       "migrated? run `leadboost-schema migrate` (or `up`)", SQL_FAILED)


def print_contract(report: ContractReport) -> None:
    if report.ok:
        print(f"  contract: matches ({report.objects} schemas, tables, views, sequences and functions, "
              "with their columns, constraints, indexes, triggers, policies and grants)")
        return
    if report.note:
        print(f"  contract: {report.note}")
    if report.differences:
        print(f"  contract: {len(report.differences)} difference(s) from the contract:")
        for difference in report.differences[:SHOWN_DIFFERENCES]:
            print(f"    {difference}")
        if len(report.differences) > SHOWN_DIFFERENCES:
            print(f"    ... and {len(report.differences) - SHOWN_DIFFERENCES} more (--json lists them all)")


def cmd_verify(args: argparse.Namespace) -> int:
    database = target.database_dsn(args.dsn)
    name = target.database_name(database)
    with target.connect(database) as conn, step(f"checking {name} against the contract"):
        require_schema(conn, name)
        report = contract_report(conn, args.schema_dir)
        require_schema_access(conn)
        checks = runbook.run_verification(conn)
    ok = report.ok and all(c.schema_ok for c in checks)
    if args.json:
        emit_json({"ok": ok, "database": name, "contract": report.as_dict(), "seed_data": seed_state(checks),
                   "verification": [c.as_dict() for c in checks]})
        return OK if ok else DIFFERS
    print(f"{name}: {'matches the contract' if ok else 'DIFFERS from the contract'}"
          + seed_remark(seed_state(checks)))
    print_contract(report)
    print_checks("  verification block (source document; rolled back):", checks)
    if report.differences:
        print("  to repair: `leadboost-schema status` says whether upgrades are pending (`migrate` applies them);\n"
              "  a change made by hand in the database must be undone by hand (or `rollback` then `up`, where the "
              "data goes)")
    return OK if ok else DIFFERS
