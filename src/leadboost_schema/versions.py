"""Server version specs such as ``">= 16"`` or ``"< 15.4"``, as used by the ``postgres`` marker."""
from __future__ import annotations

import operator
import re

_OPERATORS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq,
              "!=": operator.ne}
_SPEC = re.compile(r"^\s*(>=|<=|>|<|==|!=)?\s*(\d+)(?:\.(\d+))?\s*$")


def version_matches(spec: str, server_version_num: int) -> bool:
    """Whether ``server_version_num`` (e.g. 150018) satisfies ``spec``; a bare major ("16") means that major."""
    found = _SPEC.match(spec)
    if not found:
        raise ValueError(f"bad postgres version spec {spec!r}: write e.g. '>= 16', '< 15.4' or '17'")
    op, major, minor = found.group(1), int(found.group(2)), found.group(3)
    if op is None:
        return server_version_num // 10000 == major
    wanted = major * 10000 + (int(minor) if minor else 0)
    have = server_version_num if minor else server_version_num // 10000 * 10000
    return _OPERATORS[op](have, wanted)


def version_text(server_version_num: int) -> str:
    """``150018`` -> ``"15.18"`` (PostgreSQL 10 and later: major * 10000 + minor)."""
    return f"{server_version_num // 10000}.{server_version_num % 10000}"
