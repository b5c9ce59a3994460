"""The long-lived local server of ``leadboost-schema up``: a persistent data folder per backend and major version,
started with ``pg_ctl`` so it keeps running after the command exits, and stopped by ``leadboost-schema down``.

Unlike the pytest plugin's servers (one per test run, in the cache, durability off), this one keeps its data:
``$LEADBOOST_DATA_DIR`` if set, else ``/var/lib/leadboost-schema`` for root (a folder the unprivileged server user
can traverse; root's home is 0700) and ``${XDG_DATA_HOME:-~/.local/share}/leadboost-schema`` for anyone else.
Each instance lives in ``<root>/<backend>-pg<major>/``: ``data/``, ``socket/``, ``server.log``. It listens on its
unix socket only (trust authentication, no TCP), so only its owner (and root) can connect.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from leadboost_schema.errors import BackendUnavailable
from leadboost_schema.server import cluster
from leadboost_schema.server.binaries import Binaries, find_embedded, find_local
from leadboost_schema.server.privileges import ServerUser, ServerUserError, server_user
from leadboost_schema.server.runs import ServerFolder, running_postmaster
from leadboost_schema.server.workspace import reachable_binaries

DATA_DIR_ENV = "LEADBOOST_DATA_DIR"
START_TIMEOUT_S = 120


def data_root() -> Path:
    """Where ``up`` keeps its servers (see the module docstring)."""
    chosen = os.environ.get(DATA_DIR_ENV)
    if chosen:
        return Path(chosen).expanduser().absolute()
    if os.geteuid() == 0:
        return Path("/var/lib/leadboost-schema")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "leadboost-schema"


class Instance(ServerFolder):
    """One persistent server folder: ``<root>/<backend>-pg<major>`` holding ``data/``, ``socket/``, ``server.log``."""

    @property
    def name(self) -> str:
        return self.path.name

    def conninfo(self, dbname: str = "postgres") -> str:
        return psycopg.conninfo.make_conninfo(host=str(self.socket), user="postgres", dbname=dbname)

    def running_pid(self) -> int | None:
        """The postmaster's pid when this instance's server runs (a stale pid file does not count)."""
        return running_postmaster(self.data)


def instances(root: Path | None = None) -> list[Instance]:
    """Every instance folder under the data root, running or not."""
    root = root or data_root()
    return sorted((Instance(p) for p in root.glob("*-pg*") if (p / "data" / "PG_VERSION").exists()),
                  key=lambda i: i.name)


@contextlib.contextmanager
def locked(backend: str, root: Path | None = None, on_wait: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Hold the data root's lock for ``backend`` (``<root>/.<backend>.lock``, an flock released when the process
    ends, even killed): concurrent ``up``s of one backend run one after the other, the later ones joining the
    server the first started. ``on_wait`` hears once when another holds it."""
    root = root or data_root()
    root.mkdir(mode=0o755, parents=True, exist_ok=True)
    path = root / f".{backend}.lock"
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait(f"another `up` is using {root} ({backend}): waiting for it to finish")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield path


def find_binaries(backend: str, bindir: Path | None = None) -> Binaries:
    if backend == "embedded":
        return find_embedded()
    if backend == "local":
        return find_local(bindir, flag="--bindir")
    raise BackendUnavailable(f"backend {backend!r} cannot run a long-lived server", "use local or embedded")


@dataclass(frozen=True)
class Started:
    instance: Instance
    binaries: Binaries
    created: bool  # initdb ran now
    started: bool  # the server was not running before


def ensure_running(backend: str, bindir: Path | None = None, user_name: str = "nobody",
                   root: Path | None = None) -> Started:
    """Initialise (first time) and start (when stopped) the instance of ``backend``; a running one is left alone."""
    root = root or data_root()
    try:
        user = server_user(user_name)
    except ServerUserError as error:
        raise BackendUnavailable(str(error)) from None
    root.mkdir(mode=0o755, parents=True, exist_ok=True)
    if not user.can_traverse(root):
        raise BackendUnavailable(f"server user {user.name} cannot reach the data folder {root}",
                                 f"set {DATA_DIR_ENV} to a folder every user can traverse")
    binaries = reachable_binaries(find_binaries(backend, bindir), user, root)
    instance = Instance(root / f"{backend}-pg{binaries.major}")
    created = not (instance.data / "PG_VERSION").exists()
    if created:
        instance.path.mkdir(mode=0o755, exist_ok=True)
        cluster.initdb(binaries, instance.data, user)
    if instance.running_pid() is not None:
        return Started(instance, binaries, created, started=False)
    _prepare_runtime_files(instance, user)
    _pg_ctl_start(binaries, instance, user)
    return Started(instance, binaries, created, started=True)


def _prepare_runtime_files(instance: Instance, user: ServerUser) -> None:
    user.make_private_dir(instance.socket)
    instance.log.touch(mode=0o600, exist_ok=True)
    if user.dropping:  # pg_ctl, running as the server user, appends to the log
        os.chown(instance.log, user.uid, user.gid)


def _pg_ctl_start(binaries: Binaries, instance: Instance, user: ServerUser) -> None:
    # pg_ctl detaches the postmaster into its own session: it outlives this command, as `up` promises.
    options = f"-k '{instance.socket}' -c listen_addresses=''"
    done = subprocess.run(
        [str(binaries.tool("pg_ctl")), "start", "-w", "-t", str(START_TIMEOUT_S), "-D", str(instance.data),
         "-l", str(instance.log), "-o", options],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd="/",
        check=False, **user.subprocess_kwargs())
    if done.returncode != 0:
        tail = " | ".join(instance.log.read_text(errors="replace").strip().splitlines()[-3:])
        raise BackendUnavailable(f"pg_ctl start failed: {done.stderr.strip() or tail}",
                                 f"see {instance.log}")


def stop(instance: Instance) -> bool:
    """Fast shutdown (a checkpoint, data kept) of a running instance; False when it was not running."""
    if instance.running_pid() is None:
        return False
    cluster.stop(instance.data, clean=True)
    return True
