"""The plugin's own folder tree: the cache root, and server binaries copied where the server user can reach them."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

from leadboost_schema.errors import BackendUnavailable
from leadboost_schema.server.binaries import SERVER_TOOLS, Binaries
from leadboost_schema.server.privileges import ServerUser


def prepare_root(root: Path) -> Path:
    """Create the cache root (0755, ours); refuse one that another user owns or others can write to."""
    root.mkdir(mode=0o755, parents=True, exist_ok=True)
    info = root.stat()
    if info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise BackendUnavailable(
            f"cache folder {root} is owned by another user or writable by others",
            "remove it, or point --leadboost-cache-dir / LEADBOOST_CACHE_DIR at a folder of your own")
    for child in ("bin", "clusters", "runs"):
        (root / child).mkdir(mode=0o755, exist_ok=True)
    return root


def _reachable(binaries: Binaries, user: ServerUser) -> bool:
    return user.can_traverse(binaries.bindir) and all(
        (binaries.tool(tool).stat().st_mode & 0o001) for tool in SERVER_TOOLS)


def reachable_binaries(binaries: Binaries, user: ServerUser, root: Path) -> Binaries:
    """The same binaries, copied to ``root/bin/<key>`` first if the server user cannot traverse to them
    (e.g. a venv under /root, mode 0700). The copy keeps the install tree's relative layout."""
    if not user.dropping or _reachable(binaries, user):
        return binaries
    key = hashlib.sha256(f"{binaries.copy_root}|{binaries.copy_parts}|{binaries.version_text}|"
                         f"{binaries.tool('postgres').stat().st_mtime_ns}".encode()).hexdigest()[:16]
    target = root / "bin" / key
    relative_bindir = binaries.bindir.relative_to(binaries.copy_root)
    if not (target / relative_bindir / "postgres").exists():
        staging = root / "bin" / f".{key}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        for part in binaries.copy_parts:
            (staging / part).parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["cp", "-a", str(binaries.copy_root / part), str(staging / part)], check=True)
        os.chmod(staging, 0o755)
        try:
            staging.rename(target)
        except OSError:  # another run copied it at the same time: use theirs
            shutil.rmtree(staging, ignore_errors=True)
    return replace(binaries, bindir=target / relative_bindir, source=f"{binaries.source}, copied to {target} "
                   f"because {user.name} cannot traverse {binaries.bindir}")
