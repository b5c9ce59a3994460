"""`backup` and `restore`: pg_dump -Fc of the target database, and the source document's pg_restore -c of one."""
from __future__ import annotations

import argparse
from pathlib import Path

from leadboost_schema.cli import target
from leadboost_schema.cli.errors import OK, SQL_FAILED, CliError
from leadboost_schema.cli.output import emit_json, step
from leadboost_schema.cli.scripts import confirm
from leadboost_schema.databases.backup import BackupError, dump_database, restore_database


def _dsn(args: argparse.Namespace) -> str:
    database = target.database_dsn(args.dsn)
    target.connect(database).close()  # a clear one-line error when the database cannot be reached
    return database


def cmd_backup(args: argparse.Namespace) -> int:
    database = _dsn(args)
    try:
        with step(f"pg_dump -Fc of {target.database_name(database)} into {args.file}"):
            path = dump_database(database, Path(args.file), args.bindir)
    except BackupError as error:
        raise CliError(str(error), SQL_FAILED) from None
    size = path.stat().st_size
    if args.json:
        emit_json({"ok": True, "database": target.database_name(database), "file": str(path), "bytes": size})
    else:
        print(f"backup written: {path} ({size:,} bytes); restore it with: leadboost-schema restore {path}")
    return OK


def cmd_restore(args: argparse.Namespace) -> int:
    database = _dsn(args)
    name = target.database_name(database)
    if not Path(args.file).is_file():
        raise CliError(f"{args.file}: no such backup file", 2)
    confirm(f"This restores {args.file} into {name} (pg_restore -c): every object in the backup is dropped and "
            "re-created with the backup's data; changes made since the backup are LOST.", args.yes,
            "restore", "restore")
    try:
        with step(f"pg_restore -c of {args.file} into {name}"):
            restore_database(database, Path(args.file), args.bindir)
    except BackupError as error:
        raise CliError(f"{error} (one transaction: nothing was changed)", SQL_FAILED) from None
    if args.json:
        emit_json({"ok": True, "database": name, "file": str(args.file)})
    else:
        print(f"restored {args.file} into {name}")
    return OK
