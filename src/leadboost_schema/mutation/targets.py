"""What a statement defines (the object a mutant in it belongs to) and where its expressions are: the ranges of
tokens the expression operators may touch. Only the schema's logic is mutated — function bodies, view queries,
CHECK constraints, policy expressions, partial-index and trigger WHEN predicates — never a column type, a
function header (its ``SET search_path``, its defaults), a comment or a session ``SET``."""
from __future__ import annotations

from dataclasses import dataclass, field

from leadboost_schema.mutation.lexer import Statement, Token


@dataclass(frozen=True)
class Target:
    kind: str                       # function, table, view, index, policy, trigger, grant, revoke, other
    objects: tuple[str, ...]        # qualified names it concerns (function names without arguments)
    ranges: tuple[tuple[int, int], ...] = field(default=())  # token index ranges [start, end) of expressions

    def in_range(self, index: int) -> bool:
        return any(start <= index < end for start, end in self.ranges)


def _name_after(tokens: tuple[Token, ...], index: int) -> tuple[str, int]:
    """A possibly qualified name starting at ``index``; returns it and the index after it."""
    parts = [tokens[index].text]
    index += 1
    while index + 1 < len(tokens) and tokens[index].text == "." and tokens[index + 1].kind == "ident":
        parts.append(tokens[index + 1].text)
        index += 2
    return ".".join(parts).lower(), index


def _skip(tokens: tuple[Token, ...], index: int, *words: str) -> int:
    while index < len(tokens) and tokens[index].is_word(*words):
        index += 1
    return index


def _closing(tokens: tuple[Token, ...], open_index: int) -> int:
    """Index of the ``)`` matching the ``(`` at ``open_index``."""
    depth = tokens[open_index].depth
    for index in range(open_index + 1, len(tokens)):
        if tokens[index].text == ")" and tokens[index].depth == depth:
            return index
    return len(tokens)


def _paren_ranges_after(tokens: tuple[Token, ...], *words: str) -> list[tuple[int, int]]:
    """The inside of each ``WORD (...)`` (CHECK, USING, WHEN): the expressions of a constraint or policy."""
    found = []
    for index, token in enumerate(tokens[:-1]):
        if token.is_word(*words) and tokens[index + 1].text == "(":
            found.append((index + 2, _closing(tokens, index + 1)))
    return found


def _body_ranges(tokens: tuple[Token, ...]) -> list[tuple[int, int]]:
    opens = [i for i, t in enumerate(tokens) if t.kind == "dollar"]
    return [(opens[i] + 1, opens[i + 1]) for i in range(0, len(opens) - 1, 2)]


def classify(statement: Statement) -> Target:
    tokens = statement.tokens
    words = statement.words(8)
    if not tokens:
        return Target("other", ())
    if words[0] == "CREATE":
        index = _skip(tokens, 1, "OR", "REPLACE", "UNIQUE", "CONSTRAINT")
        what = tokens[index].upper if index < len(tokens) else ""
        if what == "FUNCTION" or what == "PROCEDURE":
            name, _ = _name_after(tokens, index + 1)
            return Target("function", (name,), tuple(_body_ranges(tokens)))
        if what == "TABLE":
            name, _ = _name_after(tokens, _skip(tokens, index + 1, "IF", "NOT", "EXISTS"))
            return Target("table", (name,), tuple(_paren_ranges_after(tokens, "CHECK")))
        if what == "VIEW":
            name, after = _name_after(tokens, index + 1)
            start = next((i for i in range(after, len(tokens)) if tokens[i].is_word("AS")), len(tokens))
            return Target("view", (name,), ((start + 1, len(tokens)),))
        if what in ("INDEX", "POLICY", "TRIGGER"):
            on = next((i for i in range(index, len(tokens)) if tokens[i].is_word("ON")), None)
            if on is None:
                return Target("other", ())
            name, _ = _name_after(tokens, _skip(tokens, on + 1, "ONLY"))
            objects = (name,)
            if what == "INDEX":
                where = next((i for i in range(on, len(tokens)) if tokens[i].is_word("WHERE")), None)
                ranges = ((where + 1, len(tokens) - 1),) if where is not None else ()
            elif what == "POLICY":
                ranges = tuple(_paren_ranges_after(tokens, "USING", "CHECK"))
            else:
                ranges = tuple(_paren_ranges_after(tokens, "WHEN"))
                execute = next((i for i in range(on, len(tokens)) if tokens[i].is_word("FUNCTION", "PROCEDURE")),
                               None)
                if execute is not None:
                    objects += (_name_after(tokens, execute + 1)[0],)
            return Target(what.lower(), objects, ranges)
        return Target("other", ())
    if words[0] == "ALTER" and words[1] == "TABLE":
        name, _ = _name_after(tokens, _skip(tokens, 2, "IF", "EXISTS", "ONLY"))
        return Target("table", (name,), tuple(_paren_ranges_after(tokens, "CHECK")))
    if words[0] in ("GRANT", "REVOKE"):
        on = next((i for i in range(len(tokens)) if tokens[i].is_word("ON")), None)
        if on is None:
            return Target("other", ())  # role membership grants
        index = _skip(tokens, on + 1, "TABLE", "FUNCTION", "SCHEMA", "SEQUENCE", "ALL", "TABLES", "FUNCTIONS",
                      "SEQUENCES", "IN")
        objects = []
        while index < len(tokens) and tokens[index].kind == "ident" and not tokens[index].is_word("TO", "FROM"):
            name, index = _name_after(tokens, index)
            objects.append(name)
            if index < len(tokens) and tokens[index].text == "(":
                index = _closing(tokens, index) + 1
            if index < len(tokens) and tokens[index].text == ",":
                index += 1
        return Target(words[0].lower(), tuple(objects))
    return Target("other", ())
