"""Run folders (one per started server, named after the owner process) and reaping the ones whose owner died."""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from leadboost_schema.server.privileges import ServerUser


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), so a reused pid is not taken for its owner."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()[19]


@dataclass(frozen=True)
class ServerFolder:
    """A folder holding one server: ``data/``, ``socket/`` and ``server.log``."""

    path: Path

    @property
    def data(self) -> Path:
        return self.path / "data"

    @property
    def socket(self) -> Path:
        return self.path / "socket"

    @property
    def log(self) -> Path:
        return self.path / "server.log"


class RunFolder(ServerFolder):
    """A test run's server folder, named ``<owner pid>-<owner start time>-<token>``."""

    def owner_alive(self) -> bool:
        pid_text, start, _ = self.path.name.split("-", 2)
        return process_start_time(int(pid_text)) == start


def new_run_folder(root: Path, user: ServerUser) -> RunFolder:
    """``root/runs/<pid>-<start time>-<token>``: the name alone tells whether its owner still lives."""
    name = f"{os.getpid()}-{process_start_time(os.getpid())}-{secrets.token_hex(3)}"
    folder = RunFolder(root / "runs" / name)
    folder.path.mkdir(mode=0o755)
    user.make_private_dir(folder.socket)
    return folder


def postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def running_postmaster(data_dir: Path) -> int | None:
    """The pid of the postmaster serving ``data_dir`` if it runs: the pid file is checked against /proc (the
    postmaster's working folder is its data folder), so a stale file or a reused pid does not count."""
    pid = postmaster_pid(data_dir)
    if pid is None:
        return None
    try:
        return pid if Path(os.readlink(f"/proc/{pid}/cwd")).resolve() == data_dir.resolve() else None
    except OSError:
        return None


def kill_postmaster(data_dir: Path, sig: int = signal.SIGQUIT, wait_s: float = 10.0) -> None:
    """Send ``sig`` to the postmaster of ``data_dir`` (SIGQUIT = what ``pg_ctl stop -m immediate`` sends) and
    wait for it to go. Checks /proc first so a reused pid is never signalled."""
    pid = running_postmaster(data_dir)
    if pid is None:
        return
    os.kill(pid, sig)
    deadline = time.monotonic() + wait_s
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.005)


def _running(pid: int) -> bool:
    """True while ``pid`` runs; collects it if it is our own exited child, and counts a zombie as gone."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def reap_stale_runs(root: Path) -> list[str]:
    """Stop the servers of run folders whose owner process is gone, remove the folders; return their names."""
    reaped = []
    runs = root / "runs"
    for path in sorted(runs.iterdir()) if runs.is_dir() else []:
        folder = RunFolder(path)
        try:
            if folder.owner_alive():
                continue
        except ValueError:  # not one of ours
            continue
        kill_postmaster(folder.data)
        shutil.rmtree(path, ignore_errors=True)
        reaped.append(path.name)
    return reaped
