"""Tests of the plugin itself: run example test files in a pytest subprocess (pytester), as users would."""
from __future__ import annotations

from pathlib import Path

import pytest

STANDIN_SCHEMA = Path(__file__).parent / "standin_schema"


@pytest.fixture
def standin_args() -> list[str]:
    """Arguments pointing an inner run at the small stand-in schema (tests of the plugin, not of the schema)."""
    return [f"--leadboost-schema-dir={STANDIN_SCHEMA}", "-p", "no:cacheprovider"]
