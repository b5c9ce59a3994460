"""Regenerating what is derived from the schema files, on a throw-away database of a running server: the contract
(catalog of a fresh install, ``catalog/contract.json``) and the generated upgrade files (``history.sql`` with the
head fingerprint of the head files run one by one, ``pending.sql``). ``leadboost-schema contract --write``."""
from __future__ import annotations

import json
from pathlib import Path

import psycopg

from leadboost_schema.catalog.snapshot import CONTRACT_PATH, snapshot
from leadboost_schema.databases.clones import fresh_database
from leadboost_schema.databases.sql_files import MASTER_MIGRATION, apply_sql_file
from leadboost_schema.server import Server
from leadboost_schema.upgrades.files import generated_files
from leadboost_schema.upgrades.state import catalog_fingerprint

HEAD_FILES = ("001_schema_iam.sql", "002_schema_finanzas.sql", "003_schema_stock.sql", "004_schema_gobernanza.sql",
              "005_schema_sys.sql", "006_schema_events.sql", "007_schema_migration.sql")


def head_fingerprint(server: Server, schema_dir: Path) -> str:
    """Fingerprint of the head files applied one by one (no version table), as adopt.sql recognises head."""
    with fresh_database(server, None) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        for name in HEAD_FILES:
            apply_sql_file(conn, schema_dir / name)
        return catalog_fingerprint(conn, schema_dir)


def write_generated_files(server: Server, schema_dir: Path) -> None:
    """Rewrite history.sql and pending.sql for the schema files as they are now (the head fingerprint included):
    what ``contract --write`` does to them, for a scratch copy of schema/ whose head files were edited."""
    _write_changed(generated_files(schema_dir, head_fingerprint(server, schema_dir)))


def expected_files(server: Server, schema_dir: Path, contract_path: Path = CONTRACT_PATH) -> dict[Path, str]:
    """Every derived file and the text it must hold for the schema files as they are now."""
    wanted = generated_files(schema_dir, head_fingerprint(server, schema_dir))
    _write_changed(wanted)  # the master below includes them: the fingerprint does not affect a fresh install
    with fresh_database(server, None) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        apply_sql_file(conn, schema_dir / MASTER_MIGRATION)
        wanted[contract_path] = json.dumps(snapshot(conn), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    return wanted


def stale_files(server: Server, schema_dir: Path, contract_path: Path = CONTRACT_PATH,
                write: bool = False) -> list[Path]:
    """Derived files whose committed text differs from what the schema files give; rewritten when ``write``.
    Without ``write`` the generated upgrade files are restored to what they held."""
    saved = {path: path.read_text(encoding="utf-8") if path.is_file() else None
             for path in generated_files(schema_dir, "").keys()}
    try:
        wanted = expected_files(server, schema_dir, contract_path)
    finally:
        if not write:
            for path, text in saved.items():
                if text is None:
                    path.unlink(missing_ok=True)
                else:
                    path.write_text(text, encoding="utf-8")
    stale = [path for path, text in wanted.items()
             if (saved[path] if path in saved else _read(path)) != text]
    if write:
        _write_changed(wanted)
    return stale


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _write_changed(files: dict[Path, str]) -> None:
    for path, text in files.items():
        if _read(path) != text:
            path.write_text(text, encoding="utf-8")
