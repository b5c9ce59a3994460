"""The Server a test run uses, and getting one: each backend in SPEC §4 order until one answers."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from leadboost_schema.errors import BackendUnavailable, NoServerError
from leadboost_schema.server.running import RunningServer, Server
from leadboost_schema.server.settings import Settings

__all__ = ["RunningServer", "Server", "acquire_server", "start_server"]


def acquire_server(settings: Settings) -> RunningServer:
    """Try each backend in order (or only the one picked); raise NoServerError listing every failure."""
    from leadboost_schema.server import backends

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
