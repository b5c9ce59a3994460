"""Releases are read from this repository's git history (upgrades/releases.py)."""
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
