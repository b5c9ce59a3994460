"""The tenant binding accepts exactly the documented spellings of a uuid, whatever route ``iam.current_tenant_id``
takes to recognise them (issue 13; the canonical-spelling shortcut of upgrade 0090 is such a route).

The rule: ``app.tenant_id`` binds the session to a tenant when it is 32 hex digits, optionally with hyphens after
the 8th, 12th, 16th and 20th, optionally in one pair of braces; the function then returns that uuid. Any other text
is LB003 with the documented message — never 22P02 from a cast, never another uuid. Every string one edit away from
a canonical uuid (a character dropped, a hex digit or hyphen or other character added, a character replaced, a
hyphen moved) is tried, so a shortcut that looks at the wrong length, the wrong positions or the wrong characters
answers one of them differently from the rule.
"""
from __future__ import annotations

import re
import uuid

import psycopg
import pytest

CANONICAL = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
HEX = "[0-9A-Fa-f]"
SPELLING = f"{HEX}{{8}}-?{HEX}{{4}}-?{HEX}{{4}}-?{HEX}{{4}}-?{HEX}{{12}}"
ACCEPTED = re.compile(rf"\{{{SPELLING}\}}|{SPELLING}")


def one_edit_away(text: str) -> set[str]:
    """Every string one deletion, insertion, replacement or adjacent swap away from ``text``."""
    extra = "0aF-g{} "
    found: set[str] = set()
    for i in range(len(text) + 1):
        found.update(text[:i] + c + text[i:] for c in extra)
        if i < len(text):
            found.add(text[:i] + text[i + 1:])
            found.update(text[:i] + c + text[i + 1:] for c in extra)
        if i + 1 < len(text):
            found.add(text[:i] + text[i + 1] + text[i] + text[i + 2:])
    return found


def bindings() -> list[str]:
    seeds = [CANONICAL, CANONICAL.upper(), CANONICAL.replace("-", ""), "{" + CANONICAL + "}"]
    return sorted({variant for seed in seeds for variant in one_edit_away(seed)} | set(seeds))


def answer(conn: psycopg.Connection, binding: str) -> tuple[str, object]:
    """('uuid', value) or ('error', (sqlstate, message)) for ``iam.current_tenant_id()`` under ``binding``."""
    try:
        with conn.transaction():
            conn.execute("SELECT set_config('app.tenant_id', %s, true)", (binding,))
            return "uuid", conn.execute("SELECT iam.current_tenant_id()").fetchone()[0]
    except psycopg.Error as error:
        return "error", (error.sqlstate, error.diag.message_primary)


def expected(binding: str) -> tuple[str, object]:
    if ACCEPTED.fullmatch(binding):
        return "uuid", uuid.UUID(binding.strip("{}"))
    return "error", ("LB003", f"app.tenant_id is not a valid uuid: '{binding}'")


def test_the_binding_accepts_exactly_the_documented_spellings(leadboost_conn: psycopg.Connection) -> None:
    """For every string one edit away from a uuid's accepted spellings, current_tenant_id() returns the uuid iff
    the string is an accepted spelling, and raises LB003 with the documented message otherwise."""
    wrong = {}
    for binding in bindings():
        got, want = answer(leadboost_conn, binding), expected(binding)
        if got != want:
            wrong[binding] = (got, want)
    assert not wrong, f"{len(wrong)} bindings answered against the rule, e.g. {sorted(wrong.items())[:3]}"


@pytest.mark.parametrize("binding", ["", None])
def test_no_binding_is_no_tenant(leadboost_conn: psycopg.Connection, binding: str | None) -> None:
    """An empty or absent app.tenant_id is no binding: NULL, not LB003."""
    with leadboost_conn.transaction():
        if binding is not None:
            leadboost_conn.execute("SELECT set_config('app.tenant_id', %s, true)", (binding,))
        assert leadboost_conn.execute("SELECT iam.current_tenant_id()").fetchone()[0] is None


def test_the_edits_reach_every_position_of_the_canonical_spelling() -> None:
    """The sample above is what makes the rule bite: it holds strings of 35, 36 and 37 characters with a hyphen at
    every position, and for each position a string that is accepted or refused only because of that character."""
    sample = bindings()
    lengths = {len(b) for b in sample if b.count("-") == 4}
    assert {35, 36, 37} <= lengths
    hyphen_at = {i for b in sample if len(b) == 36 for i, c in enumerate(b) if c == "-"}
    assert hyphen_at == set(range(36))
