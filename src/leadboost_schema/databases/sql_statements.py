"""Splitting SQL text into statements as psql's lexer does: at semicolons outside quotes, dollar quotes, comments
and parentheses. Used by the SQL file runner (errors name the statement's line) and by the gate's lock trace (each
statement of an upgrade executed and observed on its own)."""
from __future__ import annotations

import re
from collections.abc import Iterator

_TOKEN = re.compile(r"--[^\n]*|/\*|'|\"|\$[A-Za-z_\x80-\uffff][\w\x80-\uffff]*\$|\$\$|[();]|(?<![\w$])[Ee]'")
LEADING_NOISE = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.DOTALL)


def sql_statements(text: str) -> Iterator[tuple[int, str]]:
    """(offset in ``text``, statement) for each statement, split at semicolons outside quotes, dollar quotes,
    comments and parentheses, as psql's lexer does. Whitespace/comment-only pieces are skipped."""
    start = position = depth = 0
    while True:
        found = _TOKEN.search(text, position)
        if found is None:
            break
        token, position = found.group(), found.end()
        if token.startswith("--"):
            continue
        if token == "/*":
            position = _comment_end(text, position)
        elif token in ("'", '"', "E'", "e'"):
            position = _quote_end(text, position, token[-1], backslashes=len(token) == 2)
        elif token.startswith("$"):
            end = text.find(token, position)
            position = len(text) if end < 0 else end + len(token)
        elif token == "(":
            depth += 1
        elif token == ")":
            depth = max(depth - 1, 0)
        elif depth == 0:  # a semicolon ending a statement
            if has_code(text[start:position]):
                yield start, text[start:position]
            start = position
    if has_code(text[start:]):
        yield start, text[start:]


def statement_start(statement: str) -> int:
    """Offset of the statement's first character of code (after leading blanks and comments)."""
    return LEADING_NOISE.match(statement).end()


def has_code(piece: str) -> bool:
    """Whether ``piece`` holds anything but blanks, comments and semicolons."""
    return bool(re.sub(r"--[^\n]*|/\*.*?\*/|[\s;]", "", piece, flags=re.DOTALL))


def _comment_end(text: str, position: int) -> int:
    nesting = 1
    while nesting and position < len(text):
        opener, closer = text.find("/*", position), text.find("*/", position)
        if closer < 0:
            return len(text)
        if 0 <= opener < closer:
            nesting, position = nesting + 1, opener + 2
        else:
            nesting, position = nesting - 1, closer + 2
    return position


def _quote_end(text: str, position: int, quote: str, backslashes: bool) -> int:
    while position < len(text):
        char = text[position]
        if backslashes and char == "\\":
            position += 2
            continue
        position += 1
        if char == quote:
            if text.startswith(quote, position):  # a doubled quote stands for itself
                position += 1
                continue
            return position
    return position
