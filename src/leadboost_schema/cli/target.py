"""Which database a command acts on (the --dsn given, else the running `up` server's leadboost_ai), and connecting
to it with one-line errors."""
from __future__ import annotations

import psycopg

from leadboost_schema.cli import dev_server
from leadboost_schema.cli.errors import UNREACHABLE, USAGE, CliError, connection_error

DEFAULT_DATABASE = "leadboost_ai"
CONNECT_TIMEOUT_S = 10


def _params(dsn: str) -> dict[str, str]:
    try:
        return {k: str(v) for k, v in psycopg.conninfo.conninfo_to_dict(dsn).items()}
    except psycopg.ProgrammingError as error:
        raise CliError(f"bad DSN: {str(error).strip().splitlines()[0]} (write e.g. \"host=localhost user=postgres "
                       "dbname=leadboost_ai\" or postgresql://postgres@localhost/leadboost_ai)", USAGE) from None


def database_dsn(dsn: str | None) -> str:
    """The conninfo of the target database: ``dsn`` (``leadboost_ai`` when it names no database), else the
    ``leadboost_ai`` database of the local server ``up`` started (the most recently started if several run)."""
    if dsn is not None:
        params = _params(dsn)
        params.setdefault("dbname", DEFAULT_DATABASE)
        return psycopg.conninfo.make_conninfo(**params)
    running = [i for i in dev_server.instances() if i.running_pid() is not None]
    if not running:
        raise CliError(f"no database given and no local server running (looked in {dev_server.data_root()}): "
                       "pass --dsn, or start one with `leadboost-schema up`", UNREACHABLE)
    newest = max(running, key=lambda i: (i.data / "postmaster.pid").stat().st_mtime)
    return newest.conninfo(DEFAULT_DATABASE)


def maintenance_dsn(database: str) -> str:
    """The same server's ``postgres`` database, for CREATE DATABASE."""
    return psycopg.conninfo.make_conninfo(database, dbname="postgres")


def database_name(database: str) -> str:
    return _params(database).get("dbname", DEFAULT_DATABASE)


def connect(conninfo: str) -> psycopg.Connection:
    """An autocommit connection, or a CliError saying why there is none."""
    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.Error as error:
        raise connection_error(error, conninfo) from None
