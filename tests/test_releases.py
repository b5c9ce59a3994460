"""Releases are read from this repository's git history (upgrades/releases.py)."""
import shutil
import subprocess
from pathlib import Path

import pytest

from leadboost_schema.paths import schema_dir
from leadboost_schema.upgrades.files import load
from leadboost_schema.upgrades.releases import (
    RELEASES,
    ReleaseError,
    last_release,
    released_upgrades,
    schema_at,
)

REPO = Path(__file__).resolve().parents[1]
needs_git_history = pytest.mark.skipif(not (REPO / ".git").exists(), reason="not a git checkout (an sdist)")


@needs_git_history
def test_release_1_0_0_is_the_schema_without_upgrades(tmp_path):
    folder = schema_at("1.0.0", REPO, tmp_path)
    names = {p.name for p in folder.iterdir()}
    assert {"000_master_migration.sql", "008_seed_data.sql", "999_rollback.sql"} <= names
    assert "upgrades" not in names  # 1.0.0 predates the versioned history


@needs_git_history
def test_an_unknown_revision_is_refused_with_its_name(tmp_path):
    with pytest.raises(ReleaseError, match="no-such-rev"):
        schema_at("no-such-rev", REPO, tmp_path)


def test_head_upgrades_all_belong_to_a_release_after_the_last_one_cut():
    # Head's files name the release they will ship in; none may claim a release already cut unless it is in it.
    cut = last_release()
    assert cut in RELEASES
    assert all(tuple(map(int, u.release.split("."))) > tuple(map(int, cut.split("."))) for u in load(schema_dir())
               if u.name not in released_upgrades(schema_dir()))


def test_a_repository_that_keeps_its_schema_elsewhere_is_gated_from_that_folder(tmp_path):
    """A downstream repository with the schema at db/schema: the gate's base is that folder at the base revision,
    and the change is the upgrade file head adds."""
    from leadboost_schema.gate.plan import plan_from_git

    repo = tmp_path / "downstream"
    head = repo / "db" / "schema"
    shutil.copytree(schema_dir(), head, ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], check=True)
    added = head / "upgrades" / "9000_downstream_change.sql"
    added.write_text("-- release: 9.0.0\n-- transaction: file\n-- down: irreversible — test\n-- breaking: no\n"
                     "SET lock_timeout = '5s';\nSELECT 1;\n", encoding="utf-8")
    plan = plan_from_git(repo, head, tmp_path / "work", "HEAD")
    assert plan.base_dir == tmp_path / "work" / "base" / "db" / "schema"
    assert [u.name for u in plan.new_upgrades] == ["9000_downstream_change.sql"]
