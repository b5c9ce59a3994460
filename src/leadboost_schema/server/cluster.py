"""A PostgreSQL data folder driven directly: initdb, start on a unix socket only, wait until ready, stop."""
from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from leadboost_schema.errors import BackendUnavailable
from leadboost_schema.server.binaries import Binaries
from leadboost_schema.server.privileges import ServerUser
from leadboost_schema.server.runs import kill_postmaster

# 1 MB WAL segments instead of 16: a cached cluster then carries ~2 MB of WAL instead of ~32 MB, so the copy made
# at every run start is ~40 % smaller.
WAL_SEGMENT_MB = 1
# Bumped whenever initdb options change, so cached clusters made the old way are not reused.
CLUSTER_FORMAT = 2

# Settings for throw-away test servers: durability off (a crash loses nothing we need), no TCP at all, room for
# many xdist workers each holding a few sessions, modest memory so parallel runs on a small machine fit.
TEST_SERVER_SETTINGS: dict[str, str] = {
    "listen_addresses": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "32MB",
    "max_wal_size": "512MB",
    "min_wal_size": f"{2 * WAL_SEGMENT_MB}MB",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    # Dynamic shared memory as files in the data folder (pg_dynshmem/), not /dev/shm/PostgreSQL.*: an immediate
    # stop leaves its segments behind, and the run folder is the one place we clean.
    "dynamic_shared_memory_type": "mmap",
    "log_min_messages": "warning",
    "log_checkpoints": "off",
}
READY_TIMEOUT_S = 60.0


def initdb(binaries: Binaries, data_dir: Path, user: ServerUser) -> None:
    """Initialise ``data_dir`` (which must not exist) owned by the server user, superuser ``postgres``, trust auth."""
    user.make_private_dir(data_dir)
    done = subprocess.run(
        [str(binaries.tool("initdb")), "-D", str(data_dir), "-U", "postgres", "--auth=trust", "--no-sync",
         "-E", "UTF8", "--locale=C", "--no-instructions", f"--wal-segsize={WAL_SEGMENT_MB}"],
        capture_output=True, text=True, cwd="/", check=False, **user.subprocess_kwargs())
    if done.returncode != 0:
        raise BackendUnavailable(f"initdb failed: {done.stderr.strip()[-500:]}",
                                 f"check that {user.name} can run {binaries.bindir}/initdb")


def start(binaries: Binaries, data_dir: Path, socket_dir: Path, log_file: Path, user: ServerUser) -> None:
    """Start ``postgres`` as the server user in its own session (Ctrl-C in the terminal doesn't reach it; we
    stop it ourselves) and return once it accepts connections on ``socket_dir``."""
    args = [str(binaries.tool("postgres")), "-D", str(data_dir), "-k", str(socket_dir)]
    for name, value in TEST_SERVER_SETTINGS.items():
        args += ["-c", f"{name}={value}"]
    with open(log_file, "ab") as log:
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   cwd="/", start_new_session=True, **user.subprocess_kwargs())
    _wait_ready(process, data_dir, log_file)


def _wait_ready(process: subprocess.Popen, data_dir: Path, log_file: Path) -> None:
    # postmaster.pid's 8th line turns to "ready" when connections are accepted (PostgreSQL 10+).
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_file.read_text(errors="replace").strip().splitlines()[-5:]
            raise BackendUnavailable("postgres exited at start: " + " | ".join(tail))
        try:
            lines = (data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            lines = []
        if len(lines) >= 8 and lines[7].strip() == "ready":
            return
        time.sleep(0.005)
    kill_postmaster(data_dir)
    raise BackendUnavailable(f"postgres did not become ready within {READY_TIMEOUT_S:.0f} s (log: {log_file})")


def stop(data_dir: Path, clean: bool = True) -> None:
    """Stop the server of ``data_dir``: a fast shutdown (checkpoint, data folder reusable) or an immediate one."""
    kill_postmaster(data_dir, signal.SIGINT if clean else signal.SIGQUIT, wait_s=30.0)
