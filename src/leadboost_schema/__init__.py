"""LeadBoost AI PostgreSQL schema (RFC-PHOENIX-01): a real server with the schema, for scripts, tests and the CLI.

The public API, importable from here (deeper paths are internal and may move)::

    from leadboost_schema import start_server, ensure_template, fresh_database, Settings

    with start_server() as server:                       # a throw-away PostgreSQL for this block
        template = ensure_template(server, Settings.resolve().schema_dir)
        with fresh_database(server, template) as dsn:    # a clone of the migrated template, dropped afterwards
            ...

* ``start_server(settings=None)``: context manager giving a ``Server`` (backends tried in SPEC §4 order).
* ``Settings``: where the server and schema come from (``Settings.resolve()`` reads the environment).
* ``ensure_template(server, schema_dir, seeded=False)``: name of the migrated (and seeded) template database.
* ``fresh_database(server, template)``: context manager giving the DSN of a new clone, dropped on exit.
* ``Scenario``, ``Step``, ``Scheduler``: exact interleavings of several sessions (docs/plugin.md).
* ``strategies``: Hypothesis strategies for the schema's domain values.
* ``Measure``, ``Paired``: in-run paired benchmark measurements (benchmarks/README.md).

Names are imported on first use, so ``import leadboost_schema`` stays cheap (the CLI and the pytest plugin
import it at start-up).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_PUBLIC = {
    "start_server": "leadboost_schema.server",
    "Server": "leadboost_schema.server",
    "Settings": "leadboost_schema.server.settings",
    "ensure_template": "leadboost_schema.databases.templates",
    "fresh_database": "leadboost_schema.databases.clones",
    "Scenario": "leadboost_schema.testing.interleaving",
    "Step": "leadboost_schema.testing.interleaving",
    "Scheduler": "leadboost_schema.testing.interleaving",
    "strategies": "leadboost_schema.testing",
    "Measure": "leadboost_schema.bench.measure",
    "Paired": "leadboost_schema.bench.measure",
}
__all__ = ["Measure", "Paired", "Scenario", "Scheduler", "Server", "Settings", "Step", "ensure_template",
           "fresh_database", "start_server", "strategies"]

if TYPE_CHECKING:
    from leadboost_schema.bench.measure import Measure, Paired
    from leadboost_schema.databases.clones import fresh_database
    from leadboost_schema.databases.templates import ensure_template
    from leadboost_schema.server import Server, start_server
    from leadboost_schema.server.settings import Settings
    from leadboost_schema.testing import strategies
    from leadboost_schema.testing.interleaving import Scenario, Scheduler, Step


def __getattr__(name: str) -> object:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'leadboost_schema' has no attribute {name!r}")
    module = _PUBLIC[name]
    if name == "strategies":  # a module, not a name inside one
        return importlib.import_module(f"{module}.{name}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
