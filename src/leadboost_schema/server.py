"""The Server a test run uses, and getting one: each backend in SPEC §4 order until one answers."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Protocol

from psycopg.conninfo import make_conninfo

from leadboost_schema.errors import BackendUnavailable, NoServerError
from leadboost_schema.settings import Settings


@dataclass(frozen=True)
class Server:
    """Where a running PostgreSQL is, as plain data (handed from the xdist controller to its workers)."""

    backend: str
    conninfo: str
    version: int
    admin_db: str = "postgres"
    bindir: str | None = None
    description: str = ""

    def dsn(self, dbname: str = "postgres") -> str:
        """Conninfo string for database ``dbname`` on this server."""
        return make_conninfo(self.conninfo, dbname=dbname)

    @property
    def admin_dsn(self) -> str:
        """Conninfo of the maintenance database, for CREATE/DROP DATABASE."""
        return self.dsn(self.admin_db)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Server:
        return cls(**data)  # type: ignore[arg-type]


class RunningServer(Protocol):
    """A server this process got hold of and must give back: ``stop()`` leaves no process or file behind."""

    server: Server
    notes: list[str]

    def stop(self) -> None: ...


def acquire_server(settings: Settings) -> RunningServer:
    """Try each backend in order (or only the one picked); raise NoServerError listing every failure."""
    from leadboost_schema import backends

    starters = {"dsn": backends.use_dsn, "local": backends.start_local, "embedded": backends.start_embedded,
                "docker": backends.start_docker}
    failures: list[tuple[str, BackendUnavailable]] = []
    for name in settings.backends_to_try():
        try:
            return starters[name](settings)
        except BackendUnavailable as failure:
            failures.append((name, failure))
    raise NoServerError(failures)


@contextlib.contextmanager
def start_server(settings: Settings | None = None) -> Iterator[Server]:
    """``with start_server() as server:`` for scripts: a server for the block, stopped afterwards."""
    running = acquire_server(settings or Settings.resolve())
    try:
        yield running.server
    finally:
        running.stop()
