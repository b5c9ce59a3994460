"""Gate check 2, upgrade equals fresh: the filled base upgraded by head's files has exactly the catalog of a fresh
head install — everything the contract covers (columns, constraints, indexes, functions, triggers, policies,
grants, comments, roles). Each difference is one error: the upgrade file and the head files 001–007 disagree."""
from __future__ import annotations

import psycopg

from leadboost_schema.catalog.drift import Difference, compare
from leadboost_schema.catalog.snapshot import snapshot
from leadboost_schema.gate.build import Databases
from leadboost_schema.gate.findings import CheckResult, Finding
from leadboost_schema.gate.plan import GatePlan
from leadboost_schema.gate.upgraded import Upgraded, failure_finding, upgraded_base

NAME = "upgrade = fresh"


def check_upgrade_equals_fresh(dbs: Databases, plan: GatePlan, upgraded: Upgraded | None = None) -> CheckResult:
    """Check 2 on ``upgraded`` (made here when not given: ``gate.upgraded.upgraded_base``)."""
    if upgraded is None:
        with upgraded_base(dbs, plan) as made:
            return check_upgrade_equals_fresh(dbs, plan, made)
    result = CheckResult(NAME, figures={"migrate seconds": upgraded.seconds})
    if upgraded.durations_ms:
        result.figures["upgrades"] = [{"upgrade": name, "ms": ms} for name, ms in upgraded.durations_ms.items()]
    if upgraded.failure:
        result.findings.append(failure_finding(NAME, upgraded))
        return result
    with dbs.clone("head") as fresh_dsn, psycopg.connect(fresh_dsn) as fresh:
        fresh_catalog = snapshot(fresh)
    with psycopg.connect(upgraded.dsn) as conn:
        upgraded_catalog = snapshot(conn)
    result.figures["objects compared"] = _count_objects(fresh_catalog)
    result.findings += [_finding(d, plan) for d in compare(fresh_catalog, upgraded_catalog)]
    return result


def _finding(difference: Difference, plan: GatePlan) -> Finding:
    files = ", ".join(u.name for u in plan.new_upgrades) or "the upgrade files"
    said = {"missing": "a fresh install has it, the upgraded base does not",
            "extra": "the upgraded base has it, a fresh install does not",
            "changed": "it differs between the upgraded base and a fresh install"}[difference.kind]
    detail = f" ({difference.detail}; expected = fresh)" if difference.detail else ""
    return Finding(NAME, "error", difference.object, f"{difference.kind} {difference.object}: {said}{detail}",
                   f"the upgrade file and the head files 001–007 disagree: make {files} and the head file that owns "
                   f"{difference.object.split(' ', 1)[-1]} build the same object")


def _count_objects(catalog: dict) -> int:
    """Top-level objects plus the columns, constraints, indexes, triggers and policies inside tables and views."""
    count = 0
    for section in catalog.values():
        for entry in section.values():
            count += 1
            if isinstance(entry, dict):
                count += sum(len(entry.get(key) or ()) for key in
                             ("columns", "constraints", "indexes", "triggers", "policies"))
    return count
