"""Drift between a live database and the contract, as a list an operator can act on: each missing, extra or
changed object named the way one would look it up (``column finanzas.ledger_entries.amount``), built from two
catalog snapshots (``catalog.snapshot``; the expected one is the committed ``contract.json``)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

# Top-level snapshot sections and what one entry of each is called.
_SECTIONS = {"schemas": "schema", "tables": "table", "views": "view", "sequences": "sequence",
             "functions": "function", "roles": "role"}
# Named children inside a table or view entry (lists of columns are keyed by their "name").
_CHILDREN = {"columns": "column", "constraints": "constraint", "indexes": "index", "triggers": "trigger",
             "policies": "policy"}
_MAX_VALUE = 160


@dataclass(frozen=True)
class Difference:
    kind: str  # "missing" (in the contract, not in the database), "extra" (the reverse) or "changed"
    object: str  # e.g. "column finanzas.ledger_entries.amount"
    detail: str = ""  # for "changed": which attribute, expected and found

    def __str__(self) -> str:
        return f"{self.kind:<8} {self.object}" + (f": {self.detail}" if self.detail else "")

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def compare(expected: dict[str, Any], actual: dict[str, Any]) -> list[Difference]:
    """Every difference between two snapshots, objects in a stable order."""
    found: list[Difference] = []
    for section, label in _SECTIONS.items():
        _named(found, label, "", expected.get(section) or {}, actual.get(section) or {})
    return found


def _by_name(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        return {item["name"]: item for item in value}
    return value or {}


def _named(found: list[Difference], label: str, prefix: str, expected: dict[str, Any],
           actual: dict[str, Any]) -> None:
    for name in sorted(expected.keys() | actual.keys()):
        what = f"{label} {prefix}{name}"
        if name not in actual:
            found.append(Difference("missing", what))
        elif name not in expected:
            found.append(Difference("extra", what))
        else:
            _entry(found, what, f"{prefix}{name}.", expected[name], actual[name])


def _entry(found: list[Difference], what: str, prefix: str, expected: Any, actual: Any) -> None:
    if not (isinstance(expected, dict) and isinstance(actual, dict)):
        if expected != actual:
            found.append(Difference("changed", what, f"expected {_show(expected)}, found {_show(actual)}"))
        return
    for key in sorted(expected.keys() | actual.keys()):
        want, have = expected.get(key), actual.get(key)
        if key in _CHILDREN:
            _named(found, _CHILDREN[key], prefix, _by_name(want), _by_name(have))
        elif want != have:
            found.append(Difference("changed", what, _attribute(key, want, have)))


def _attribute(key: str, want: Any, have: Any) -> str:
    if key == "body_sha256":
        return "function body differs"
    if _is_text_list(want) and _is_text_list(have):
        parts = []
        if sorted(set(want) - set(have or [])):
            parts.append("missing " + ", ".join(sorted(set(want) - set(have or []))))
        if sorted(set(have) - set(want or [])):
            parts.append("unexpected " + ", ".join(sorted(set(have) - set(want or []))))
        return f"{key}: " + "; ".join(parts or ["order differs"])
    return f"{key}: expected {_show(want)}, found {_show(have)}"


def _is_text_list(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"
