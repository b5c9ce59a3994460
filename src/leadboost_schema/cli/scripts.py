"""`migrate`, `seed` and `rollback`: apply one of the schema folder's scripts to the target database."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import psycopg

from leadboost_schema.cli import target
from leadboost_schema.cli.errors import NOT_CONFIRMED, OK, SQL_FAILED, USAGE, CliError, statement_error
from leadboost_schema.cli.output import emit_json, step
from leadboost_schema.databases.sql_files import MASTER_MIGRATION, SEED_DATA, SchemaFileError, apply_sql_file

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


def cmd_migrate(args: argparse.Namespace) -> int:
    return _run(args, MASTER_MIGRATION, "schema migrated")


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
