"""Whether a client that reads a column of one type reads it the same way when it has become another type: the
same type, or a wider one of the same kind (varchar(n) → varchar(m ≥ n) or text, smallint → integer → bigint,
numeric with no fewer digits before and after the point, or unconstrained). Anything else is narrowed or changed."""
from __future__ import annotations

import re

_INTEGERS = ("smallint", "integer", "bigint")
_VARCHAR = re.compile(r"^character varying(?:\((\d+)\))?$")
_NUMERIC = re.compile(r"^numeric(?:\((\d+),(\d+)\))?$")


def reads_the_same(old: str, new: str) -> bool:
    """``old`` and ``new`` as ``format_type`` writes them (``character varying(20)``, ``numeric(18,4)``)."""
    if old == new:
        return True
    if old in _INTEGERS and new in _INTEGERS:
        return _INTEGERS.index(new) >= _INTEGERS.index(old)
    old_text, new_text = _VARCHAR.match(old), _VARCHAR.match(new)
    if old_text and (new == "text" or new_text):
        if new == "text" or new_text.group(1) is None:
            return True
        return old_text.group(1) is not None and int(new_text.group(1)) >= int(old_text.group(1))
    old_number, new_number = _NUMERIC.match(old), _NUMERIC.match(new)
    if old_number and new_number:
        if new_number.group(1) is None:
            return True
        if old_number.group(1) is None:
            return False
        (p, s), (q, t) = map(int, old_number.groups()), map(int, new_number.groups())
        return t >= s and q - t >= p - s
    return False
