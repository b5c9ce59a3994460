"""SQL as tokens and statements, enough to place a mutation: words, numbers, operators and punctuation, with
comments and string literals kept whole (never mutated inside) and ``$$`` bodies lexed as code (they are where
PL/pgSQL lives). Positions are offsets into the file's text, so a mutation is an exact text edit."""
from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"""
    (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<string>[EeBbXx]?'(?:[^']|'')*')
  | (?P<dollar>\$[A-Za-z_]*\$)
  | (?P<param>\$\d+)
  | (?P<ident>"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+)
  | (?P<op>::|:=|=>|->>|->|\#>>|\#>|@>|<@|<=|>=|<>|!=|!~\*?|~\*|\|\||[-+*/%<>=~!@#^&|?])
  | (?P<punct>[(),;\[\].:])
  | (?P<space>\s+)
""", re.VERBOSE | re.DOTALL)


@dataclass(frozen=True)
class Token:
    kind: str   # comment, string, dollar, ident, number, op, punct
    text: str
    start: int
    depth: int  # parenthesis depth within its statement

    @property
    def end(self) -> int:
        return self.start + len(self.text)

    @property
    def upper(self) -> str:
        return self.text.upper()

    def is_word(self, *words: str) -> bool:
        return self.kind == "ident" and self.upper in words


@dataclass(frozen=True)
class Statement:
    """One top-level statement: its code tokens (no comments or spaces) and where it sits in the file."""

    tokens: tuple[Token, ...]
    start: int
    end: int
    line: int

    def words(self, count: int) -> list[str]:
        return [t.upper for t in self.tokens[:count]]


def tokenize(text: str) -> list[Token]:
    """Every code token of ``text`` (comments and spaces dropped); unknown characters raise ValueError."""
    tokens: list[Token] = []
    depth, position = 0, 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise ValueError(f"cannot lex {text[position:position + 20]!r} at offset {position}")
        kind, value = match.lastgroup or "", match.group()
        position = match.end()
        if kind in ("space", "comment"):
            continue
        if value == ")":
            depth -= 1
        tokens.append(Token(kind, value, match.start(), depth))
        if value == "(":
            depth += 1
    return tokens


def statements(text: str) -> list[Statement]:
    """Split at ``;`` outside ``$$`` bodies. Psql meta-command lines (``\\ir``) are not expected here (001–007)."""
    found: list[Statement] = []
    current: list[Token] = []
    in_body = None
    for token in tokenize(text):
        current.append(token)
        if token.kind == "dollar":
            in_body = None if in_body == token.text else (in_body or token.text)
        elif token.text == ";" and in_body is None:
            found.append(_statement(text, current))
            current = []
    if current:
        found.append(_statement(text, current))
    return found


def _statement(text: str, tokens: list[Token]) -> Statement:
    # depths restart at 0 for each statement (an unbalanced one would otherwise skew the next)
    base = tokens[0].depth
    rebased = tuple(Token(t.kind, t.text, t.start, t.depth - base) for t in tokens)
    return Statement(rebased, tokens[0].start, tokens[-1].end, text.count("\n", 0, tokens[0].start) + 1)
