"""Where the schema SQL lives: the copy inside an installed wheel, else the checkout's top-level schema/."""
from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def schema_dir() -> Path:
    """The folder holding 000_master_migration.sql and friends.

    A wheel carries the SQL as ``leadboost_schema/schema`` (hatch force-include); an editable install or a
    source checkout reads the repository's top-level ``schema/`` directly, so edits show up without reinstalling.
    """
    packaged = _PACKAGE_DIR / "schema"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent.parent / "schema"
