"""``leadboost-schema mutate``: mutation testing of schema/ (docs/mutation.md)."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from leadboost_schema.mutation.mutants import DEFAULT_FILES, generate, sample
from leadboost_schema.mutation.operators import OPERATORS


def add_parser(commands: argparse._SubParsersAction) -> None:
    text = ("mutation testing: derive mutants from schema/*.sql, run the tests that exercise each, report killed / "
            "survived / equivalent per file")
    mutate = commands.add_parser("mutate", help=text, description=text)
    mutate.add_argument("--project", type=Path, default=Path.cwd(),
                        help="the checkout whose schema/, contracts/ and properties/ are used (default: .)")
    mutate.add_argument("--files", default=DEFAULT_FILES, help=f"schema files to mutate (glob, default {DEFAULT_FILES})")
    mutate.add_argument("--operators", help=f"comma-separated subset of: {', '.join(OPERATORS)}")
    mutate.add_argument("--sample", type=int, help="run a reproducible sample of this many mutants")
    mutate.add_argument("--seed", type=int, default=13, help="sample and Hypothesis seed (default 13)")
    mutate.add_argument("--only", nargs="+", default=[], help="run only these mutant ids (or keys)")
    mutate.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    mutate.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant; over it counts as killed")
    mutate.add_argument("--list", action="store_true", help="only list the mutants (no server, no tests)")
    mutate.add_argument("--equivalents", type=Path, help="reviewed list (default <project>/mutation/equivalents.txt)")
    mutate.add_argument("--report-dir", type=Path, help="where report.md and report.json go (default "
                                                        "<project>/.mutation)")
    mutate.add_argument("--fail-under", type=float, help="exit 1 when the total score is below this (0–1)")
    mutate.set_defaults(run=cmd_mutate)


def cmd_mutate(args: argparse.Namespace) -> int:
    from leadboost_schema.mutation.report import judge, load_equivalents, scores, to_json, to_markdown
    from leadboost_schema.mutation.runner import RunConfig, run_all
    from leadboost_schema.mutation.test_map import build
    from leadboost_schema.server import start_server
    from leadboost_schema.server.settings import Settings

    project = args.project.resolve()
    operators = tuple(args.operators.split(",")) if args.operators else None
    generated = generate(project / "schema", args.files, operators)
    mutants = generated.mutants
    if args.only:
        mutants = [m for m in mutants if m.id in args.only or m.key in args.only]
    mutants = sample(mutants, args.sample, args.seed)
    if args.list:
        for mutant in mutants:
            print(f"{mutant.id}\t{', '.join(mutant.objects)}\t{mutant.note}")
        print(f"{len(mutants)} mutants ({len(generated.mutants)} in all; {generated.unparsable} candidates "
              "discarded as unparsable)", file=sys.stderr)
        return 0
    test_map = build(project, project / "schema", args.files)
    equivalents = load_equivalents(args.equivalents or project / "mutation" / "equivalents.txt")
    started = time.monotonic()
    done = 0

    def progress(outcome) -> None:
        nonlocal done
        done += 1
        print(f"[{done}/{len(mutants)}] {outcome.status:9} {outcome.seconds:6.1f}s {outcome.mutant.id} "
              f"{outcome.detail[:100]}", file=sys.stderr, flush=True)

    def interrupted(*_: object) -> None:  # a SIGTERM (CI's stop, kill) cleans up as Ctrl-C does: no server left
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    with start_server(Settings.resolve()) as server:
        config = RunConfig(project, server, test_map, args.timeout, args.jobs, args.seed)
        outcomes = run_all(config, mutants, generated.edits, progress)
    verdicts = judge(outcomes, equivalents)
    meta = {"mutants": len(mutants), "generated": len(generated.mutants),
            "sample": f"{args.sample} (seed {args.seed})" if args.sample else "all",
            "wall_seconds": round(time.monotonic() - started), "jobs": args.jobs, "cpus": os.cpu_count(),
            "server": f"PostgreSQL {server.version // 10000}.{server.version % 100}"}
    report_dir = args.report_dir or project / ".mutation"
    report_dir.mkdir(parents=True, exist_ok=True)
    markdown = to_markdown(verdicts, meta)
    (report_dir / "report.md").write_text(markdown, encoding="utf-8")
    (report_dir / "report.json").write_text(to_json(verdicts, meta, equivalents), encoding="utf-8")
    print(markdown)
    errors = [v for v in verdicts if v.verdict == "error"]
    if errors:  # pytest could not run a mutant's tests: the tool or the checkout is broken, not the schema
        print(f"leadboost-schema mutate: {len(errors)} mutant(s) could not be run: {errors[0].outcome.detail}",
              file=sys.stderr)
        return 1
    total = scores(verdicts).get("total", {"score": None})
    if args.fail_under is not None and total["score"] is not None and total["score"] < args.fail_under:
        print(f"leadboost-schema mutate: score {total['score']:.0%} is below {args.fail_under:.0%}", file=sys.stderr)
        return 1
    return 0
