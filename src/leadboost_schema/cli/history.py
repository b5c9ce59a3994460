"""`status` and `contract`: where a database stands in the schema's history (applied, pending, edited and unknown
upgrades, drift from the contract), and regenerating or checking the files derived from schema/ (contract.json,
schema/upgrades/history.sql and pending.sql)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import psycopg

from leadboost_schema.catalog import drift
from leadboost_schema.catalog import snapshot as catalog
from leadboost_schema.cli import target, verify
from leadboost_schema.cli.errors import (
    DIFFERS,
    NO_SERVER,
    OK,
    PENDING,
    REFUSED,
    USAGE,
    CliError,
    statement_error,
)
from leadboost_schema.cli.output import emit_json, step, table
from leadboost_schema.errors import NoServerError
from leadboost_schema.paths import schema_dir
from leadboost_schema.upgrades.files import HistoryError
from leadboost_schema.upgrades.state import Status, read_status

NEEDS_UPGRADE_FILE = ("a schema change reaches an existing database only through a new upgrade file "
                      "(schema/upgrades/NNNN_slug.sql, made in the head file too; schema/README.md, 'Changing the "
                      "schema'); a change made by hand in the database must be undone by hand")


def add_arguments(command: argparse.ArgumentParser) -> None:
    """``--contract``: the expected catalog (default: the packaged contract.json)."""
    command.add_argument("--contract", type=Path, help="contract.json to compare with (default: the package's "
                                                       "catalog/contract.json, which describes the packaged schema/)")


def contract_path(args: argparse.Namespace) -> Path:
    return args.contract or catalog.CONTRACT_PATH


def contract_drift(conn: psycopg.Connection, contract: Path) -> verify.ContractReport:
    """The database's catalog against ``contract`` (verify's comparison, any contract file)."""
    try:
        actual = catalog.snapshot(conn)
    except psycopg.Error as error:
        raise statement_error(error, "reading the catalog") from None
    expected = catalog.load_contract(contract)
    return verify.ContractReport(drift.compare(expected, actual), objects=verify._count(expected))


def read_history(conn: psycopg.Connection, folder: Path) -> Status:
    try:
        return read_status(conn, folder)
    except HistoryError as error:
        raise CliError(f"{folder}/upgrades: {error}", USAGE) from None
    except psycopg.Error as error:
        raise statement_error(error, "reading the schema history") from None


def state_name(status: Status) -> str:
    if status.state == "unversioned":
        return f"unversioned, adoptable as {status.adoptable_as}" if status.adoptable_as else "unrecognised"
    return status.state


def verdict(status: Status, report: verify.ContractReport | None) -> tuple[int, str]:
    """The exit status and one sentence: what `migrate` would do with this database."""
    if status.state == "empty":
        return PENDING, "nothing installed: `migrate` installs head"
    if status.state == "unversioned" and status.adoptable_as is None:
        return REFUSED, ("its catalog matches no release (fingerprint " f"{status.fingerprint}): `migrate` refuses "
                         "it (LB904); the differences from head's contract are listed above")
    if status.edited:
        return REFUSED, (f"released upgrade file(s) {', '.join(status.edited)} changed after this database applied "
                         "them: `migrate` refuses (LB902); restore them as released and fix forward with a new one")
    if status.unknown:
        return REFUSED, (f"the database has upgrade(s) {', '.join(status.unknown)} this schema folder does not know: "
                         "it is newer than this checkout; `migrate` refuses (LB903)")
    if status.pending:
        return PENDING, f"{len(status.pending)} upgrade(s) pending: `migrate` applies them"
    if status.state == "unversioned":
        return PENDING, "built from the head files without the version table: `migrate` records its history"
    if report is not None and report.differences:
        return DIFFERS, f"differs from the contract although no upgrade is pending: {NEEDS_UPGRADE_FILE}"
    return OK, f"up to date at release {status.release}, equal to the contract"


def _recorded_rows(status: Status) -> list[dict[str, Any]]:
    return [{"upgrade": r.upgrade, "release": r.release, "how": r.how, "applied_at": r.applied_at,
             "duration": f"{r.duration_ms:.1f} ms" if r.duration_ms is not None else ""} for r in status.recorded]


def print_status(name: str, status: Status, report: verify.ContractReport | None, sentence: str) -> None:
    release = status.release or "none"
    print(f"{name}: {state_name(status)}, release {release} (this schema folder: head {status.head_release})")
    if status.recorded:
        print("  applied:")
        print(table(_recorded_rows(status)))
    print(f"  pending: {', '.join(u.name for u in status.pending) or 'none'}")
    if status.edited:
        print(f"  EDITED released upgrades (checksum differs from the file): {', '.join(status.edited)}")
    if status.unknown:
        print(f"  UNKNOWN upgrades (not in this schema folder): {', '.join(status.unknown)}")
    if report is not None:
        if report.differences and (status.pending or status.adoptable_as == "1.0.0"):
            print(f"  contract: {len(report.differences)} difference(s), expected until the pending upgrades run "
                  "(--json lists them)")
        else:
            verify.print_contract(report)
    print(f"  => {sentence}")


def cmd_status(args: argparse.Namespace) -> int:
    database = target.database_dsn(args.dsn)
    name = target.database_name(database)
    with target.connect(database) as conn:
        status = read_history(conn, args.schema_dir)
        report = contract_drift(conn, contract_path(args)) if status.state != "empty" else None
    code, sentence = verdict(status, report)
    if args.json:
        emit_json({"ok": code == OK, "database": name, "state_name": state_name(status), "verdict": sentence,
                   **status.as_dict(), "contract": report.as_dict() if report else None})
    else:
        print_status(name, status, report, sentence)
    return code


def cmd_contract(args: argparse.Namespace) -> int:
    from leadboost_schema.server import start_server
    from leadboost_schema.server.settings import Settings, SettingsError
    from leadboost_schema.upgrades.regenerate import stale_files

    folder = args.schema_dir.resolve()
    if args.contract is None and folder != schema_dir().resolve():
        raise CliError(f"--schema-dir {folder} is not the packaged schema: pass --contract FILE for its contract "
                       "(the packaged contract.json describes the packaged schema/ only)", USAGE)
    contract = contract_path(args)
    try:
        settings = Settings.resolve()
        with step("regenerating on a throw-away server"), start_server(settings) as server:
            stale = stale_files(server, folder, contract, write=args.write)
    except (NoServerError, SettingsError) as error:
        raise CliError(f"no server to build the schema on: {error}", NO_SERVER) from None
    except HistoryError as error:
        raise CliError(f"{folder}/upgrades: {error}", USAGE) from None
    names = [str(path) for path in stale]
    if args.json:
        emit_json({"ok": args.write or not stale, "written" if args.write else "stale": names})
    elif args.write:
        print(f"rewrote {', '.join(names)}" if names else "every derived file was already fresh")
    elif stale:
        print(f"stale (run `leadboost-schema contract --write` and commit them): {', '.join(names)}")
    else:
        print("contract.json, history.sql and pending.sql are fresh")
    return DIFFERS if stale and not args.write else OK


def add_contract_parser(commands: argparse._SubParsersAction, common: Any) -> None:
    text = ("regenerate (--write) or check (--check) contract.json and schema/upgrades/history.sql + pending.sql "
            "from schema/ on a throw-away server; --check exits 1 naming the stale files")
    command = commands.add_parser("contract", help=text, description=text)
    mode = command.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the derived files that changed")
    mode.add_argument("--check", action="store_true", help="only say which derived files are stale (exit 1)")
    command.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    command.add_argument("--schema-dir", type=Path, default=common, help="folder of the SQL scripts")
    add_arguments(command)
    command.set_defaults(run=cmd_contract)
