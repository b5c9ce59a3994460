"""One server per test run, started only when a test needs it: the xdist controller (or a lone pytest process)
starts it in the background and stops it at the end; workers never start or stop anything.

With xdist the controller collects nothing, so it cannot see which tests need a database: workers tell it through
a small rendezvous folder. A worker that collects a test needing the server writes ``need``; the controller,
watching the folder, starts the server and writes ``server.json`` (the server as plain data, or why there is
none); a worker's first database test waits for that file. Nothing is started for a run whose tests never ask.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from pathlib import Path

from leadboost_schema.errors import NoServerError
from leadboost_schema.server import RunningServer, Server, acquire_server
from leadboost_schema.server.settings import Settings

_NEED, _ANSWER = "need", "server.json"
_POLL_S = 0.02
WAIT_TIMEOUT_S = 900.0  # a worker waiting for the controller's answer: far beyond any start (initdb ~3 s)


class ServerUnavailable(RuntimeError):
    """Raised in place of a server that could not be had; the message is the one NoServerError message."""


class ServerLease:
    """The controller's handle: ``start()`` begins getting the server on a thread (overlapping the rest of
    collection) and is idempotent; ``get()`` waits for it; ``stop()`` gives it back. ``watch_workers()`` starts it
    when an xdist worker says it needs it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._running: RunningServer | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._rendezvous: Path | None = None
        self._stopping = threading.Event()

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stopping.is_set():  # never start one after stop()
                self._thread = threading.Thread(target=self._start, name="leadboost-server-start", daemon=True)
                self._thread.start()

    def _start(self) -> None:
        try:
            self._running = acquire_server(self.settings)
        except BaseException as error:  # noqa: BLE001 - kept and re-raised where the server is asked for
            self._error = error

    def get(self) -> Server:
        self.start()
        if self._thread is None:
            raise ServerUnavailable("the test run is ending: no server is started any more")
        self._thread.join()
        if self._running is None:
            raise ServerUnavailable(str(self._error)) from self._error
        return self._running.server

    def failure(self) -> str | None:
        """Why the server could not be had, once its start has ended; None when it runs or never started."""
        if self._thread is None or self._thread.is_alive() or self._running is not None:
            return None
        return str(self._error)

    def notes(self) -> list[str]:
        if self._thread is None:
            return []
        self._thread.join()
        return list(self._running.notes) if self._running else []

    def watch_workers(self) -> dict[str, object]:
        """What an xdist worker needs to reach this lease (idempotent): the rendezvous folder, watched from now."""
        with self._lock:
            if self._rendezvous is None:
                self._rendezvous = Path(tempfile.mkdtemp(prefix="leadboost-rendezvous-"))
                threading.Thread(target=self._answer_workers, name="leadboost-rendezvous", daemon=True).start()
        return {"rendezvous": str(self._rendezvous)}

    def _answer_workers(self) -> None:
        assert self._rendezvous is not None
        need = self._rendezvous / _NEED
        while not need.exists():
            if self._stopping.wait(_POLL_S):
                return
        try:
            answer: dict[str, object] = {"server": self.get().to_dict()}
        except ServerUnavailable as error:
            answer = {"error": str(error)}
        staged = self._rendezvous / f".{_ANSWER}"
        staged.write_text(json.dumps(answer))
        staged.rename(self._rendezvous / _ANSWER)  # atomic: a worker never reads half an answer

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        if self._running is not None:
            self._running.stop()
            self._running = None
        if self._rendezvous is not None:
            shutil.rmtree(self._rendezvous, ignore_errors=True)


class WorkerView:
    """A worker's side: asks the controller for the server through the rendezvous folder, and waits for it."""

    def __init__(self, handed: dict[str, object]) -> None:
        self._folder = Path(str(handed["rendezvous"])) if "rendezvous" in handed else None
        self._answer: dict[str, object] | None = None

    @property
    def started(self) -> bool:
        return self._folder is not None and (self._folder / _NEED).exists()

    def start(self) -> None:
        """Tell the controller a test here needs the server (it starts it in the background)."""
        if self._folder is not None and not (self._folder / _NEED).exists():
            (self._folder / _NEED).touch()

    def get(self) -> Server:
        if self._folder is None:
            raise ServerUnavailable("the xdist controller gave no rendezvous folder (is it a leadboost-schema "
                                    "of the same version?)")
        if self._answer is None:
            self.start()
            deadline = time.monotonic() + WAIT_TIMEOUT_S
            while not (self._folder / _ANSWER).exists():
                if time.monotonic() > deadline or not self._folder.exists():
                    raise ServerUnavailable("the xdist controller did not answer with a server")
                time.sleep(_POLL_S)
            self._answer = json.loads((self._folder / _ANSWER).read_text())
        if "server" not in self._answer:
            raise ServerUnavailable(str(self._answer.get("error", "the controller gave no server")))
        return Server.from_dict(self._answer["server"])  # type: ignore[arg-type]

    def failure(self) -> str | None:
        return None  # the controller reports it

    def notes(self) -> list[str]:
        return []

    def watch_workers(self) -> dict[str, object]:
        raise RuntimeError("a worker has no workers")

    def stop(self) -> None:
        pass


__all__ = ["NoServerError", "ServerLease", "ServerUnavailable", "WorkerView"]
