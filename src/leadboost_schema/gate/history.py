"""Gate check 1, history: the upgrade files head carries are base's plus new ones after them. Released files are
byte-identical (a database that applied one keeps its checksum and refuses an edited one, LB902); no base file
is removed; head's files load (names, headers, one file per number) and number after base's; a new file ships in
a release not older than base's and not already cut; the generated files and the contract are fresh."""
from __future__ import annotations

from pathlib import Path

from leadboost_schema.gate.findings import CheckResult, Finding
from leadboost_schema.gate.plan import GatePlan
from leadboost_schema.server import Server
from leadboost_schema.upgrades.files import HistoryError, Upgrade, head_release, load
from leadboost_schema.upgrades.regenerate import stale_files
from leadboost_schema.upgrades.releases import RELEASES

NAME = "history"
REGENERATE = "run `leadboost-schema contract --write` and commit the regenerated files with the change"


def _key(release: str) -> tuple[int, ...]:
    return tuple(int(part) for part in release.split("."))


def check_history(server: Server, plan: GatePlan, contract_path: Path) -> CheckResult:
    """Check 1 on ``server`` (a throw-away database regenerates the derived files); ``contract_path``: the
    contract head's catalog must equal (the committed ``catalog/contract.json``, or a corpus change's own)."""
    result = CheckResult(NAME, figures={"base files": len(plan.base_upgrades), "new files": len(plan.new_upgrades)})
    try:
        head = load(plan.head_dir)
    except HistoryError as error:
        result.findings.append(Finding(NAME, "error", "schema/upgrades", str(error),
                                       "rename or renumber the new file (schema/README.md, 'Changing the schema')"))
        return result
    result.findings += _base_files_kept(plan.base_upgrades, {u.name: u for u in head})
    result.findings += _new_files_after_base(plan)
    for path in stale_files(server, plan.head_dir, contract_path):
        result.findings.append(Finding(NAME, "error", path.name, f"{path.name} is stale: it does not match what "
                                       "head's schema files give", REGENERATE))
    return result


def _base_files_kept(base: tuple[Upgrade, ...], head: dict[str, Upgrade]) -> list[Finding]:
    found = []
    for old in base:
        new = head.get(old.name)
        if new is None:
            found.append(Finding(NAME, "error", old.name, f"{old.name} of base is removed from head: databases that "
                                 "applied it refuse head (LB903)", "restore the file; undo its effect with a new "
                                 "upgrade"))
        elif new.checksum != old.checksum and old.release in RELEASES:
            found.append(Finding(NAME, "error", old.name, f"{old.name} belongs to release {old.release}, which is "
                                 "cut, and was edited (its sha256 differs): databases that applied it refuse it "
                                 "(LB902)", f"git checkout {RELEASES[old.release][:12]} -- schema/upgrades/"
                                 f"{old.name}, and put the change in a new upgrade file"))
        elif new.checksum != old.checksum:
            found.append(Finding(NAME, "warning", old.name, f"{old.name} was edited; its release {old.release} is "
                                 "not cut yet, so this is allowed, but every database that already applied it "
                                 "(a developer's, a CI one) refuses it (LB902)", "re-create those databases"))
    return found


def _new_files_after_base(plan: GatePlan) -> list[Finding]:
    found = []
    last_number = max((u.number for u in plan.base_upgrades), default=0)
    base_release = head_release(list(plan.base_upgrades))
    for new in plan.new_upgrades:
        if new.number <= last_number:
            found.append(Finding(NAME, "error", new.name, f"{new.name} is numbered before base's last upgrade "
                                 f"({last_number:04d}): a database at base would apply it after files that a fresh "
                                 "install runs later", f"renumber it above {last_number:04d}"))
        if _key(new.release) < _key(base_release):
            found.append(Finding(NAME, "error", new.name, f"{new.name} says release {new.release}, older than "
                                 f"base's {base_release}", f"a release from {base_release} on, not yet cut"))
        elif new.release in RELEASES:
            found.append(Finding(NAME, "error", new.name, f"{new.name} says release {new.release}, which is "
                                 "already cut: a cut release gains no files", "name the next release"))
    return found
