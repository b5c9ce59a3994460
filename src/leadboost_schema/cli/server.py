"""`up` and `down`: a ready leadboost_ai (server, database, migration, seed data, verification) and stopping it."""
from __future__ import annotations

import argparse
import shlex
import shutil
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from leadboost_schema.catalog import runbook
from leadboost_schema.cli import dev_server, target, verify
from leadboost_schema.cli.errors import DIFFERS, NO_SERVER, OK, USAGE, CliError, statement_error
from leadboost_schema.cli.output import emit_json, print_checks, progress, step
from leadboost_schema.cli.scripts import apply_script, refusal_error, run_migration
from leadboost_schema.databases.sql_files import MASTER_MIGRATION, SEED_DATA
from leadboost_schema.errors import BackendUnavailable
from leadboost_schema.upgrades.apply import UpgradeRefused


def _start_local(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    try:
        with step(f"starting the {args.backend} PostgreSQL server"):
            started = dev_server.ensure_running(args.backend, args.bindir, args.server_user)
    except BackendUnavailable as error:
        raise CliError(f"no {args.backend} server: {error.reason}" + (f" — {error.fix}" if error.fix else ""),
                       NO_SERVER) from None
    instance = started.instance
    state = ("initialised and started" if started.created else "started") if started.started else "already running"
    progress(f"{instance.name}: {state}, data in {instance.path}")
    return instance.conninfo(target.DEFAULT_DATABASE), {
        "backend": args.backend, "instance": instance.name, "state": state, "data_dir": str(instance.path),
        "log": str(instance.log), "binaries": str(started.binaries.bindir)}


def _psql(server: dict[str, Any]) -> str:
    """``psql`` when one is on PATH, else the server's own (the embedded package ships one): a machine with only
    Python can still follow the printed command."""
    bundled = Path(server.get("binaries", "")) / "psql"
    if shutil.which("psql") is None and "binaries" in server and bundled.is_file():
        return shlex.quote(str(bundled))
    return "psql"


def ensure_database(database: str) -> bool:
    """Create the target database when it is missing (connecting to the server's ``postgres`` database); True
    when it was created now."""
    name = target.database_name(database)
    with target.connect(target.maintenance_dsn(database)) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        try:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            return False  # someone created it at the same moment
        except psycopg.Error as error:
            raise statement_error(error, f"CREATE DATABASE {name}") from None
    return True


def cmd_up(args: argparse.Namespace) -> int:
    args.backend = _backend_of(args)
    if args.dsn is not None:
        return _up(args, target.database_dsn(args.dsn), {"backend": "dsn"})
    # Two `up`s on one data folder: the second waits for the first (initdb, start, CREATE DATABASE, migration),
    # then finds the server running and the schema in place, and joins it.
    with dev_server.locked(args.backend, on_wait=progress):
        database, server = _start_local(args)
        return _up(args, database, server)


def _backend_of(args: argparse.Namespace) -> str:
    """--bindir names local binaries, so it picks the local backend; with --dsn or the embedded backend it would be
    ignored without a word (a running server joined as if the folder had been used): refused instead."""
    if args.bindir is None:
        return args.backend or "embedded"
    if args.dsn is not None:
        raise CliError("--bindir starts a local server; --dsn uses an existing one: give one of them", USAGE)
    if args.backend == "embedded":
        raise CliError("--bindir names local PostgreSQL binaries; the embedded backend ships its own: use "
                       "--backend local (or drop --backend)", USAGE)
    return "local"


def _up(args: argparse.Namespace, database: str, server: dict[str, Any]) -> int:
    name = target.database_name(database)
    created = ensure_database(database)
    progress(f"database {name}: {'created' if created else 'exists'}")
    with target.connect(database) as conn:
        # One `up` at a time per database (a --dsn one too): two concurrent migrations would fight over the
        # same objects. Session-level: released when the connection closes.
        conn.execute("SELECT pg_advisory_lock(hashtext('leadboost-schema up'))")
        # The same path as `migrate`: install head, or adopt and apply the pending upgrade files; a database
        # that matches no release (or an edited released upgrade) is refused, never re-scripted.
        try:
            migrated = run_migration(conn, args.schema_dir)
        except UpgradeRefused as refused:
            raise refusal_error(refused) from None
        apply_script(conn, args.schema_dir, SEED_DATA)
        version = conn.info.server_version
        with step("checking the contract and the verification block"):
            contract = verify.contract_report(conn, args.schema_dir)
            verify.require_schema_access(conn)
            checks = runbook.run_verification(conn)
    ok = contract.ok and all(c.schema_ok for c in checks)
    psql = f"{_psql(server)} {shlex.quote(database)}"
    if args.json:
        emit_json({"ok": ok, "database": database, "psql": psql, "server_version": version, "server": server,
                   "database_created": created, "release": migrated.after.release,
                   "applied": [r.upgrade for r in migrated.applied], "contract": contract.as_dict(),
                   "seed_data": verify.seed_state(checks),
                   "verification": [c.as_dict() for c in checks]})
        return OK if ok else DIFFERS
    print(f"{name} is {'ready' if ok else 'up, but NOT as the contract says'}"
          f"{verify.seed_remark(verify.seed_state(checks))}: PostgreSQL {_version_text(version)}"
          f" ({server['backend']}{', ' + server['data_dir'] if 'data_dir' in server else ''})")
    applied = f", upgrades applied now: {', '.join(r.upgrade for r in migrated.applied)}" if migrated.applied else ""
    print(f"  schema: release {migrated.after.release} ({MASTER_MIGRATION}{applied}); {SEED_DATA} applied")
    verify.print_contract(contract)
    print_checks("Verification block (source document; run in a transaction that is rolled back):", checks)
    print(f"Connection string: {database}\nConnect with:\n  {psql}")
    if args.dsn is None:
        print("Stop with:\n  leadboost-schema down")
    return OK if ok else DIFFERS


def _version_text(version: int) -> str:
    return f"{version // 10000}.{version % 10000}"


def cmd_down(args: argparse.Namespace) -> int:
    chosen = [i for i in dev_server.instances() if args.backend is None or i.name.startswith(args.backend + "-")]
    stopped = [i for i in chosen if dev_server.stop(i)]
    if args.json:
        emit_json({"ok": True, "stopped": [i.name for i in stopped], "data_root": str(dev_server.data_root())})
        return OK
    if not stopped:
        print(f"no local server was running (data root {dev_server.data_root()})")
    for instance in stopped:
        print(f"stopped {instance.name} (data kept in {instance.path}; `leadboost-schema up` starts it again)")
    return OK
