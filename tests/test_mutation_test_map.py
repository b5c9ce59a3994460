"""Which helper texts the mutation test map gives a test module (mutation/test_map.py): exactly the helpers it
imports, transitively — so a new helper module elsewhere in contracts/ re-keys no verdict of a module that does not
import it. Without a server."""
from __future__ import annotations

from pathlib import Path

from leadboost_schema.mutation.test_map import build

SCHEMA = "CREATE TABLE iam.things (id integer);\n"


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "001_schema_iam.sql").write_text(SCHEMA, encoding="utf-8")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


HELPERS = {
    "contracts/__init__.py": "",
    "contracts/used.py": "from contracts.deeper import X\nUSED = 'iam.used_marker'\n",
    "contracts/deeper.py": "X = 'iam.deeper_marker'\n",
    "contracts/sibling.py": "SIBLING = 'iam.sibling_marker'\n",
    "properties/__init__.py": "",
    "properties/models/__init__.py": "",
    "properties/models/saga.py": "SAGA = 'iam.saga_marker'\n",
}
SPELLINGS = {
    "from the package": "from contracts import used\n",
    "from the module": "from contracts.used import USED\n",
    "the module": "import contracts.used\n",
}


def test_each_spelling_of_an_import_gets_that_helper_and_what_it_imports_not_its_siblings(tmp_path):
    """Rule: ``from contracts import used``, ``from contracts.used import …`` and ``import contracts.used`` all give
    the module the text of used.py and of what used.py imports (deeper.py), never the text of a sibling helper."""
    files = dict(HELPERS)
    for number, spelling in enumerate(SPELLINGS.values()):
        files[f"contracts/test_{number}.py"] = spelling + "def test_it():\n    pass\n"
    project = _project(tmp_path, files)
    texts = build(project, project / "schema", "00[1-7]_*.sql").texts
    for number, name in enumerate(SPELLINGS):
        text = texts[f"contracts/test_{number}.py"]
        assert "iam.used_marker" in text and "iam.deeper_marker" in text, name
        assert "iam.sibling_marker" not in text and "iam.saga_marker" not in text, name


def test_a_helper_package_imported_whole_gets_nothing_it_does_not_import(tmp_path):
    """Rule: ``import properties.models`` (a package with an ``__init__``) gives its ``__init__``'s text only; the
    modules under it come in when imported by name (``from properties.models import saga``)."""
    files = dict(HELPERS)
    files["properties/test_whole.py"] = "import properties.models\n"
    files["properties/test_named.py"] = "from properties.models import saga\n"
    project = _project(tmp_path, files)
    texts = build(project, project / "schema", "00[1-7]_*.sql").texts
    assert "iam.saga_marker" not in texts["properties/test_whole.py"]
    assert "iam.saga_marker" in texts["properties/test_named.py"]
