"""The failures of base's own tests a change declares (gate check 7): ``upgrades/base_tests_expected_to_fail.toml``
in head's schema folder, one line per test or node-id prefix, ``"<node id>" = "<upgrade file>: <why>"``. Only two
reasons excuse a failure: the upgrade named is a new one marked ``breaking: contract`` (base's test pins behaviour
the contract step changes on purpose), or ``catalog equality: <why>`` (a test that compares the whole catalog with
base's, which every change breaks)."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass

from leadboost_schema.gate.plan import GatePlan
from leadboost_schema.upgrades.files import UPGRADES

EXPECTED = "base_tests_expected_to_fail.toml"
CATALOG_EQUALITY = "catalog equality"


@dataclass(frozen=True)
class Excuse:
    """One entry: ``test`` a node id or a prefix of node ids, ``upgrade`` the new breaking upgrade that changed what
    it pins ("" for a catalog-equality test), ``why`` the note."""

    test: str
    upgrade: str
    why: str

    def covers(self, nodeid: str) -> bool:
        """The node id itself or one it begins (a file, a test with all its parameters, a parameter prefix)."""
        return nodeid.startswith(self.test)

    @property
    def reason(self) -> str:
        return f"{self.upgrade or CATALOG_EQUALITY}: {self.why}"


@dataclass(frozen=True)
class Problem:
    """An entry that cannot excuse anything: ``severity`` error when it is wrong, info when it is about an
    upgrade base already has (the file outlives the base it was written for)."""

    test: str
    severity: str
    message: str


def read_expected(plan: GatePlan) -> tuple[list[Excuse], list[Problem]]:
    """The valid entries of head's file (none when there is no file) and what is wrong with the others."""
    path = plan.head_dir / UPGRADES / EXPECTED
    if not path.is_file():
        return [], []
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        return [], [Problem("", "error", f"{EXPECTED} is not valid TOML: {error}")]
    new = {u.name: u for u in plan.new_upgrades}
    known = {u.name for u in plan.head_upgrades}
    excuses: list[Excuse] = []
    problems: list[Problem] = []
    for test, value in table.items():
        upgrade, _, why = value.partition(":") if isinstance(value, str) else ("", "", "")
        upgrade, why = upgrade.strip(), why.strip()
        if not why:
            problems.append(Problem(test, "error", f"{test!r} = {value!r}: the value is \"<upgrade file>: <why>\" "
                                                   f"or \"{CATALOG_EQUALITY}: <why>\""))
        elif upgrade == CATALOG_EQUALITY:
            excuses.append(Excuse(test, "", why))
        elif upgrade in new and new[upgrade].breaking:
            excuses.append(Excuse(test, upgrade, why))
        elif upgrade in new:
            problems.append(Problem(test, "error", f"{test!r}: {upgrade} is not marked 'breaking: contract': only "
                                                   "a contract step may break base's tests"))
        elif upgrade in known:
            problems.append(Problem(test, "info", f"{test!r}: {upgrade} is already in base {plan.base}: the entry "
                                                  "excuses nothing in this change"))
        else:
            problems.append(Problem(test, "error", f"{test!r}: no upgrade file {upgrade!r} in head's schema"))
    return excuses, problems
