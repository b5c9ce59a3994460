"""Several database clients at once: one connection per thread, all started together for each round."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psycopg

# op(conn, client_index, call_index) does one unit of work on the client's own connection.
Operation = Callable[[psycopg.Connection, int, int], None]


class ClientPool:
    """``pool.run(op, per_client)``: every client calls ``op`` ``per_client`` times on its own connection, in
    its own thread, concurrently; returns when all are done (so a round's time is the wall-clock of all the
    work). psycopg releases the GIL while it waits for the server, so the clients really overlap at the
    server."""

    def __init__(self, connections: list[psycopg.Connection]) -> None:
        self.connections = connections
        self._threads = ThreadPoolExecutor(max_workers=len(connections), thread_name_prefix="bench-client")

    @property
    def size(self) -> int:
        return len(self.connections)

    def run(self, op: Operation, per_client: int) -> None:
        futures = [self._threads.submit(self._loop, op, client, per_client) for client in range(self.size)]
        for future in futures:
            future.result()

    def _loop(self, op: Operation, client: int, count: int) -> None:
        conn = self.connections[client]
        for call in range(count):
            op(conn, client, call)

    def close(self) -> None:
        self._threads.shutdown()
        for conn in self.connections:
            conn.close()
