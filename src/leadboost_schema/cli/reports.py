"""`maintain` and `diag`: the source document's weekly maintenance and diagnostic queries, run as written."""
from __future__ import annotations

import argparse
import sys

from leadboost_schema.catalog import runbook
from leadboost_schema.cli import target
from leadboost_schema.cli.errors import OK, failure
from leadboost_schema.cli.output import emit_json, print_reports, step


def _run(args: argparse.Namespace, queries: tuple[runbook.Query, ...], heading: str) -> int:
    database = target.database_dsn(args.dsn)
    with target.connect(database) as conn, step(heading.lower()):
        results = runbook.run_reports(conn, queries)
    failed = [r for r in results if r.error]
    if args.json:
        emit_json({"ok": not failed, "database": target.database_name(database),
                   "results": [r.as_dict() for r in results]})
    else:
        print_reports(f"{heading} on {target.database_name(database)}:", results)
    if not failed:
        return OK
    # The other queries' results are shown; the first failure explains itself on stderr and sets the status.
    more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
    error = failure(failed[0].sqlstate, failed[0].error or "", f"{failed[0].title!r}{more}")
    print(f"leadboost-schema {args.command}: {error.message}", file=sys.stderr)
    return error.code


def cmd_maintain(args: argparse.Namespace) -> int:
    return _run(args, runbook.MAINTENANCE, "Weekly maintenance")


def cmd_diag(args: argparse.Namespace) -> int:
    return _run(args, runbook.DIAGNOSTICS, "Diagnostics")
