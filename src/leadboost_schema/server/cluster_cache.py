"""Cached data folders, copied per run instead of re-running initdb and migrations.

``clusters/<version key>-base``: a fresh initdb result per PostgreSQL build and server user.
``clusters/<version key>-<schema hash>``: a cleanly stopped cluster that already holds the migrated templates
of that schema; a run copies it (``cp -a``, ~40 MB) and starts it, so a warm run neither initdbs nor migrates.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from leadboost_schema.server import cluster
from leadboost_schema.server.binaries import Binaries
from leadboost_schema.server.privileges import ServerUser

KEEP_PER_VERSION = 4
UNUSED_DAYS = 3  # entries of other builds, users or cluster formats are removed after this long unused


def version_key(binaries: Binaries, user: ServerUser) -> str:
    identity = f"{binaries.version_text}|{user.name}|format {cluster.CLUSTER_FORMAT}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:10]
    return f"pg{binaries.major}-{digest}"


def copy_data_dir(source: Path, target: Path) -> None:
    """Copy a data folder keeping owner and modes (``cp -a`` is several times faster than shutil here)."""
    subprocess.run(["cp", "-a", str(source), str(target)], check=True)


def cached_cluster(root: Path, key: str, schema: str) -> Path | None:
    """The migrated cluster for (version, schema hash) if there is one, else the base cluster if there is one."""
    for name in (f"{key}-{schema}", f"{key}-base"):
        path = root / "clusters" / name
        if (path / "PG_VERSION").exists():
            os.utime(path)  # pruning keeps the most recently used
            return path
    return None


def build_base_cluster(root: Path, key: str, binaries: Binaries, user: ServerUser) -> Path:
    """initdb once into the cache (staged, then renamed, so a concurrent run never sees half a cluster)."""
    target = root / "clusters" / f"{key}-base"
    if (target / "PG_VERSION").exists():
        return target
    staging = root / "clusters" / f".{key}-base.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    cluster.initdb(binaries, staging, user)
    _publish(staging, target)
    return target


def save_migrated_cluster(data_dir: Path, root: Path, key: str, schema: str) -> None:
    """Keep a cleanly stopped run's data folder as the cached cluster of (version, schema hash)."""
    for leftover in ("postmaster.pid", "postmaster.opts"):
        (data_dir / leftover).unlink(missing_ok=True)
    _publish(data_dir, root / "clusters" / f"{key}-{schema}", replace=True)
    _prune(root, key)


def _publish(staging: Path, target: Path, replace: bool = False) -> None:
    if replace and target.exists():
        retired = target.with_name(f".retired-{target.name}.{os.getpid()}")
        target.rename(retired)
        shutil.rmtree(retired, ignore_errors=True)
    try:
        staging.rename(target)
    except OSError:  # another run published the same entry first
        shutil.rmtree(staging, ignore_errors=True)


def _prune(root: Path, key: str) -> None:
    migrated = [p for p in (root / "clusters").glob(f"{key}-*") if not p.name.endswith("-base")]
    migrated.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in migrated[KEEP_PER_VERSION:]:
        shutil.rmtree(old, ignore_errors=True)
    cutoff = time.time() - UNUSED_DAYS * 86400
    for entry in (root / "clusters").iterdir():
        if not entry.name.startswith(".") and entry.stat().st_mtime < cutoff:
            shutil.rmtree(entry, ignore_errors=True)
