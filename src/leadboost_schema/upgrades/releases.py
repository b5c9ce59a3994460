"""Released versions of the schema and where their files are: a release is a git commit of this repository whose
``schema/`` folder is what that release installs. The gate and the upgrade proofs build a release from there."""
from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

from leadboost_schema.upgrades.files import load

# Release -> the commit whose schema/ it is. 1.0.0 is the source document's "Versión 1.0.0" as first built here
# (issue 11). A release is added here when it is cut; an upgrade file whose header names a release listed here is
# released, hence immutable (upgrades/files.py checksums enforce it on databases, the gate on the repository).
RELEASES: dict[str, str] = {
    "1.0.0": "9e73ed31afcc4fe8a14e61f7718f6cb726d1a21e",
}


class ReleaseError(RuntimeError):
    """A release or git revision cannot be read (unknown name, no git history, missing schema/)."""


def _version_key(release: str) -> tuple[int, ...]:
    return tuple(int(part) for part in release.split("."))


def last_release() -> str:
    """The newest release cut (not head's upcoming one)."""
    return max(RELEASES, key=_version_key)


def released_upgrades(schema_dir: Path) -> list[str]:
    """Names of the upgrade files that belong to a cut release (immutable from now on)."""
    return [u.name for u in load(schema_dir) if u.release in RELEASES]


def revision_of(name: str) -> str:
    """A release name (``1.0.0``) to its commit; anything else is taken as a git revision as given."""
    return RELEASES.get(name, name)


def tree_at(revision: str, repo: Path, dest: Path, path: str | None = None) -> Path:
    """Extract ``path`` (a folder inside the repository; None: every file) of ``revision`` (a release name or any
    git revision) of the git repository ``repo`` into ``dest`` with ``git archive``; return ``dest``."""
    commit = revision_of(revision)
    try:
        archive = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", commit, *([path] if path else [])],
                                 check=True, capture_output=True).stdout
    except FileNotFoundError as error:
        raise ReleaseError("git is not installed: a release is read from the repository's history") from error
    except subprocess.CalledProcessError as error:
        detail = error.stderr.decode(errors="replace").strip().splitlines()
        raise ReleaseError(f"cannot read {path + '/' if path else 'the tree'} at {revision} ({commit}) in {repo}: "
                           f"{detail[-1] if detail else 'git archive failed'}") from None
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def schema_at(revision: str, repo: Path, dest: Path, folder_in_repo: str = "schema") -> Path:
    """Extract the schema folder (``folder_in_repo``, a path inside the repository: ``schema`` here, another in a
    repository that keeps its schema elsewhere) of ``revision`` (a release name or any git revision) of the git
    repository ``repo`` into ``dest`` and return the extracted folder."""
    folder = tree_at(revision, repo, dest, folder_in_repo) / folder_in_repo
    if not (folder / "000_master_migration.sql").is_file():
        raise ReleaseError(f"{folder_in_repo}/ at {revision} ({revision_of(revision)}) has no 000_master_migration.sql")
    return folder
