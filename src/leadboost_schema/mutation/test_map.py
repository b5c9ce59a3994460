"""Which tests exercise a mutated object: test files found by name.

A test module's *text* is its own source plus the source of the project's helper modules it imports (the
non-test modules of contracts/ and properties/, e.g. ``contracts/bad_calls.py``, ``properties/models/``). A mutant
runs the test modules whose text names one of its objects (``gobernanza.validate_action``, ``sys.sagas``; for a
schema-wide grant, ``sys.``). Modules that derive their cases from the catalog contract (they call
``load_contract``: every table, trigger, policy and grant, whatever its name) are added for every mutant that is
not inside a function or view body: CHECK constraints, policies, triggers and grants are what they exercise.

Chosen over recording per-test coverage because it needs no instrumented run of the whole suite, stays right
when tests are added, and errs towards running more (a module, not a test); its cost is that a survivor runs
whole modules (``-x`` stops a killed mutant at its first failure)."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from leadboost_schema.mutation.lexer import statements
from leadboost_schema.mutation.mutants import Mutant
from leadboost_schema.mutation.targets import classify

TEST_DIRS = ("contracts", "properties")
# Never run for a mutant. A test of the tests: this one breaks the catalog itself and checks each claim notices.
# And the proofs that a head edit reaches a database only through an upgrade file: they build the released schema
# and upgrade it, so they fail for every mutant (a head edit with no upgrade file) whatever its behaviour — a kill
# by bookkeeping, like the stale contract the runner regenerates. They prove the upgrade path, not a schema rule.
META_MODULES = {"contracts/test_claims_can_fail.py", "contracts/test_upgrade_from_1_0_0.py",
                "contracts/test_schema_changes.py"}
_CATALOG_DERIVED = re.compile(r"\bload_contract\(")
_BODY_KINDS_OPERATORS = {"comparison", "constant", "conjunct", "lock", "raise", "negate-if", "order",
                         "status-literal"}


@dataclass(frozen=True)
class TestMap:
    texts: dict[str, str]          # test module (path relative to the project) → its text, helpers included
    catalog_derived: tuple[str, ...]
    function_objects: frozenset[str]  # objects defined by CREATE FUNCTION / VIEW (their bodies are code)
    callers: dict[str, frozenset[str]]  # object → the objects whose statements name it (two levels deep)

    def names_for(self, mutant: Mutant) -> list[str]:
        """The mutant's objects and their callers: an internal helper is exercised through what calls it, a
        trigger function through its table."""
        objects = set(mutant.objects)
        for obj in mutant.objects:
            objects |= self.callers.get(obj, frozenset())
        return sorted(obj.lower() if "." in obj else f"{obj.lower()}." for obj in objects)

    def modules_for(self, mutant: Mutant) -> list[str]:
        """In run order: modules naming the mutant's own object first (most likely to kill it, and ``-x`` stops
        there), then those naming a caller, then the catalog-derived ones."""
        own = [obj.lower() for obj in mutant.objects]
        wanted = self.names_for(mutant)
        found = sorted((module for module, text in self.texts.items() if any(name in text for name in wanted)),
                       key=lambda module: (not any(name in self.texts[module] for name in own), module))
        in_body = mutant.operator in _BODY_KINDS_OPERATORS and any(
            obj in self.function_objects for obj in mutant.objects)
        if not in_body:
            found += [module for module in self.catalog_derived if module not in found]
        return found


def schema_graph(schema_dir: Path, pattern: str) -> tuple[set[str], dict[str, frozenset[str]]]:
    """(objects with a code body, object → callers two levels deep) of the schema files."""
    bodies: set[str] = set()
    texts: dict[str, str] = {}
    for path in sorted(schema_dir.glob(pattern)):
        text = path.read_text(encoding="utf-8")
        for statement in statements(text):
            target = classify(statement)
            if target.kind in ("function", "view", "trigger", "table", "policy", "index") and target.objects:
                if target.kind in ("function", "view"):
                    bodies.add(target.objects[0])
                owner = target.objects[0]
                texts[owner] = texts.get(owner, "") + "\n" + text[statement.start:statement.end].lower()
    direct = {obj: frozenset(owner for owner, text in texts.items()
                             if owner != obj and re.search(rf"\b{re.escape(obj)}\b", text)) for obj in texts}
    two_levels = {obj: frozenset(callers | {c2 for c in callers for c2 in direct.get(c, ())}) - {obj}
                  for obj, callers in direct.items()}
    return bodies, two_levels


def build(project: Path, schema_dir: Path, pattern: str) -> TestMap:
    function_objects, callers = schema_graph(schema_dir, pattern)
    helpers = {_module_name(project, path): path.read_text(encoding="utf-8").lower()
               for folder in TEST_DIRS for path in (project / folder).rglob("*.py")
               if not path.name.startswith("test_")}
    texts: dict[str, str] = {}
    catalog: list[str] = []
    for folder in TEST_DIRS:
        for path in sorted((project / folder).glob("test_*.py")):
            own = path.read_text(encoding="utf-8")
            closure = _helper_closure(own, helpers)
            text = "\n".join([own.lower(), *(helpers[name] for name in sorted(closure))])
            module = str(path.relative_to(project))
            if module in META_MODULES:
                continue
            texts[module] = text
            if _CATALOG_DERIVED.search(text):
                catalog.append(module)
    return TestMap(texts, tuple(catalog), frozenset(function_objects), callers)


def _module_name(project: Path, path: Path) -> str:
    parts = list(path.relative_to(project).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _helper_closure(source: str, helpers: dict[str, str]) -> set[str]:
    """The helper modules ``source`` imports, transitively (``from contracts.bad_calls import …``,
    ``from contracts import bad_calls``). A name that is a helper module (a package's ``__init__`` included) is that
    module only: ``from contracts import bad_calls`` names ``contracts`` and ``contracts.bad_calls``, not every
    module of contracts/ — which made every new helper there re-key the importer's verdicts. A folder without
    ``__init__`` imported whole stands for all the modules under it."""
    seen: set[str] = set()
    pending = [source]
    while pending:
        for name in _imports(pending.pop()):
            candidates = [name] if name in helpers else [h for h in helpers if h.startswith(name + ".")]
            for candidate in candidates:
                if candidate not in seen:
                    seen.add(candidate)
                    pending.append(helpers[candidate])
    return seen


def _imports(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name.split(".")[0] in TEST_DIRS}
