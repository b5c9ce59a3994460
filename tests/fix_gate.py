"""Fixtures of the gate's tests: the gate's databases for "base = this checkout's schema", and a change made of
this checkout's schema plus one upgrade file from the corpus (tests/gate_corpus/), as a pull request would add."""
from __future__ import annotations

from pathlib import Path

import pytest

from leadboost_schema.gate.build import Databases, build
from leadboost_schema.gate.plan import GatePlan, plan_between, schema_with_upgrade
from leadboost_schema.paths import schema_dir
from leadboost_schema.server import Server
from leadboost_schema.upgrades.regenerate import stale_files

CORPUS = Path(__file__).parent / "gate_corpus"
# Above any real upgrade number, so the corpus change is always the newest file of the history.
CORPUS_NUMBER = 9000


def corpus_change(server: Server, tmp_path: Path, example: Path) -> tuple[GatePlan, Databases]:
    """Base: this checkout's schema, filled. Head: the same plus ``example`` (an upgrade file with its header;
    ``<example>.down.sql`` beside it is its down script) as upgrade ``9000_<example stem>.sql``, with the generated
    files and a contract of its own regenerated, as a developer does before pushing. ``<example>.head.sql`` beside
    it, when there is one, is the same change made in a head file (first line ``-- head file: 00N_….sql``; its
    statements are appended to that file), so a fresh install can equal the upgraded base."""
    name = f"{CORPUS_NUMBER}_{example.stem}.sql"
    down_path = example.with_name(example.stem + ".down.sql")
    text = example.read_text(encoding="utf-8")
    down = None
    if down_path.is_file():
        down = (name.replace(".sql", ".down.sql"), down_path.read_text(encoding="utf-8"))
        text = text.replace(f"-- down: {down_path.name}", f"-- down: {down[0]}")
    head = schema_with_upgrade(schema_dir(), tmp_path, name, text, down)
    _edit_head_file(head, example.with_name(example.stem + ".head.sql"))
    stale_files(server, head, contract_path=tmp_path / "contract.json", write=True)
    plan = plan_between(schema_dir(), head, "checkout")
    return plan, build(server, plan)


def _edit_head_file(head: Path, edit: Path) -> None:
    if not edit.is_file():
        return
    first, _, statements = edit.read_text(encoding="utf-8").partition("\n")
    target = head / first.removeprefix("-- head file:").strip()
    if not first.startswith("-- head file:") or not target.is_file():
        raise ValueError(f"{edit.name}: the first line names an existing head file: -- head file: 00N_….sql")
    with target.open("a", encoding="utf-8") as out:
        out.write(f"\n-- {edit.name} (gate corpus)\n{statements}")


@pytest.fixture
def gate_change(leadboost_server: Server, tmp_path_factory: pytest.TempPathFactory):
    """``gate_change("unsafe/type_change_rewrites.sql")`` → (plan, databases) for that corpus example."""

    def make(example: str) -> tuple[GatePlan, Databases]:
        return corpus_change(leadboost_server, tmp_path_factory.mktemp("gate"), CORPUS / example)

    return make
