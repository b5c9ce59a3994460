"""The package's rooms and the arrows between them (docs/architecture.md), read from the source with ``ast``:
no import cycle among modules, and no import a room is not allowed to make."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "leadboost_schema"
TOP_MODULES = {"__init__", "__main__", "errors", "paths", "versions"}
# room -> rooms it may import (besides itself and the top-level modules). Mirrors docs/architecture.md.
ALLOWED = {
    "server": set(),
    "catalog": set(),
    "databases": {"server"},
    "testing": {"server", "databases", "catalog"},
    "bench": {"server", "databases", "catalog", "testing"},
    "upgrades": {"server", "databases", "catalog"},
    "backfill": {"server", "databases", "catalog"},
    "gate": {"server", "databases", "catalog", "testing", "upgrades"},
    "mutation": {"server", "databases", "catalog", "testing", "upgrades"},
    "pytest_plugin": {"server", "databases", "catalog", "testing", "upgrades"},
    "cli": {"server", "databases", "catalog", "testing", "upgrades", "backfill", "gate", "bench", "mutation"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every leadboost_schema module ``path`` imports (at any depth in the file, lazy imports included)."""
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("leadboost_schema")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("leadboost_schema"):
            for alias in node.names:  # `from pkg import module` imports the module, `from module import name` not
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
    return found


def _runtime_nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:`` (imports for annotations only, never executed)."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.If) and isinstance(child.test, ast.Name) and child.test.id == "TYPE_CHECKING":
            yield from (node for orelse in child.orelse for node in _runtime_nodes(orelse))
            continue
        yield child
        yield from _runtime_nodes(child)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
GRAPH = {name: imports_of(path) - {name} for name, path in MODULES.items()}


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] not in TOP_MODULES else "<package>"


def test_only_the_small_top_level_modules_sit_outside_a_room():
    loose = {path.stem for path in PACKAGE.glob("*.py")}
    assert loose <= TOP_MODULES, f"modules outside a room: {sorted(loose - TOP_MODULES)}"
    rooms = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()} - {"schema"}
    assert rooms <= set(ALLOWED), f"rooms not described in docs/architecture.md: {sorted(rooms - set(ALLOWED))}"


def test_every_arrow_between_rooms_is_allowed():
    wrong = []
    for module, targets in GRAPH.items():
        source = room(module)
        if source == "<package>":
            continue  # the facade (lazy __getattr__) and the top-level modules
        for target in targets:
            to = room(target)
            if to not in {source, "<package>"} and to not in ALLOWED[source]:
                wrong.append(f"{module} -> {target}")
            if to == "<package>" and target.split(".")[-1] not in TOP_MODULES - {"__init__", "__main__"}:
                wrong.append(f"{module} -> {target} (import from the room, not the facade)")
    assert not wrong, "imports docs/architecture.md forbids:\n" + "\n".join(sorted(wrong))


def test_no_import_cycle():
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(GRAPH.get(node, ())):
            if target not in GRAPH:
                continue
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target] if target in path else [node, target])
            elif target not in state:
                visit(target, path + [target])
        state[node] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_graph_is_read_at_all():
    """Guards the guards: the parser sees the arrows it must judge."""
    assert "leadboost_schema.server" in GRAPH["leadboost_schema.databases.templates"]
    assert "leadboost_schema.server.our_databases" in GRAPH["leadboost_schema.server.backends"]
