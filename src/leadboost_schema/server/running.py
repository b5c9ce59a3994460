"""Where a running PostgreSQL is (``Server``, plain data) and what gives one back (``RunningServer``)."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

from psycopg.conninfo import make_conninfo


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
