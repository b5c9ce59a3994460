"""Which spellings of app.tenant_id bind a tenant (iam.current_tenant_id; found by the mutation run: the canonical
fast path's length, hex and hyphen-position tests could each be loosened with every other test passing).

The binding is a uuid in the spelling of the function's pattern: 32 hex digits (either case) with hyphens at the four
canonical places (8-4-4-4-12), each hyphen optional, the whole optionally in one pair of braces. Such a binding is
that uuid; every other non-empty binding is LB003 — never 22P02 (the uuid cast's own error), and never accepted as a
tenant, even a spelling PostgreSQL's uuid input would take (a hyphen after any group of four digits).
"""
from __future__ import annotations

import uuid

import pytest
from psycopg import sql

from leadboost_schema.testing.attempts import attempt

TENANT = uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
CANONICAL = str(TENANT)  # hyphens at 9, 14, 19 and 24 (1-based)
HYPHENS = [8, 13, 18, 23]  # their 0-based indexes


def _without(text: str, indexes: list[int]) -> str:
    return "".join(c for i, c in enumerate(text) if i not in indexes)


def _swap(text: str, i: int, j: int) -> str:
    chars = list(text)
    chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


ACCEPTED = {
    "canonical": CANONICAL,
    "upper case": CANONICAL.upper(),
    "mixed case": CANONICAL[:18].upper() + CANONICAL[18:],
    "no hyphens": CANONICAL.replace("-", ""),
    **{f"without hyphen {k + 1}": _without(CANONICAL, [h]) for k, h in enumerate(HYPHENS)},
    "only the second hyphen": _without(CANONICAL, [8, 18, 23]),
    "in braces": "{" + CANONICAL + "}",
    "in braces, no hyphens": "{" + CANONICAL.replace("-", "") + "}",
}

MALFORMED = {
    "one digit more": CANONICAL + "0",
    "one digit less": CANONICAL[:-1],
    "a digit less in the first group": CANONICAL[1:] + "0",
    "a leading blank": " " + CANONICAL,
    "a trailing blank": CANONICAL + " ",
    "a hyphen too many at the end": CANONICAL + "-",
    **{f"'{bad}' at {i + 1}": CANONICAL[:i] + bad + CANONICAL[i + 1:]
       for i in range(36) if i not in HYPHENS for bad in ("g",)},
    "'Z' in the last group": CANONICAL[:30] + "Z" + CANONICAL[31:],
    **{f"hyphen {k + 1} one to the left": _swap(CANONICAL, h - 1, h) for k, h in enumerate(HYPHENS)},
    **{f"hyphen {k + 1} one to the right": _swap(CANONICAL, h, h + 1) for k, h in enumerate(HYPHENS)},
    "hyphens after every four digits": "-".join(CANONICAL.replace("-", "")[i:i + 4] for i in range(0, 32, 4)),
    "four hyphens after groups of four": "-".join(CANONICAL.replace("-", "")[i:i + 4] for i in range(0, 16, 4))
                                          + "-" + CANONICAL.replace("-", "")[16:],
    "a hyphen in place of a digit": CANONICAL[:30] + "-" + CANONICAL[31:],
    "two hyphens in a row": CANONICAL[:8] + "--" + CANONICAL[9:],
    "one brace": "{" + CANONICAL,
    "braces around a bad uuid": "{" + CANONICAL[:-1] + "}",
    "not a uuid": "tenant-a",
}


def _bound_as(conn, binding: str):
    """iam.current_tenant_id() with app.tenant_id set to ``binding`` (in a savepoint rolled back after)."""
    bind = sql.SQL("SELECT set_config('app.tenant_id', {}, true)").format(sql.Literal(binding))
    return attempt(conn, [bind, "SELECT iam.current_tenant_id()"], undo=True)


@pytest.mark.parametrize("spelling", list(ACCEPTED))
def test_a_binding_in_the_documented_spelling_is_that_tenant(leadboost_conn, spelling):
    """Rule: any spelling of the pattern (either case, each canonical hyphen optional, optional braces) binds
    exactly that uuid."""
    result = _bound_as(leadboost_conn, ACCEPTED[spelling])
    assert result.error is None, str(result)
    assert result.rows[0][0] == TENANT


@pytest.mark.parametrize("spelling", list(MALFORMED))
def test_any_other_binding_is_lb003(leadboost_conn, spelling):
    """Rule: a binding outside the pattern is LB003 ('app.tenant_id is not a valid uuid'), whatever its length or
    where its hyphens are — not 22P02, and not a tenant even where PostgreSQL's uuid input would read one."""
    result = _bound_as(leadboost_conn, MALFORMED[spelling])
    assert result.sqlstate == "LB003", f"{MALFORMED[spelling]!r}: {result}"
    assert result.message == f"app.tenant_id is not a valid uuid: '{MALFORMED[spelling]}'"
