"""The package modules a mutant's pytest can run: the static import graph (``ast``) from the files pytest loads.

A journaled verdict depends on the package code its test run executed, not on the whole package: an edit to
``backfill/`` cannot change a verdict whose tests never import it. The roots are the files pytest loads for any
mutant (the conftests, the pytest11 entry points of ``pyproject.toml``, the runner's order plugin, and the runner
itself: it regenerates the mutant's contract and generated files with package code) plus the test modules the
verdict ran. From each file the graph follows, transitively:

* ``import a.b`` and ``from a.b import c`` (``a.b.c`` too when it is a module), at any depth of the file (inside a
  function or under ``if TYPE_CHECKING:`` as well — over-approximating is safe);
* relative imports;
* every string constant that names a module of the package or of the project (``pytest_plugins``, ``-p`` and
  ``-m`` arguments, ``importlib.import_module("…")``, the lazy-import table of ``leadboost_schema/__init__.py``);
* importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py``; ``"-m", "a"`` in a list or tuple (a
  subprocess's command line) runs ``a/__main__.py`` too.

Only modules of the package and of the project's test helpers are followed (``contracts``, ``properties``);
third-party imports are the environment's, not the checkout's."""
from __future__ import annotations

import ast
import tomllib
from functools import cache
from pathlib import Path

PROJECT_PACKAGES = ("contracts", "properties")


class ImportGraph:
    """Resolves module names to files of one project and one package, and the files a set of roots reaches."""

    def __init__(self, project: Path, package: Path):
        self.project = project.resolve()
        self.package = package.resolve()
        self._reach: dict[Path, frozenset[Path]] = {}

    def entry_points(self) -> list[str]:
        """The pytest11 entry points declared in the project's pyproject.toml (pytest loads them all)."""
        path = self.project / "pyproject.toml"
        if not path.is_file():
            return []
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        plugins = data.get("project", {}).get("entry-points", {}).get("pytest11", {})
        return [value.split(":", 1)[0].strip() for value in plugins.values()]

    def module_files(self, name: str) -> list[Path]:
        """The files importing (or running) module ``name`` executes: its parents' ``__init__.py`` and itself;
        ``[]`` when it is not a module of the package or of the project."""
        parts = name.split(".")
        if parts[0] == self.package.name:
            base = self.package.parent
        elif parts[0] in PROJECT_PACKAGES:
            base = self.project
        else:
            return []
        files = []
        for depth in range(1, len(parts) + 1):
            folder = base.joinpath(*parts[:depth])
            if (folder / "__init__.py").is_file():
                files.append(folder / "__init__.py")
            elif depth == len(parts) and folder.with_suffix(".py").is_file():
                files.append(folder.with_suffix(".py"))
            elif depth < len(parts) and folder.is_dir():
                continue  # a namespace package: nothing runs
            else:
                return []
        return files

    def reached(self, roots: list[Path]) -> frozenset[Path]:
        """Every file of the package and of the project's helpers that the roots import, transitively (the roots
        included)."""
        found: set[Path] = set()
        for root in roots:
            found |= self._reached_from(root.resolve())
        return frozenset(found)

    def _reached_from(self, root: Path) -> frozenset[Path]:
        if root not in self._reach:
            seen = {root}
            pending = [root]
            while pending:
                path = pending.pop()
                for name in _names_used(path, self._module_name(path)):
                    for file in self.module_files(name):
                        if file not in seen:
                            seen.add(file)
                            pending.append(file)
            self._reach[root] = frozenset(seen)
        return self._reach[root]

    def _module_name(self, path: Path) -> str:
        """The dotted name of ``path`` (for relative imports); ``""`` outside the package and project."""
        for base in (self.package.parent, self.project):
            try:
                parts = list(path.relative_to(base).with_suffix("").parts)
            except ValueError:
                continue
            return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        return ""


@cache
def _parsed(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _names_used(path: Path, module: str) -> set[str]:
    """The module names ``path`` imports or names in a string (candidates: unknown ones resolve to nothing)."""
    try:
        tree = _parsed(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return set()
    if tree is None:
        return set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)] if package else []
                base = ".".join([*anchor, *([base] if base else [])])
            if base:
                names.add(base)
            names |= {f"{base}.{alias.name}" if base else alias.name for alias in node.names}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _looks_like_module(node.value):
            names.add(node.value)
        elif isinstance(node, (ast.List, ast.Tuple)):  # [..., "-m", "package", ...] runs package/__main__.py
            values = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
            names |= {f"{name}.__main__" for flag, name in zip(values, values[1:], strict=False)
                      if flag == "-m" and isinstance(name, str) and _looks_like_module(name)}
    return names


def _looks_like_module(text: str) -> bool:
    return 0 < len(text) < 200 and all(part.isidentifier() for part in text.split("."))
