"""Mutants of a schema folder: every operator over every statement of the chosen files, each candidate checked
to parse (SQL with libpg_query through pglast; a PL/pgSQL body with its PL/pgSQL parser, which parses the SQL
inside it too), each with a stable id.

The id is ``<file>:<line>:<operator>:<hash>``; the hash covers the file, the object, the operator, the mutated
line's text before and after and the occurrence among identical ones — not the line number — so a mutant keeps
its hash when lines above it move (``key`` drops the line: equivalents are matched by it)."""
from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from leadboost_schema.mutation.lexer import statements
from leadboost_schema.mutation.operators import OPERATORS, Candidate, Context
from leadboost_schema.mutation.targets import classify

# 001–007: the schema itself. 000 is only psql includes, 008 test data, 999 the rollback.
DEFAULT_FILES = "00[1-7]_*.sql"
_ROWTYPE = re.compile(r"\b\w+\.\w+%ROWTYPE\b", re.IGNORECASE)
_COLUMN_TYPE = re.compile(r"\b\w+\.\w+\.\w+%TYPE\b|\b\w+\.\w+(?=\[\])", re.IGNORECASE)
# a relation or composite type of ours (not a function call): what the offline PL/pgSQL parser cannot resolve
_OUR_TYPE = re.compile(r"\b(?:iam|finanzas|stock|gobernanza|sys|events|migration)\.\w+\b(?![(.])")
_CHECK_LIST = re.compile(r"CHECK\s*\(\s*\w+\s+IN\s*\(([^()]*)\)\s*\)", re.IGNORECASE)


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str
    line: int
    operator: str
    objects: tuple[str, ...]
    note: str
    before: str   # the mutated line(s), as in the file
    after: str

    @property
    def key(self) -> str:
        """The id without its line number: what the reviewed equivalents list matches."""
        file, _, operator, digest = self.id.split(":")
        return f"{file}:{operator}:{digest}"

    def apply(self, text: str, edits: tuple[tuple[int, int, str], ...]) -> str:
        return apply_edits(text, edits)


@dataclass(frozen=True)
class Generated:
    mutants: list[Mutant]
    edits: dict[str, tuple[tuple[int, int, str], ...]]  # mutant id → its text edits in its file
    unparsable: int


def apply_edits(text: str, edits: tuple[tuple[int, int, str], ...]) -> str:
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def check_lists(texts: list[str]) -> tuple[tuple[str, ...], ...]:
    """Every ``CHECK (col IN ('A', 'B', …))`` list of string literals, in order."""
    lists = []
    for text in texts:
        for match in _CHECK_LIST.finditer(text):
            values = tuple(v.strip()[1:-1] for v in match.group(1).split(","))
            if all(v for v in values):
                lists.append(values)
    return tuple(dict.fromkeys(lists))


def parses(statement_text: str) -> bool:
    """True when the statement parses, a PL/pgSQL function's body included."""
    from pglast import parser  # the mutation extra (pip install 'leadboost-schema[mutation]')

    try:
        parser.parse_sql(statement_text)
        if re.search(r"LANGUAGE\s+plpgsql", statement_text, re.IGNORECASE) and re.match(
                r"\s*CREATE\b", statement_text, re.IGNORECASE) and not re.match(r"\s*DO\b", statement_text):
            # libpg_query cannot look up a schema-qualified %ROWTYPE/%TYPE offline: parse with a stand-in type
            stand_in = _ROWTYPE.sub("record", _COLUMN_TYPE.sub("text", statement_text))
            parser.parse_plpgsql_json(_OUR_TYPE.sub("record", stand_in))
    except Exception:  # noqa: BLE001 - pglast raises ParseError, and plain errors for some PL/pgSQL bodies
        return False
    return True


def generate(schema_dir: Path, pattern: str = DEFAULT_FILES, operators: tuple[str, ...] | None = None) -> Generated:
    files = sorted(schema_dir.glob(pattern))
    texts = {path.name: path.read_text(encoding="utf-8") for path in files}
    context = Context(check_lists(list(texts.values())))
    chosen = {name: OPERATORS[name] for name in (operators or tuple(OPERATORS))}
    mutants: list[Mutant] = []
    edits: dict[str, tuple[tuple[int, int, str], ...]] = {}
    unparsable = 0
    for name, text in texts.items():
        seen: Counter[str] = Counter()
        for statement in statements(text):
            target = classify(statement)
            if target.kind == "other":
                continue
            original = text[statement.start:statement.end]
            for operator in chosen.values():
                for candidate in operator(statement, target, context):
                    mutated = apply_edits(original, _shift(candidate, -statement.start))
                    if mutated == original or not parses(mutated):
                        unparsable += mutated != original
                        continue
                    mutant = _mutant(name, text, candidate, target.objects, seen)
                    mutants.append(mutant)
                    edits[mutant.id] = candidate.edits
    return Generated(mutants, edits, unparsable)


def _shift(candidate: Candidate, by: int) -> tuple[tuple[int, int, str], ...]:
    return tuple((start + by, end + by, replacement) for start, end, replacement in candidate.edits)


def _mutant(file: str, text: str, candidate: Candidate, objects: tuple[str, ...], seen: Counter[str]) -> Mutant:
    first = min(start for start, _, _ in candidate.edits)
    last = max(end for _, end, _ in candidate.edits)
    line_start = text.rfind("\n", 0, first) + 1
    line_end = text.find("\n", last)
    line_end = len(text) if line_end < 0 else line_end
    before = text[line_start:line_end]
    after = apply_edits(before, _shift(candidate, -line_start))
    basis = "|".join((file, ",".join(objects), candidate.operator, before.strip(), after.strip()))
    seen[basis] += 1
    digest = hashlib.sha1(f"{basis}|{seen[basis]}".encode()).hexdigest()[:8]
    line = text.count("\n", 0, candidate.anchor) + 1
    return Mutant(f"{file}:{line}:{candidate.operator}:{digest}", file, line, candidate.operator, objects,
                  candidate.note, before, after)


def sample(mutants: list[Mutant], size: int | None, seed: int) -> list[Mutant]:
    """A reproducible sample (the same seed and mutants give the same sample), in file/line order."""
    if size is None or size >= len(mutants):
        return list(mutants)
    picked = random.Random(seed).sample(range(len(mutants)), size)
    return [mutants[i] for i in sorted(picked)]
