"""The verdicts: equivalent mutants from the reviewed list, the score per schema file, markdown and JSON.

The reviewed list (``mutation/equivalents.txt``) has one mutant a line, ``<file>:<operator>:<hash>  <reason>``
(the id without its line, so it survives edits above it); ``#`` starts a comment. A listed mutant that survives
is *equivalent*; a listed mutant that is killed is reported as a stale entry (the list is wrong about it).

Score of a file = killed / (killed + survived), timeouts counted as killed; equivalent, unviable (the mutated
schema does not migrate) and error (pytest could not run) mutants are outside it."""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from leadboost_schema.mutation.runner import Outcome

KILLED = {"killed", "timeout"}


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    verdict: str      # killed, survived, equivalent, unviable, error
    reason: str = ""  # the reviewed reason of an equivalent


def load_equivalents(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, reason = line.partition(" ")
        found[key] = reason.strip()
    return found


def judge(outcomes: list[Outcome], equivalents: dict[str, str]) -> list[Verdict]:
    verdicts = []
    for outcome in outcomes:
        status = "killed" if outcome.status in KILLED else outcome.status
        reason = equivalents.get(outcome.mutant.key, "")
        if status == "survived" and outcome.mutant.key in equivalents:
            status = "equivalent"
        verdicts.append(Verdict(outcome, status, reason))
    return verdicts


def scores(verdicts: list[Verdict]) -> dict[str, dict[str, object]]:
    per_file: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for verdict in verdicts:
        per_file[verdict.outcome.mutant.file][verdict.verdict] += 1
        per_file["total"][verdict.verdict] += 1
    result = {}
    for file, counts in sorted(per_file.items(), key=lambda item: (item[0] == "total", item[0])):
        judged = counts["killed"] + counts["survived"]
        result[file] = {**{k: counts[k] for k in ("killed", "survived", "equivalent", "unviable", "error")},
                        "score": round(counts["killed"] / judged, 3) if judged else None}
    return result


def to_json(verdicts: list[Verdict], meta: dict[str, object], equivalents: dict[str, str]) -> str:
    killed_keys = {v.outcome.mutant.key for v in verdicts if v.verdict == "killed"}
    return json.dumps({
        "meta": meta,
        "scores": scores(verdicts),
        "stale_equivalents": sorted(killed_keys & set(equivalents)),
        "mutants": [{"id": v.outcome.mutant.id, "key": v.outcome.mutant.key, "verdict": v.verdict,
                     "status": v.outcome.status, "objects": list(v.outcome.mutant.objects),
                     "note": v.outcome.mutant.note, "before": v.outcome.mutant.before.strip(),
                     "after": v.outcome.mutant.after.strip(), "seconds": round(v.outcome.seconds, 1),
                     "modules": list(v.outcome.modules), "detail": v.outcome.detail, "reason": v.reason}
                    for v in verdicts],
    }, indent=1, ensure_ascii=False) + "\n"


def to_markdown(verdicts: list[Verdict], meta: dict[str, object], chosen: dict[str, int] | None = None) -> str:
    """The report; with ``chosen`` (file → mutants chosen for the run) a "not run" column counts those without a
    verdict (a partial run reported from the journal)."""
    lines = ["# Mutation testing of schema/", "",
             " · ".join(f"{key}: {value}" for key, value in meta.items()), "",
             "| file | killed | survived | equivalent | unviable | error | score |" + (" not run |" if chosen else ""),
             "|---|---|---|---|---|---|---|" + ("---|" if chosen else "")]
    rows = scores(verdicts)
    if chosen:
        empty = {"killed": 0, "survived": 0, "equivalent": 0, "unviable": 0, "error": 0, "score": None}
        rows = {file: rows.get(file, empty) for file in [*sorted(chosen), "total"]}
    for file, row in rows.items():
        score = "—" if row["score"] is None else f"{row['score']:.0%}"
        line = (f"| {file} | {row['killed']} | {row['survived']} | {row['equivalent']} | {row['unviable']} | "
                f"{row['error']} | {score} |")
        if chosen:
            total = sum(chosen.values()) if file == "total" else chosen[file]
            judged = sum(row[k] for k in ("killed", "survived", "equivalent", "unviable", "error"))
            line += f" {total - judged} |"
        lines.append(line)
    for title, verdict in (("Survivors", "survived"), ("Equivalent (reviewed)", "equivalent"),
                           ("Unviable (the mutated schema does not migrate)", "unviable"), ("Errors", "error")):
        chosen = [v for v in verdicts if v.verdict == verdict]
        if not chosen:
            continue
        lines += ["", f"## {title}", ""]
        for v in chosen:
            mutant = v.outcome.mutant
            why = v.reason or v.outcome.detail
            lines.append(f"* `{mutant.id}` ({', '.join(mutant.objects)}): {mutant.note}"
                         f"{' — ' + why if why else ''}")
            lines.append(f"  `{mutant.before.strip()[:140]}` → `{mutant.after.strip()[:140]}`")
    return "\n".join(lines) + "\n"
