"""`migrate`, `seed` and `rollback`: apply one of the schema folder's scripts to the target database. `migrate`
(and `up`) bring the database to head through the versioned history, then compare it with the contract."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import psycopg

from leadboost_schema.cli import history, target, verify
from leadboost_schema.cli.errors import (
    DIFFERS,
    NOT_CONFIRMED,
    OK,
    REFUSED,
    SQL_FAILED,
    USAGE,
    CliError,
    statement_error,
)
from leadboost_schema.cli.output import emit_json, progress, step
from leadboost_schema.databases.sql_files import MASTER_MIGRATION, SEED_DATA, SchemaFileError, apply_sql_file
from leadboost_schema.upgrades.apply import MigrateResult, UpgradeRefused, migrate
from leadboost_schema.upgrades.files import HistoryError

ROLLBACK = "999_rollback.sql"
POST_ROLLBACK_CHECKLIST = (
    "the application points back to Firebase",
    "environment variables restored",
    "application logs free of errors",
    "the cause of the rollback documented",
    "a correction plan before retrying",
)


def apply_script(conn: psycopg.Connection, schema_dir: Path, filename: str) -> None:
    """Apply ``schema_dir/filename`` as psql -f would (stopping at the first error); progress on stderr."""
    path = schema_dir / filename
    if not path.is_file():
        raise CliError(f"{path} not found: point --schema-dir (or LEADBOOST_SCHEMA_DIR) at the schema folder",
                       USAGE)
    try:
        with step(f"applying {filename}"):
            apply_sql_file(conn, path)
    except SchemaFileError as error:
        if isinstance(error.__cause__, psycopg.Error) and error.path is not None:
            raise statement_error(error.__cause__, f"{error.path.name}:{error.line}") from None
        raise CliError(str(error), SQL_FAILED) from None


def _run(args: argparse.Namespace, filename: str, done: str) -> int:
    database = target.database_dsn(args.dsn)
    with target.connect(database) as conn:
        apply_script(conn, args.schema_dir, filename)
    if args.json:
        emit_json({"ok": True, "script": filename, "database": target.database_name(database)})
    else:
        print(f"{done} ({filename} on {target.database_name(database)})")
    return OK


# What to do about each refusal of 000_master_migration.sql (the SQL message says what was found).
REFUSAL_ADVICE = {
    "LB904": "`leadboost-schema status` lists how it differs from head; bring it back to a release by hand or "
             "restore a backup — re-running the scripts cannot",
    "LB902": "restore the file as released (git checkout <release> -- schema/upgrades/<file>) and put the change in "
             "a new upgrade file",
    "LB903": "run migrate from a checkout at least as new as the database",
}


def refusal_error(refused: UpgradeRefused) -> CliError:
    return CliError(f"refused [{refused.sqlstate}] {refused} — {REFUSAL_ADVICE.get(refused.sqlstate, '')}", REFUSED)


def run_migration(conn: psycopg.Connection, schema_dir: Path) -> MigrateResult:
    """000_master_migration.sql through the versioned history (upgrades.apply.migrate), each upgrade announced on
    stderr; raises UpgradeRefused (LB902–LB904), or a CliError for a failed script or a broken history."""
    if not (schema_dir / MASTER_MIGRATION).is_file():
        raise CliError(f"{schema_dir / MASTER_MIGRATION} not found: point --schema-dir (or LEADBOOST_SCHEMA_DIR) at "
                       "the schema folder", USAGE)
    progress(f"applying {MASTER_MIGRATION}")
    try:
        return migrate(conn, schema_dir, echo=progress_line)
    except HistoryError as error:
        raise CliError(f"{schema_dir}/upgrades: {error}", USAGE) from None
    except SchemaFileError as error:
        if isinstance(error.__cause__, psycopg.Error) and error.path is not None:
            raise statement_error(error.__cause__, f"{error.path.name}:{error.line}") from None
        raise CliError(str(error), SQL_FAILED) from None


def progress_line(line: str) -> None:
    """An \\echo of the master (``leadboost-schema: upgrade 0001_….sql``) as a progress line."""
    print(line, file=sys.stderr, flush=True)


def _applied(result: MigrateResult) -> list[dict[str, object]]:
    return [{"upgrade": r.upgrade, "release": r.release, "duration_ms": r.duration_ms} for r in result.applied]


def add_backup_arguments(command: argparse.ArgumentParser) -> None:
    """``migrate --backup FILE`` / ``--no-backup`` (issue 16: the rollback plan's pre-migration backup)."""
    command.add_argument("--backup", type=Path, metavar="FILE",
                         help="pg_dump -Fc of the database before applying upgrades (default: "
                              "backup_pre_migration-<database>-<UTC time>.dump here, taken only when the database "
                              "holds our schemas and an upgrade is pending)")
    command.add_argument("--no-backup", action="store_true", help="apply without taking the backup first")
    command.add_argument("--bindir", type=Path, help="folder of pg_dump for --backup (default: local or embedded "
                                                     "binaries fit for the server)")


def backup_before_upgrading(args: argparse.Namespace, conn: psycopg.Connection, database: str) -> Path | None:
    """The pre-migration backup: taken when upgrades are pending on a database that already holds the schema (a
    fresh install has nothing to lose); a failed dump stops the command before anything changed."""
    from datetime import UTC, datetime

    from leadboost_schema.databases.backup import BackupError, dump_database
    from leadboost_schema.upgrades.state import read_status

    if args.no_backup:
        return None
    try:
        status = read_status(conn, args.schema_dir)
    except HistoryError:
        return None  # run_migration reports the broken history
    if status.state == "empty" or not status.pending:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.backup or Path(f"backup_pre_migration-{target.database_name(database)}-{stamp}.dump")
    try:
        with step(f"pg_dump -Fc of {target.database_name(database)} into {path} before upgrading"):
            dump_database(database, path, args.bindir)
    except BackupError as error:
        raise CliError(f"{error} — nothing was migrated; fix it or pass --no-backup", SQL_FAILED) from None
    progress(f"backup written: {path}; restore it with: leadboost-schema restore {path}")
    return path


def cmd_migrate(args: argparse.Namespace) -> int:
    database = target.database_dsn(args.dsn)
    name = target.database_name(database)
    with target.connect(database) as conn:
        backup = backup_before_upgrading(args, conn, database)
        try:
            result = run_migration(conn, args.schema_dir)
        except UpgradeRefused as refused:
            # LB904: the database matches no release; show how it differs from head before refusing.
            report = history.contract_drift(conn, history.contract_path(args)) if refused.sqlstate == "LB904" else None
            return _refused(args, name, refused, report)
        report = history.contract_drift(conn, history.contract_path(args))
    before, after = result.before, result.after
    if args.json:
        emit_json({"ok": report.ok, "database": name, "state_before": history.state_name(before),
                   "release_before": before.release, "release": after.release, "applied": _applied(result),
                   "backup": str(backup) if backup else None,
                   "contract": report.as_dict(), "advice": "" if report.ok else history.NEEDS_UPGRADE_FILE})
        return OK if report.ok else DIFFERS
    if before.state == "empty":
        print(f"{name}: installed release {after.release} (head)")
    elif before.state == "unversioned":
        print(f"{name}: adopted as {before.adoptable_as} (recognised by its catalog fingerprint)")
    for record in result.applied:
        duration = f"{record.duration_ms:.1f} ms" if record.duration_ms is not None else "?"
        print(f"  applied {record.upgrade} (release {record.release}) in {duration}")
    if not result.applied and before.state == "versioned":
        print(f"{name}: no upgrade pending (release {after.release})")
    if report.ok:
        print(f"{name}: schema migrated to release {after.release}; the catalog equals the contract")
        return OK
    print(f"{name}: at release {after.release}, but its catalog DIFFERS from the contract:")
    verify.print_contract(report)
    print(f"  {history.NEEDS_UPGRADE_FILE}")
    print(f"leadboost-schema migrate: {name} differs from the contract in {len(report.differences)} place(s) after "
          "migrating: a schema change needs an upgrade file", file=sys.stderr)
    return DIFFERS


def _refused(args: argparse.Namespace, name: str, refused: UpgradeRefused,
             report: verify.ContractReport | None) -> int:
    error = refusal_error(refused)
    if args.json:
        emit_json({"ok": False, "database": name, "refused": {"sqlstate": refused.sqlstate, "message": str(refused)},
                   "contract": report.as_dict() if report else None})
    elif report is not None and report.differences:
        print(f"{name}: matches no release; how it differs from head's contract:")
        verify.print_contract(report)
    print(f"leadboost-schema {args.command}: {error.message}", file=sys.stderr)
    return error.code


def cmd_seed(args: argparse.Namespace) -> int:
    return _run(args, SEED_DATA, "seed data inserted")


def confirm(question: str, yes: bool, action: str = "roll back", name: str = "rollback") -> None:
    """Ask on the terminal; without one (a script, a pipe) refuse unless ``--yes`` was given."""
    if yes:
        return
    if not sys.stdin or not sys.stdin.isatty():
        raise CliError(f"refusing to {action} without confirmation: stdin is not a terminal; pass --yes to confirm",
                       NOT_CONFIRMED)
    try:
        answer = input(f"{question}\nType yes to continue: ")
    except EOFError:
        answer = ""
    if answer.strip().lower() != "yes":
        raise CliError(f"{name} cancelled: nothing was changed", NOT_CONFIRMED)


def cmd_rollback(args: argparse.Namespace) -> int:
    database = target.database_dsn(args.dsn)
    name = target.database_name(database)
    with target.connect(database) as conn:
        confirm(f"This runs {ROLLBACK} on {name}: it drops the schemas iam, finanzas, stock, gobernanza, sys, "
                "events and migration with ALL their data (no backup is restored).", args.yes)
        apply_script(conn, args.schema_dir, ROLLBACK)
    if args.json:
        emit_json({"ok": True, "script": ROLLBACK, "database": name, "checklist": list(POST_ROLLBACK_CHECKLIST)})
        return OK
    print(f"rolled back ({ROLLBACK} on {name}). Post-rollback checklist (source document):")
    for item in POST_ROLLBACK_CHECKLIST:
        print(f"  [ ] {item}")
    return OK
