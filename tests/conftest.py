"""Tests of the plugin itself: run example test files in a pytest subprocess (pytester), as users would."""
from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ("tests.fix_gate",)

STANDIN_SCHEMA = Path(__file__).parent / "standin_schema"


@pytest.fixture
def standin_args() -> list[str]:
    """Arguments pointing an inner run at the small stand-in schema (tests of the plugin, not of the schema)."""
    return [f"--leadboost-schema-dir={STANDIN_SCHEMA}", "-p", "no:cacheprovider"]


@pytest.fixture
def private_cache_dir() -> Iterator[Path]:
    """A cache folder for one test, where the server user can reach it (pytest's tmp_path is 0700 for root)."""
    from leadboost_schema.server.settings import default_cache_dir

    path = default_cache_dir().parent / f"leadboost-test-{secrets.token_hex(4)}"
    yield path
    shutil.rmtree(path, ignore_errors=True)
