"""The mutation operators. Each takes a statement (its tokens and Target) and yields candidate edits; a candidate
that does not parse is discarded later (mutants.py), so an operator may be generous about context.

An edit is a tuple of (start, end, replacement) text changes in the file; ``Candidate.note`` says what changed."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from leadboost_schema.mutation.lexer import Statement, Token
from leadboost_schema.mutation.targets import Target

Edit = tuple[int, int, str]


@dataclass(frozen=True)
class Candidate:
    operator: str
    edits: tuple[Edit, ...]
    anchor: int   # offset in the file the mutant is reported at
    note: str


@dataclass(frozen=True)
class Context:
    """What operators need beyond the statement: the CHECK ``IN (...)`` lists of the scanned files."""

    check_lists: tuple[tuple[str, ...], ...] = ()


Operator = Callable[[Statement, Target, Context], Iterator[Candidate]]

_INCLUSIVE = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "=": "<>", "<>": "=", "!=": "="}
_TYPE_WORDS = {"NUMERIC", "DECIMAL", "VARCHAR", "CHAR", "CHARACTER", "VARYING", "BIT", "TIMESTAMP", "TIMESTAMPTZ",
               "TIME", "INTERVAL", "FLOAT"}
_LOCKS = (("UPDATE",), ("SHARE",), ("NO", "KEY", "UPDATE"), ("KEY", "SHARE"))
# Where a conjunct of a boolean expression ends (at the AND's own parenthesis depth).
_CONJUNCT_END = {"AND", "OR", "THEN", "LOOP", "ORDER", "GROUP", "LIMIT", "OFFSET", "FOR", "RETURNING", "ELSE", "WHEN",
                 "END", "INTO", "HAVING", "UNION", "EXCEPT", "INTERSECT", "WINDOW"}
_CONJUNCT_START = {"WHERE", "WHEN", "IF", "ELSIF", "ON", "AND", "OR", "THEN", "ELSE", "HAVING", "RETURN", "CHECK",
                   "USING", "WHILE", "SELECT"}
_ORDER_END = {"LIMIT", "OFFSET", "FOR", "LOOP", "FETCH", "UNION", "EXCEPT", "INTERSECT", "RETURNING"}


def comparison(statement: Statement, target: Target, _: Context) -> Iterator[Candidate]:
    """``< ↔ <=``, ``> ↔ >=`` (made inclusive / exclusive), ``= ↔ <>``."""
    for index, token in enumerate(statement.tokens):
        if token.kind == "op" and token.text in _INCLUSIVE and target.in_range(index):
            new = _INCLUSIVE[token.text]
            yield Candidate("comparison", ((token.start, token.end, new),), token.start, f"{token.text} → {new}")


def constant(statement: Statement, target: Target, _: Context) -> Iterator[Candidate]:
    """A numeric constant ±1 (not a type modifier such as numeric(19, 4), nor the 1 of ``PERFORM 1``)."""
    tokens = statement.tokens
    for index, token in enumerate(tokens):
        if token.kind != "number" or not target.in_range(index) or "e" in token.text.lower():
            continue
        if _in_type_modifier(tokens, index) or (index and tokens[index - 1].is_word("PERFORM", "SELECT", "EXISTS")):
            continue
        value = Decimal(token.text)
        for new in (value + 1, value - 1):
            text = str(new)
            yield Candidate("constant", ((token.start, token.end, text),), token.start, f"{token.text} → {text}")


def _in_type_modifier(tokens: tuple[Token, ...], index: int) -> bool:
    depth = tokens[index].depth
    for back in range(index - 1, -1, -1):
        if tokens[back].text == "(" and tokens[back].depth == depth - 1:
            return back > 0 and tokens[back - 1].upper in _TYPE_WORDS
    return False


def conjunct(statement: Statement, target: Target, _: Context) -> Iterator[Candidate]:
    """One ``AND`` conjunct dropped (the one after an AND; for the first of a chain, the one before it too)."""
    tokens = statement.tokens
    for index, token in enumerate(tokens):
        if not (token.is_word("AND") and target.in_range(index)):
            continue
        depth = token.depth
        left = index - 1
        while left >= 0 and not (tokens[left].depth < depth or (
                tokens[left].depth == depth and (tokens[left].upper in _CONJUNCT_START or tokens[left].text in (",", ":=")))):
            left -= 1
        left_tokens = tokens[left + 1:index]
        if any(t.is_word("BETWEEN") and t.depth == depth for t in left_tokens) and not any(
                t.is_word("AND") and t.depth == depth for t in left_tokens):
            continue  # the AND of ``x BETWEEN a AND b``
        right = index + 1
        while right < len(tokens) and not (tokens[right].depth < depth or tokens[right].text in (";", ",") or (
                tokens[right].depth == depth and tokens[right].upper in _CONJUNCT_END)):
            right += 1
        if right == index + 1 or not left_tokens:
            continue
        if any(t.is_word("BETWEEN") for t in tokens[index + 1:right]) and right < len(tokens) and \
                tokens[right].is_word("AND"):
            right = _after_between(tokens, right, depth)
        dropped = _text(statement, index, right)
        yield Candidate("conjunct", ((tokens[index - 1].end, tokens[right - 1].end, ""),), token.start,
                        f"dropped {dropped}")
        if left >= 0 and tokens[left].is_word("AND"):
            continue  # the left side is itself the right of an earlier AND
        kept_from = tokens[index + 1].start
        yield Candidate("conjunct", ((left_tokens[0].start, kept_from, ""),), left_tokens[0].start,
                        f"dropped {_text(statement, left + 1, index + 1)}")


def _after_between(tokens: tuple[Token, ...], and_index: int, depth: int) -> int:
    right = and_index + 1
    while right < len(tokens) and not (tokens[right].depth < depth or tokens[right].text in (";", ",") or (
            tokens[right].depth == depth and tokens[right].upper in _CONJUNCT_END)):
        right += 1
    return right


def _text(statement: Statement, start: int, end: int) -> str:
    return " ".join(t.text for t in statement.tokens[start:end])


def lock(statement: Statement, target: Target, _: Context) -> Iterator[Candidate]:
    """``FOR UPDATE`` / ``FOR SHARE`` (and NO KEY / KEY variants, with OF, NOWAIT, SKIP LOCKED) removed."""
    tokens = statement.tokens
    for index, token in enumerate(tokens):
        if not (token.is_word("FOR") and target.in_range(index)):
            continue
        for words in _LOCKS:
            end = index + 1 + len(words)
            if [t.upper for t in tokens[index + 1:end]] == list(words):
                break
        else:
            continue
        if end < len(tokens) and tokens[end].is_word("OF"):
            end += 1
            while end < len(tokens) and (tokens[end].kind == "ident" or tokens[end].text in (",", ".")) and \
                    not tokens[end].is_word("NOWAIT", "SKIP"):
                end += 1
        end = _skip_words(tokens, end, "NOWAIT", "SKIP", "LOCKED")
        yield Candidate("lock", ((token.start, tokens[end - 1].end, ""),), token.start,
                        f"dropped {_text(statement, index, end)}")


def _skip_words(tokens: tuple[Token, ...], index: int, *words: str) -> int:
    while index < len(tokens) and tokens[index].is_word(*words):
        index += 1
    return index


def raise_branch(statement: Statement, target: Target, _: Context) -> Iterator[Candidate]:
    """A ``RAISE`` of an error removed (notices and warnings are not branches of the logic)."""
    tokens = statement.tokens
    for index, token in enumerate(tokens):
        if not (token.is_word("RAISE") and target.in_range(index)):
            continue
        if index + 1 < len(tokens) and tokens[index + 1].is_word("NOTICE", "WARNING", "INFO", "LOG", "DEBUG"):
            continue
        end = next((i for i in range(index, len(tokens)) if tokens[i].text == ";"), None)
        if end is not None:
            yield Candidate("raise", ((token.start, tokens[end].end, ""),), token.start,
                            f"dropped {_text(statement, index, min(end, index + 6))} …")


def negate_if(statement: Statement, target: Target, _: Context) -> Iterator[Candidate]:
    """``IF c THEN`` / ``ELSIF c THEN`` → ``NOT (c)``."""
    tokens = statement.tokens
    for index, token in enumerate(tokens):
        if not (token.is_word("IF", "ELSIF") and target.in_range(index)):
            continue
        if index and tokens[index - 1].is_word("END"):
            continue
        then = next((i for i in range(index + 1, len(tokens))
                     if tokens[i].is_word("THEN") and tokens[i].depth == token.depth), None)
        if then is None or then == index + 1:
            continue
        yield Candidate("negate-if", ((tokens[index + 1].start, tokens[index + 1].start, "NOT ("),
                                      (tokens[then - 1].end, tokens[then - 1].end, ")")), token.start,
                        f"{token.upper} NOT ({_text(statement, index + 1, then)})")


def order(statement: Statement, target: Target, _: Context) -> Iterator[Candidate]:
    """Each ``ORDER BY`` reversed: every item's ASC ↔ DESC (an item without one gets DESC)."""
    tokens = statement.tokens
    for index, token in enumerate(tokens[:-1]):
        if not (token.is_word("ORDER") and tokens[index + 1].is_word("BY") and target.in_range(index)):
            continue
        depth, end = token.depth, index + 2
        while end < len(tokens) and not (tokens[end].depth < depth or tokens[end].text == ";" or (
                tokens[end].depth == depth and tokens[end].upper in _ORDER_END)):
            end += 1
        edits: list[Edit] = []
        for position in range(index + 2, end + 1):
            if position == end or (tokens[position].text == "," and tokens[position].depth == depth):
                last = tokens[position - 1]
                if last.is_word("ASC", "DESC"):
                    edits.append((last.start, last.end, "DESC" if last.upper == "ASC" else "ASC"))
                elif last.is_word("FIRST", "LAST"):
                    pass  # NULLS FIRST/LAST items: left alone
                else:
                    edits.append((last.end, last.end, " DESC"))
        if edits:
            yield Candidate("order", tuple(edits), token.start, f"reversed ORDER BY {_text(statement, index + 2, end)}")


def status_literal(statement: Statement, target: Target, context: Context) -> Iterator[Candidate]:
    """A literal of a CHECK ``IN (...)`` list replaced by its neighbours in that list (not inside the list's own
    CREATE/ALTER TABLE, where the lists are defined)."""
    if target.kind == "table":
        return
    for index, token in enumerate(statement.tokens):
        if token.kind != "string" or not target.in_range(index) or not token.text.startswith("'"):
            continue
        value = token.text[1:-1]
        others: dict[str, None] = {}
        for values in context.check_lists:  # a value in several lists ('CLOSED'): the neighbours in each
            if value in values and len(values) > 1:
                at = values.index(value)
                others.update(dict.fromkeys((values[(at + 1) % len(values)], values[at - 1])))
        for other in others:
            if other != value:
                yield Candidate("status-literal", ((token.start, token.end, f"'{other}'"),), token.start,
                                f"'{value}' → '{other}'")


def enable_always(statement: Statement, target: Target, _: Context) -> Iterator[Candidate]:
    """``ENABLE ALWAYS TRIGGER t`` → ``ENABLE TRIGGER t`` (then it does not fire under session_replication_role
    = replica)."""
    tokens = statement.tokens
    for index, token in enumerate(tokens[:-1]):
        if token.is_word("ENABLE") and tokens[index + 1].is_word("ALWAYS") and target.kind == "table":
            nxt = tokens[index + 1]
            yield Candidate("enable-always", ((token.end, nxt.end, ""),), token.start, "dropped ALWAYS")


def with_check(statement: Statement, target: Target, _: Context) -> Iterator[Candidate]:
    """A policy's ``WITH CHECK (...)`` dropped (writes are then checked by USING only, or not at all). Not when
    the check repeats USING token for token: PostgreSQL checks new rows with USING when WITH CHECK is absent, so
    that mutant is equivalent by construction (it would only be listed as such by hand, every run)."""
    if target.kind != "policy":
        return
    tokens = statement.tokens
    using = _parenthesised_after(tokens, "USING")
    for index, token in enumerate(tokens[:-2]):
        if token.is_word("WITH") and tokens[index + 1].is_word("CHECK") and tokens[index + 2].text == "(":
            close = _closing(tokens, index + 2)
            if using is not None and _same_tokens(tokens[index + 2:close + 1], using):
                continue
            yield Candidate("with-check", ((token.start, tokens[close].end, ""),), token.start,
                            f"dropped {_text(statement, index, close + 1)}")


def _closing(tokens: tuple[Token, ...], opening: int) -> int:
    return next(i for i in range(opening + 1, len(tokens))
                if tokens[i].text == ")" and tokens[i].depth == tokens[opening].depth)


def _parenthesised_after(tokens: tuple[Token, ...], word: str) -> tuple[Token, ...] | None:
    """The ``( ... )`` right after the first ``word`` (a policy's USING expression), or None."""
    for index, token in enumerate(tokens[:-1]):
        if token.is_word(word) and tokens[index + 1].text == "(":
            return tokens[index + 1:_closing(tokens, index + 1) + 1]
    return None


def _same_tokens(a: tuple[Token, ...], b: tuple[Token, ...]) -> bool:
    """Same expression text, ignoring whitespace, comments and the case of keywords and identifiers."""
    def words(tokens: tuple[Token, ...]) -> list[str]:
        return [t.text if t.kind == "string" else t.upper for t in tokens if t.kind != "comment"]
    return words(a) == words(b)


def grant(statement: Statement, target: Target, _: Context) -> Iterator[Candidate]:
    """A GRANT widened: table/schema privileges → ALL; a function's grantee → PUBLIC. A ``REVOKE … FROM PUBLIC``
    dropped (its objects stay executable/usable by everyone)."""
    tokens = statement.tokens
    if target.kind == "revoke":
        if any(t.is_word("PUBLIC") for t in tokens):
            yield Candidate("grant", ((statement.start, statement.end, ""),), statement.start,
                            f"dropped {_text(statement, 0, min(len(tokens), 8))} …")
        return
    if target.kind != "grant":
        return
    on = next(i for i, t in enumerate(tokens) if t.is_word("ON"))
    to = next((i for i, t in enumerate(tokens) if t.is_word("TO")), None)
    if to is None:
        return
    if tokens[on + 1].is_word("FUNCTION", "FUNCTIONS", "PROCEDURE", "ROUTINE") or (
            tokens[on + 1].is_word("ALL") and tokens[on + 2].is_word("FUNCTIONS")):
        if not tokens[to + 1].is_word("PUBLIC"):
            yield Candidate("grant", ((tokens[to + 1].start, tokens[to + 1].end, "PUBLIC"),), tokens[to + 1].start,
                            f"TO {tokens[to + 1].text} → TO PUBLIC")
        return
    if not tokens[1].is_word("ALL"):
        yield Candidate("grant", ((tokens[1].start, tokens[on - 1].end, "ALL"),), tokens[1].start,
                        f"{_text(statement, 1, on)} → ALL")


OPERATORS: dict[str, Operator] = {
    "comparison": comparison, "constant": constant, "conjunct": conjunct, "lock": lock, "raise": raise_branch,
    "negate-if": negate_if, "order": order, "status-literal": status_literal, "enable-always": enable_always,
    "with-check": with_check, "grant": grant,
}
