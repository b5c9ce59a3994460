"""The CLI's exit codes and its one-line explanations of what went wrong (with the source document's advice)."""
from __future__ import annotations

import re

import psycopg

# Exit codes (documented in README.md, "CLI reference").
OK = 0
DIFFERS = 1  # verify found drift, or a verification/maintenance query failed
USAGE = 2  # bad arguments (argparse's own code)
UNREACHABLE = 3  # cannot connect: server down, unknown host, missing database, authentication refused
PERMISSION = 4  # the role lacks a privilege the command needs
SQL_FAILED = 5  # a schema script or query failed in the server
NO_SERVER = 6  # `up` could not start a local server
NOT_CONFIRMED = 7  # rollback or restore without --yes and no "yes" typed
QUARANTINED = 8  # backfill finished, but documents went to the quarantine (the file lists them and why)
REFUSED = 9  # migrate/status: the database matches no release (LB904), a released upgrade was edited (LB902),
#              or the database is newer than the schema folder (LB903); nothing was changed
PENDING = 10  # status: upgrades are pending (or nothing is installed): `migrate` would bring it to head

APP_GRANTS = ("GRANT USAGE ON SCHEMA iam, finanzas, stock, gobernanza, sys, events TO leadboost_app; "
              "GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA iam, finanzas, stock, gobernanza, sys, events "
              "TO leadboost_app; GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA iam, finanzas, stock, gobernanza, sys, "
              "events TO leadboost_app;")


# libpq refusing a conninfo value before connecting: `port=notaport`, `sslmode=bogus`, ... (a usage error).
_BAD_OPTION = re.compile(r'invalid (?:integer value "[^"]*" for connection option|\w+ value|port number|'
                         r'connection option)')


class CliError(Exception):
    """Ends the command with ``message`` on one line of stderr and exit status ``code``."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = " ".join(message.split())  # one line, whatever the server sent
        self.code = code


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _where(conninfo: str) -> str:
    """host[:port]/dbname of a conninfo, for messages (never the password)."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "the given DSN"
    host = str(params.get("host") or "the default socket")
    port = f":{params['port']}" if params.get("port") else ""
    return f"{host}{port}/{params.get('dbname', '?')}"


def connection_error(error: psycopg.Error, conninfo: str) -> CliError:
    """Why ``psycopg.connect(conninfo)`` failed, and what to do, on one line."""
    text = str(error)
    missing = re.search(r'database "([^"]+)" does not exist', text)
    if missing:
        name = missing.group(1)
        return CliError(f'database "{name}" does not exist at {_where(conninfo)}: create it first, as a superuser: '
                        f'CREATE DATABASE {name}; (or run `leadboost-schema up --dsn ...`, which creates it)',
                        UNREACHABLE)
    if re.search(r"password authentication failed|no pg_hba.conf entry|role \"[^\"]+\" does not exist", text):
        return CliError(f"authentication refused at {_where(conninfo)}: {_server_message(text)} — check the user "
                        "and password in the DSN (or PGPASSWORD) and the server's pg_hba.conf", UNREACHABLE)
    if re.search(r"permission denied for database", text):
        return CliError(f"{_server_message(text)} at {_where(conninfo)}: GRANT CONNECT ON DATABASE to this role, "
                        "or connect as the database owner", PERMISSION)
    if (isinstance(error, psycopg.ProgrammingError) and "conninfo" in text.lower()) or _BAD_OPTION.search(text):
        return CliError(f"bad DSN: {_first_line(error).removeprefix('connection is bad: ')} (write e.g. \"host=localhost user=postgres "
                        "dbname=leadboost_ai\" or postgresql://postgres@localhost/leadboost_ai)", USAGE)
    return CliError(f"cannot reach PostgreSQL at {_where(conninfo)}: {_server_message(text)} — is the server "
                    "running and the DSN right? (`leadboost-schema up` starts a local one)", UNREACHABLE)


def _server_message(text: str) -> str:
    # libpq prefixes 'connection to server ... failed: FATAL:  '; keep what the server or socket said. Its lines
    # ("Connection refused" / "Is the server running ...?") become sentences on one line.
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    sentences = " ".join(line if line[-1] in ".?!:;," else line + "." for line in lines[:-1])
    joined = f"{sentences} {lines[-1]}".strip() if lines else ""
    found = re.search(r".*failed:\s*(?:FATAL:\s*)?(.+)", joined)
    return found.group(1).strip() if found else joined


def statement_error(error: psycopg.Error, doing: str) -> CliError:
    """A failed statement (``doing`` says which step) as one line with the source document's advice, if any."""
    diag = error.diag
    return failure(diag.sqlstate, diag.message_primary or _first_line(error), doing)


def failure(sqlstate: str | None, message: str, doing: str) -> CliError:
    """The one-line error for SQLSTATE ``sqlstate`` while ``doing`` (e.g. "001_schema_iam.sql", "diagnostics")."""
    line = f"{doing} failed: [{sqlstate or '?'}] {message}"
    if "uuid-ossp" in message:
        return CliError(f'{line} — as a superuser: CREATE EXTENSION IF NOT EXISTS "uuid-ossp"; (the source '
                        "document's troubleshooting), then run the migration again as the database owner",
                        PERMISSION if sqlstate == "42501" else SQL_FAILED)
    if sqlstate == "42501" and doing.startswith("CREATE DATABASE"):
        return CliError(f"{line} — ask a superuser to create it (the source document's prerequisite): "
                        f"{doing};", PERMISSION)
    if sqlstate == "42501" and re.search(r"\.sql(:\d+)?$", doing):
        return CliError(f"{line} — the scripts need a role that may CREATE SCHEMA, TABLE and FUNCTION (the source "
                        "document's prerequisites): run them as the database owner or a superuser "
                        "(psql -U postgres ...)", PERMISSION)
    if sqlstate == "42501":
        return CliError(f"{line} — connect as the owner or a superuser, or grant the application role what the "
                        f"source document's troubleshooting says: {APP_GRANTS}", PERMISSION)
    if sqlstate in ("3F000", "42P01", "42883"):  # schema, table or function missing
        return CliError(f"{line} — is the schema migrated? run `leadboost-schema migrate` (or `up`)", SQL_FAILED)
    if sqlstate in ("42703", "42P07", "42710"):  # column missing, object exists in another shape
        return CliError(f"{line} — the database differs from the contract: `leadboost-schema verify` lists how",
                        SQL_FAILED)
    return CliError(line, SQL_FAILED)
