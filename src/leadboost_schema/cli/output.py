"""How the CLI talks: results as short tables or JSON on stdout, progress and errors on stderr."""
from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from typing import Any

from leadboost_schema.catalog.runbook import QueryResult

MAX_CELL = 60


def progress(message: str) -> None:
    print(f"leadboost-schema: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def step(message: str) -> Iterator[None]:
    """``with step("applying 000_master_migration.sql"):`` — says it on stderr, then how long it took."""
    started = time.monotonic()
    print(f"leadboost-schema: {message} ...", end="", file=sys.stderr, flush=True)
    try:
        yield
    except BaseException:
        print(" failed", file=sys.stderr, flush=True)
        raise
    print(f" done ({time.monotonic() - started:.1f} s)", file=sys.stderr, flush=True)


def emit_json(document: Any) -> None:
    """JSON on stdout; UUIDs, decimals and timestamps as their text."""
    print(json.dumps(document, indent=2, default=str, ensure_ascii=False))


def _cell(value: Any) -> str:
    text = "NULL" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def table(rows: list[dict[str, Any]]) -> str:
    """Rows as an aligned text table (psql-like), or "(no rows)"."""
    if not rows:
        return "  (no rows)"
    columns = list(rows[0].keys())
    cells = [[_cell(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)),
             "  " + "-+-".join("-" * w for w in widths)]
    lines += ["  " + " | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def mark(ok: bool | None) -> str:
    return {True: "ok  ", False: "FAIL", None: "--  "}[ok]


def print_checks(heading: str, results: list[QueryResult]) -> None:
    """One line per judged query: ok/FAIL, what it checks, what it found."""
    print(heading)
    for result in results:
        verdict = f"[{result.sqlstate}] {result.error}" if result.error else result.verdict
        label = "note" if result.seed in ("used", "absent") else mark(result.ok)  # the seed's state, not a failure
        print(f"  {label} {result.title}: {verdict}")


def print_reports(heading: str, results: list[QueryResult]) -> None:
    """Each query's title and row count, its rows beneath as a table (or its error)."""
    print(heading)
    for result in results:
        if result.error:
            print(f"\n{result.title}: FAILED [{result.sqlstate}] {result.error}")
            continue
        print(f"\n{result.title} ({len(result.rows)} row{'s' if len(result.rows) != 1 else ''}):")
        print(table(result.rows))
