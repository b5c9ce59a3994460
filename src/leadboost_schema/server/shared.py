"""One server per test run: the xdist controller (or a lone pytest process) starts it in the background and stops
it at the end; workers receive it as plain data and never start or stop anything."""
from __future__ import annotations

import threading

from leadboost_schema.errors import NoServerError
from leadboost_schema.server import RunningServer, Server, acquire_server
from leadboost_schema.server.settings import Settings


class ServerUnavailable(RuntimeError):
    """Raised in place of a server that could not be had; the message is the one NoServerError message."""


class ServerLease:
    """The controller's handle: starts the server on a thread as soon as pytest is configured (overlapping
    collection), hands it out with ``get()`` and gives it back with ``stop()``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._running: RunningServer | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._start, name="leadboost-server-start", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        try:
            self._running = acquire_server(self.settings)
        except BaseException as error:  # noqa: BLE001 - kept and re-raised where the server is asked for
            self._error = error

    def get(self) -> Server:
        self._thread.join()
        if self._running is None:
            raise ServerUnavailable(str(self._error)) from self._error
        return self._running.server

    def notes(self) -> list[str]:
        self._thread.join()
        return list(self._running.notes) if self._running else []

    def for_workers(self) -> dict[str, object]:
        """What a worker needs: the server as a dict, or the reason there is none."""
        try:
            return {"server": self.get().to_dict()}
        except ServerUnavailable as error:
            return {"error": str(error)}

    def stop(self) -> None:
        self._thread.join()
        if self._running is not None:
            self._running.stop()
            self._running = None


class WorkerView:
    """A worker's side: the controller's server, already running."""

    def __init__(self, handed: dict[str, object]) -> None:
        self._handed = handed

    def get(self) -> Server:
        if "server" not in self._handed:
            raise ServerUnavailable(str(self._handed.get("error", "the controller gave no server")))
        return Server.from_dict(self._handed["server"])  # type: ignore[arg-type]

    def notes(self) -> list[str]:
        return []

    def stop(self) -> None:
        pass


__all__ = ["NoServerError", "ServerLease", "ServerUnavailable", "WorkerView"]
