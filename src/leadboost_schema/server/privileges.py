"""Who runs the server processes: ourselves, or (when we are root) an unprivileged user; folders handed to them."""
from __future__ import annotations

import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path


class ServerUserError(RuntimeError):
    """The server user named in the settings does not exist."""


@dataclass(frozen=True)
class ServerUser:
    name: str
    uid: int
    gid: int

    @property
    def dropping(self) -> bool:
        """True when the server runs as another user than us (PostgreSQL refuses to run as root)."""
        return self.uid != os.geteuid()

    def subprocess_kwargs(self) -> dict[str, object]:
        """Arguments for subprocess.Popen/run that start a child as this user with no supplementary groups."""
        if not self.dropping:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def make_private_dir(self, path: Path) -> Path:
        """Create (or take over) ``path`` as a 0700 folder of this user. Only ever used inside our own folders."""
        path.mkdir(mode=0o700, parents=False, exist_ok=True)
        if self.dropping:
            os.chown(path, self.uid, self.gid)
        os.chmod(path, 0o700)
        return path

    def can_traverse(self, path: Path) -> bool:
        """Whether this user can reach ``path``: every folder from / down to it must be searchable for them."""
        path = path.resolve()
        for folder in [*reversed(path.parents), path]:
            try:
                info = folder.stat()
            except OSError:
                return False
            if stat.S_ISDIR(info.st_mode) and not self._may(info, stat.S_IXUSR, stat.S_IXGRP, stat.S_IXOTH):
                return False
        return True

    def _may(self, info: os.stat_result, owner_bit: int, group_bit: int, other_bit: int) -> bool:
        if self.uid == 0:
            return True
        if info.st_uid == self.uid:
            return bool(info.st_mode & owner_bit)
        if info.st_gid == self.gid:
            return bool(info.st_mode & group_bit)
        return bool(info.st_mode & other_bit)

    def describe(self) -> str:
        """One line for the report header saying what root handling did, if anything."""
        if not self.dropping:
            return f"server processes run as {self.name} (the current user)"
        return (f"running as root: server processes run as {self.name} (uid {self.uid}); "
                "their data/socket folders are 0700 inside the leadboost cache folder only")


def server_user(requested: str) -> ServerUser:
    """The user for server processes: ourselves unless we are root, then ``requested`` (default nobody)."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid)
    try:
        entry = pwd.getpwnam(requested)
    except KeyError:
        raise ServerUserError(
            f"server user {requested!r} does not exist: PostgreSQL refuses root, so name an existing "
            "unprivileged user with --leadboost-server-user / LEADBOOST_SERVER_USER") from None
    if entry.pw_uid == 0:
        raise ServerUserError(f"server user {requested!r} is root: PostgreSQL refuses to run as root")
    return ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid)
