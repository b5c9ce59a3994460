"""Contract claims over a catalog snapshot, named as pgTAP names them, so each test line reads as one promise.

Every claim takes the snapshot made by ``leadboost_schema.catalog.snapshot.snapshot`` and raises ``AssertionError`` with
what was expected and what the catalog holds.
"""
from __future__ import annotations

from typing import Any

Snapshot = dict[str, Any]


def has_schema(snap: Snapshot, schema: str) -> dict[str, Any]:
    assert schema in snap["schemas"], f"schema {schema} is missing; have {sorted(snap['schemas'])}"
    return snap["schemas"][schema]


def has_table(snap: Snapshot, table: str) -> dict[str, Any]:
    assert table in snap["tables"], f"table {table} is missing; have {sorted(snap['tables'])}"
    return snap["tables"][table]


def has_view(snap: Snapshot, view: str) -> dict[str, Any]:
    assert view in snap["views"], f"view {view} is missing; have {sorted(snap['views'])}"
    return snap["views"][view]


def has_column(snap: Snapshot, relation: str, column: str) -> dict[str, Any]:
    entry = snap["tables"].get(relation) or has_view(snap, relation)
    columns = {c["name"]: c for c in entry["columns"]}
    assert column in columns, f"{relation}.{column} is missing; columns are {list(columns)}"
    return columns[column]


def col_type(snap: Snapshot, table: str, column: str, expected: str) -> None:
    actual = has_column(snap, table, column)["type"]
    assert actual == expected, f"{table}.{column} is {actual}, not {expected}"


def col_not_null(snap: Snapshot, table: str, column: str) -> None:
    assert has_column(snap, table, column)["not_null"], f"{table}.{column} is nullable"


def col_is_null(snap: Snapshot, table: str, column: str) -> None:
    assert not has_column(snap, table, column)["not_null"], f"{table}.{column} is NOT NULL"


def col_default_is(snap: Snapshot, table: str, column: str, expected: str | None) -> None:
    actual = has_column(snap, table, column)["default"]
    assert actual == expected, f"{table}.{column} defaults to {actual!r}, not {expected!r}"


def col_is_identity(snap: Snapshot, table: str, column: str, kind: str = "ALWAYS") -> None:
    actual = has_column(snap, table, column)["identity"]
    assert actual == kind, f"{table}.{column} identity is {actual!r}, not {kind!r}"


def _constraints(snap: Snapshot, table: str, kind: str) -> dict[str, dict[str, Any]]:
    return {name: c for name, c in has_table(snap, table)["constraints"].items() if c["type"] == kind}


def has_pk(snap: Snapshot, table: str, columns: str) -> None:
    definitions = [c["definition"] for c in _constraints(snap, table, "PRIMARY KEY").values()]
    assert definitions == [f"PRIMARY KEY ({columns})"], f"{table} primary key is {definitions}, not ({columns})"


def has_unique(snap: Snapshot, table: str, columns: str) -> None:
    definitions = [c["definition"] for c in _constraints(snap, table, "UNIQUE").values()]
    assert f"UNIQUE ({columns})" in definitions, f"{table} has no UNIQUE ({columns}); it has {definitions}"


def has_check(snap: Snapshot, table: str, *fragments: str) -> str:
    """A CHECK constraint of ``table`` whose definition contains every fragment; returns its name."""
    checks = _constraints(snap, table, "CHECK")
    for name, check in checks.items():
        if all(fragment in check["definition"] for fragment in fragments):
            return name
    raise AssertionError(f"{table} has no CHECK containing {fragments}; its CHECKs are "
                         f"{[c['definition'] for c in checks.values()]}")


def fk_ok(snap: Snapshot, table: str, columns: str, references: str, *, on_delete: str,
          ref_columns: str | None = None) -> None:
    """``table (columns)`` references ``references`` with the given ON DELETE action."""
    target = f"REFERENCES {references}({ref_columns or 'id'})"
    for fk in _constraints(snap, table, "FOREIGN KEY").values():
        if fk["definition"].startswith(f"FOREIGN KEY ({columns}) {target}"):
            assert fk["on_delete"] == on_delete, f"{table} ({columns}) → {references}: ON DELETE {fk['on_delete']}"
            return
    raise AssertionError(f"{table} has no FOREIGN KEY ({columns}) {target}; it has "
                         f"{[c['definition'] for c in _constraints(snap, table, 'FOREIGN KEY').values()]}")


def has_index(snap: Snapshot, table: str, name: str, *fragments: str) -> None:
    indexes = has_table(snap, table)["indexes"]
    assert name in indexes, f"{table} has no index {name}; it has {sorted(indexes)}"
    for fragment in fragments:
        assert fragment in indexes[name]["definition"], f"index {name} is {indexes[name]['definition']}"


def has_trigger(snap: Snapshot, table: str, name: str, *fragments: str, enabled: str = "ALWAYS") -> None:
    triggers = has_table(snap, table)["triggers"]
    assert name in triggers, f"{table} has no trigger {name}; it has {sorted(triggers)}"
    for fragment in fragments:
        assert fragment in triggers[name]["definition"], f"trigger {name} is {triggers[name]['definition']}"
    assert triggers[name]["enabled"] == enabled, f"trigger {name} is enabled {triggers[name]['enabled']}"


def has_function(snap: Snapshot, schema: str, name: str, args: str) -> dict[str, Any]:
    """``args``: the identity arguments as PostgreSQL prints them, e.g. ``p_tenant_id uuid, p_sku text``."""
    signature = f"{schema}.{name}({args})"
    if signature not in snap["functions"]:
        same_name = [s for s in snap["functions"] if s.startswith(f"{schema}.{name}(")]
        raise AssertionError(f"function {signature} is missing; {schema}.{name} has {same_name}")
    return snap["functions"][signature]


def function_returns(snap: Snapshot, schema: str, name: str, args: str, result: str) -> None:
    actual = has_function(snap, schema, name, args)["result"]
    assert actual == result, f"{schema}.{name}({args}) returns {actual}, not {result}"


def is_definer(snap: Snapshot, schema: str, name: str, args: str) -> None:
    function = has_function(snap, schema, name, args)
    assert function["security_definer"], f"{schema}.{name} is not SECURITY DEFINER"


def search_path_is(snap: Snapshot, schema: str, name: str, args: str, path: str) -> None:
    config = has_function(snap, schema, name, args)["config"]
    assert f"search_path={path}" in config, f"{schema}.{name} config is {config}"


def rls_enabled(snap: Snapshot, table: str) -> None:
    assert has_table(snap, table)["row_level_security"], f"{table} has row level security disabled"


def has_policy(snap: Snapshot, table: str, name: str, *fragments: str) -> None:
    policies = has_table(snap, table)["policies"]
    assert name in policies, f"{table} has no policy {name}; it has {sorted(policies)}"
    text = f"{policies[name]['using']} / {policies[name]['with_check']}"
    for fragment in fragments:
        assert fragment in text, f"policy {name} on {table} is {text}"


def privileges_are(entry: dict[str, Any], role: str, expected: set[str]) -> None:
    """Exactly ``expected`` privileges of ``role`` on a schema/table/view/function snapshot entry."""
    actual = {grant.split(":", 1)[1] for grant in entry["grants"] if grant.split(":", 1)[0] == role}
    assert actual == expected, f"{role} holds {sorted(actual)}, not {sorted(expected)}"


def has_comment(entry: dict[str, Any], what: str) -> None:
    assert entry.get("comment"), f"{what} has no COMMENT"
