"""Fresh databases cloned from a template: one at a time, or from a small pool kept warm by a background thread."""
from __future__ import annotations

import contextlib
import itertools
import queue
import secrets
import threading
from collections.abc import Iterator

import psycopg

from leadboost_schema.server import Server
from leadboost_schema.server.our_databases import create_database, drop_database

_TAKE_TIMEOUT_S = 120.0
_counter = itertools.count()
_process_token = secrets.token_hex(3)


def new_database_name() -> str:
    """Unique per process and call: ``lb_t_<token>_<n>`` (several runs may share a DSN-backend server)."""
    return f"lb_t_{_process_token}_{next(_counter)}"


@contextlib.contextmanager
def fresh_database(server: Server, template: str | None) -> Iterator[str]:
    """``with fresh_database(server, template) as dsn:`` a database cloned from ``template`` (None: an empty
    one from template1), dropped after."""
    name = new_database_name()
    with psycopg.connect(server.admin_dsn, autocommit=True) as admin:
        create_database(admin, name, template, server.version)
        try:
            yield server.dsn(name)
        finally:
            drop_database(admin, name)


class ClonePool:
    """Clones of one template made ahead of need, and drops done later, both on a background thread, so a test
    only waits for a clone that is already there. ``size=0`` clones synchronously."""

    def __init__(self, server: Server, template: str, size: int) -> None:
        self.server, self.template, self.size = server, template, size
        self._ready: queue.Queue[str | BaseException] = queue.Queue()
        self._to_drop: list[str] = []
        self._wake = threading.Condition()
        self._closed = False
        self._waiting = 0
        self._thread: threading.Thread | None = None
        if size > 0:
            self._thread = threading.Thread(target=self._work, name=f"leadboost-pool-{template}", daemon=True)
            self._thread.start()

    def take(self) -> str:
        """Name of a fresh clone now owned by the caller; hand it back with ``release``."""
        if self._thread is None:
            name = new_database_name()
            with psycopg.connect(self.server.admin_dsn, autocommit=True) as admin:
                create_database(admin, name, self.template, self.server.version)
            return name
        with self._wake:
            self._waiting += 1
            self._wake.notify_all()
        try:
            got = self._ready.get(timeout=_TAKE_TIMEOUT_S)
        finally:
            with self._wake:
                self._waiting -= 1
        if isinstance(got, BaseException):
            raise got
        return got

    def release(self, name: str) -> None:
        """Drop ``name`` later (off the test's critical path) or now when there is no background thread."""
        if self._thread is None:
            with psycopg.connect(self.server.admin_dsn, autocommit=True) as admin:
                drop_database(admin, name)
            return
        with self._wake:
            self._to_drop.append(name)
            self._wake.notify_all()

    def wait_full(self, timeout: float = _TAKE_TIMEOUT_S) -> None:
        """Block until ``size`` clones are ready (benchmarks use it to measure a pool that has caught up)."""
        with self._wake:
            self._wake.wait_for(lambda: self._ready.qsize() >= self.size, timeout)

    def close(self) -> None:
        """Stop the thread and drop every clone still held."""
        if self._thread is None:
            return
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        self._thread.join()

    def _short(self) -> bool:
        # Keep ``size`` clones ready, plus one for each caller already waiting.
        return self._ready.qsize() < self.size + self._waiting

    def _work(self) -> None:
        try:
            self._serve()
        except Exception as error:  # noqa: BLE001 - e.g. the server went away: every waiting test gets the reason, not a hang
            for _ in range(self._waiting + self.size + 1):
                self._ready.put(error)

    def _serve(self) -> None:
        with psycopg.connect(self.server.admin_dsn, autocommit=True) as admin:
            while True:
                with self._wake:
                    while not (self._closed or self._to_drop or self._short()):
                        self._wake.wait()
                    closed, short, dropping = self._closed, self._short(), self._to_drop
                    self._to_drop = []
                if closed:
                    break
                if short:  # clone before dropping: a test may be waiting for it
                    try:
                        name = new_database_name()
                        create_database(admin, name, self.template, self.server.version)
                        self._ready.put(name)
                        with self._wake:
                            self._wake.notify_all()
                    except Exception as error:  # noqa: BLE001 - hand the failure to whoever takes next
                        self._ready.put(error)
                for name in dropping:
                    drop_database(admin, name)
            leftovers = dropping + self._to_drop
            while not self._ready.empty():
                item = self._ready.get_nowait()
                if isinstance(item, str):
                    leftovers.append(item)
            for name in leftovers:
                drop_database(admin, name)
