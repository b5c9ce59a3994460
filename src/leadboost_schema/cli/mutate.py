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

DEFAULT_JOURNAL = "mutation/journal.jsonl"


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
    mutate.add_argument("--journal", type=Path, help="append one line per finished mutant to this file (with --resume "
                        f"default <project>/{DEFAULT_JOURNAL})")
    mutate.add_argument("--resume", action="store_true", help="skip the mutants whose journaled verdict is still valid "
                        "(same mutated file, tests and package) and report them with the new ones")
    mutate.add_argument("--report-only", action="store_true", help="no server, no tests: the report of the "
                        "journal's still-valid verdicts for the chosen mutants (the rest counted as not run)")
    mutate.add_argument("--no-learning", action="store_true", help="run each mutant's modules in map order, without "
                        "first trying the tests that killed mutants of the same object (docs/mutation.md)")
    mutate.add_argument("--fail-under", type=float, help="exit 1 when the total score is below this (0–1)")
    mutate.set_defaults(run=cmd_mutate)


def cmd_mutate(args: argparse.Namespace) -> int:
    from leadboost_schema.mutation.journal import Fingerprints, Journal
    from leadboost_schema.mutation.killers import Killers
    from leadboost_schema.mutation.report import load_equivalents
    from leadboost_schema.mutation.runner import RunConfig, killer_node, run_all
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
    journal_path = args.journal or (project / DEFAULT_JOURNAL if args.resume or args.report_only else None)
    meta = {"mutants": len(mutants), "generated": len(generated.mutants),
            "sample": f"{args.sample} (seed {args.seed})" if args.sample else "all"}
    if args.report_only:
        kept = _still_valid(journal_path, Fingerprints.of(project, test_map, args.seed), mutants, test_map, None)
        chosen: dict[str, int] = {}
        for mutant in mutants:
            chosen[mutant.file] = chosen.get(mutant.file, 0) + 1
        return _report(args, project, [kept[m.key] for m in mutants if m.key in kept], equivalents,
                       meta | _journal_meta(journal_path, len(kept)), chosen)
    started = time.monotonic()
    done = 0

    def progress(outcome) -> None:
        nonlocal done
        done += 1
        if journal is not None:
            journal.record(outcome)
        print(f"[{done}/{len(to_run)}] {outcome.status:9} {outcome.seconds:6.1f}s {outcome.mutant.id} "
              f"{outcome.detail[:100]}", file=sys.stderr, flush=True)

    def interrupted(*_: object) -> None:  # a SIGTERM (CI's stop, kill) cleans up as Ctrl-C does: no server left
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    with start_server(Settings.resolve()) as server:
        server_name = f"PostgreSQL {server.version // 10000}.{server.version % 100}"
        fingerprints = Fingerprints.of(project, test_map, args.seed)
        journal = Journal(journal_path, fingerprints, server_name, args.jobs) if journal_path else None
        kept = (_still_valid(journal_path, fingerprints, mutants, test_map, server.version // 10000)
                if args.resume and journal_path else {})
        to_run = [mutant for mutant in mutants if mutant.key not in kept]
        extend = (_survivals_to_extend(journal_path, fingerprints, to_run, test_map, server.version // 10000)
                  if args.resume and journal_path else {})
        killers = None if args.no_learning else Killers()
        for outcome in kept.values():  # what the journal already knows orders the first tests of this run too
            if killers is not None and outcome.status == "killed":
                killers.record(outcome.mutant, killer_node(outcome.detail), outcome.seconds)
        if kept:
            print(f"leadboost-schema mutate: {len(kept)} verdict(s) still valid in {journal_path}, "
                  f"{len(to_run)} to run ({len(extend)} survival(s) against their new test modules only)",
                  file=sys.stderr)
        config = RunConfig(project, server, test_map, args.timeout, args.jobs, args.seed, killers, extend)
        fresh = {o.mutant.key: o for o in run_all(config, to_run, generated.edits, progress)}
    outcomes = [kept.get(mutant.key) or fresh[mutant.key] for mutant in mutants]
    meta |= {"wall_seconds": round(time.monotonic() - started), "jobs": args.jobs, "cpus": os.cpu_count(),
             "server": server_name}
    if kept:
        meta |= {"from_journal": len(kept), "run_now": len(to_run)}
    return _report(args, project, outcomes, equivalents, meta)


def _still_valid(journal_path, fingerprints, mutants, test_map, server_major: int | None) -> dict:
    """key → the journaled Outcome of each mutant whose verdict still holds (same server major when given): the
    last VALID line of its key, so journals of several checkouts appended in any order add up (a stale survival
    written after a kill made with a newer module does not hide the kill)."""
    from leadboost_schema.mutation.runner import Outcome

    lines_of = _lines_by_key(journal_path)
    kept = {}
    for mutant in mutants:
        modules = test_map.modules_for(mutant)
        entry = _last_line(lines_of, mutant, server_major,
                           lambda line, m=mutant, mods=modules: fingerprints.still_valid(m, line, mods))
        if entry is not None:
            kept[mutant.key] = Outcome(mutant, entry["status"], float(entry.get("seconds", 0)),
                                       tuple(entry.get("modules", ())), entry.get("detail", ""))
    return kept


def _survivals_to_extend(journal_path, fingerprints, mutants, test_map, server_major: int) -> dict:
    """key → (modules passed, modules to run) for each mutant whose last extendable journal line (same server
    major) is a survival that only lacks test modules added since (journal.Fingerprints.modules_to_add)."""
    lines_of = _lines_by_key(journal_path)
    extend = {}
    for mutant in mutants:
        modules = test_map.modules_for(mutant)
        entry = _last_line(lines_of, mutant, server_major,
                           lambda line, m=mutant, mods=modules: fingerprints.modules_to_add(m, line, mods) is not None)
        if entry is not None:
            extend[mutant.key] = (tuple(entry.get("modules", ())),
                                  fingerprints.modules_to_add(mutant, entry, modules))
    return extend


def _last_line(lines_of: dict[str, list[dict]], mutant, server_major: int | None, accept) -> dict | None:
    """The newest journal line of ``mutant``'s key, of the same server major (when given), that ``accept`` takes."""
    for entry in reversed(lines_of.get(mutant.key, [])):
        if server_major is not None and _major(entry.get("server", "")) != server_major:
            continue
        if accept(entry):
            return entry
    return None


def _lines_by_key(journal_path) -> dict[str, list[dict]]:
    """key → its journal lines, oldest first."""
    from leadboost_schema.mutation.journal import read_lines

    lines_of: dict[str, list[dict]] = {}
    for entry in read_lines(journal_path):
        lines_of.setdefault(entry["key"], []).append(entry)
    return lines_of


def _major(server: str) -> int | None:
    version = server.rpartition(" ")[2]
    return int(version.split(".")[0]) if version.split(".")[0].isdigit() else None


def _journal_meta(journal_path, valid: int) -> dict:
    from leadboost_schema.mutation.journal import read_lines, wall_seconds

    entries = read_lines(journal_path)
    runs, seconds = wall_seconds(entries)
    return {"judged_from_journal": valid, "journal_runs": runs, "wall_seconds": seconds,
            "jobs": ",".join(sorted({str(e.get("jobs")) for e in entries})) or "-", "cpus": os.cpu_count(),
            "server": ",".join(sorted({e.get("server", "?") for e in entries})) or "-"}


def _report(args: argparse.Namespace, project: Path, outcomes: list, equivalents: dict, meta: dict,
            chosen: dict[str, int] | None = None) -> int:
    from leadboost_schema.mutation.report import judge, scores, to_json, to_markdown

    verdicts = judge(outcomes, equivalents)
    report_dir = args.report_dir or project / ".mutation"
    report_dir.mkdir(parents=True, exist_ok=True)
    markdown = to_markdown(verdicts, meta, chosen)
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
