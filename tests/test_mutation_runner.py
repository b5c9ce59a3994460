"""The mutation runner end to end on a tiny stand-in project (tests/standin_schema plus one function and one test
module): a mutant its test notices is killed, one the test cannot see survives, a mutant whose schema does not
migrate is unviable, and the report scores the file from those verdicts."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from leadboost_schema.mutation.mutants import generate
from leadboost_schema.mutation.report import judge, scores, to_json, to_markdown
from leadboost_schema.mutation.runner import RunConfig, run_one
from leadboost_schema.mutation.test_map import build

STANDIN = Path(__file__).parent / "standin_schema"
FUNCTION = """
CREATE FUNCTION iam.is_big(p_n integer) RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
    IF p_n > 10 THEN
        RETURN true;
    END IF;
    RETURN false;
END
$$;
"""
# Checks far from the boundary: `>` made inclusive (>= 10) goes unnoticed, a negated IF does not. The catalog check
# (as contracts/test_migration_scripts.py does it) passes for every mutant only because the runner regenerates the
# mutant's contract.json: without that, each mutant would be killed by the catalog alone.
TEST = '''
from leadboost_schema.catalog.snapshot import diff, load_contract, snapshot


def test_the_catalog_is_the_contract(leadboost_conn):
    assert diff(load_contract(), snapshot(leadboost_conn, ("iam",))) == []


def test_is_big(leadboost_conn):
    assert leadboost_conn.execute("SELECT iam.is_big(100), iam.is_big(0)").fetchone() == (True, False)
'''


def standin_project(root: Path) -> Path:
    shutil.copytree(STANDIN, root / "schema")
    with (root / "schema" / "001_schema_iam.sql").open("a", encoding="utf-8") as sql:
        sql.write(FUNCTION)
    (root / "contracts").mkdir()
    (root / "contracts" / "test_is_big.py").write_text(TEST, encoding="utf-8")
    (root / "properties").mkdir()
    return root


def test_a_killed_a_surviving_and_an_unviable_mutant(tmp_path, leadboost_server):
    project = standin_project(tmp_path)
    generated = generate(project / "schema", "00[1-7]_*.sql")
    by_change = {(m.before.strip(), m.after.strip()): m for m in generated.mutants}
    inclusive = by_change[("IF p_n > 10 THEN", "IF p_n >= 10 THEN")]
    negated = by_change[("IF p_n > 10 THEN", "IF NOT (p_n > 10) THEN")]
    test_map = build(project, project / "schema", "00[1-7]_*.sql")
    assert test_map.modules_for(negated) == ["contracts/test_is_big.py"]

    config = RunConfig(project, leadboost_server, test_map, timeout=240, jobs=1)
    killed = run_one(config, negated, generated.edits[negated.id])
    survived = run_one(config, inclusive, generated.edits[inclusive.id])
    assert (killed.status, survived.status) == ("killed", "survived"), (killed.detail, survived.detail)
    assert "test_is_big" in killed.detail

    # A mutant that breaks the migration itself (here: a RETURN made into invalid PL/pgSQL at run time).
    broken = type(negated)(negated.id.replace("negate-if", "constant"), negated.file, negated.line, "constant",
                           negated.objects, "broken", negated.before, negated.after)
    text = (project / "schema" / negated.file).read_text(encoding="utf-8")
    at = text.index("CREATE FUNCTION iam.is_big")
    unviable = run_one(config, broken, ((at, at + len("CREATE FUNCTION"), "CREATE FUNCTION iam.nope(); CREATE"),))
    assert unviable.status == "unviable", unviable.detail

    verdicts = judge([killed, survived, unviable], {survived.mutant.key: "reviewed: stand-in"})
    assert [v.verdict for v in verdicts] == ["killed", "equivalent", "unviable"]
    assert scores(judge([killed, survived], {}))["001_schema_iam.sql"]["score"] == 0.5
    assert scores(verdicts)["001_schema_iam.sql"]["score"] == 1.0
    report = json.loads(to_json(verdicts, {"mutants": 3}, {}))
    assert [m["verdict"] for m in report["mutants"]] == ["killed", "equivalent", "unviable"]
    assert "| 001_schema_iam.sql | 1 | 0 | 1 | 1 | 0 | 100% |" in to_markdown(verdicts, {"mutants": 3})


def test_nothing_is_left_on_the_server(tmp_path, leadboost_server):
    """The mutant's templates (named by its schema folder's hash) are gone after its run (other tests may build
    templates of their own on the shared server meanwhile, so only this mutant's names are checked)."""
    import psycopg

    from leadboost_schema.mutation.mutants import apply_edits
    from leadboost_schema.server.our_databases import schema_hash, template_names

    project = standin_project(tmp_path / "project")
    generated = generate(project / "schema", "00[1-7]_*.sql")
    mutant = next(m for m in generated.mutants if m.operator == "constant")
    mutated = shutil.copytree(project / "schema", tmp_path / "mutated")
    (mutated / mutant.file).write_text(apply_edits((mutated / mutant.file).read_text(encoding="utf-8"),
                                                   generated.edits[mutant.id]), encoding="utf-8")
    names = set(template_names(schema_hash(mutated)))
    config = RunConfig(project, leadboost_server, build(project, project / "schema", "00[1-7]_*.sql"), timeout=240)
    outcome = run_one(config, mutant, generated.edits[mutant.id])
    assert outcome.status in ("killed", "survived"), outcome.detail
    with psycopg.connect(leadboost_server.admin_dsn, autocommit=True) as admin:
        left = {row[0] for row in admin.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)",
                                                (sorted(names | {n + "_building" for n in names}),))}
    assert left == set()


def test_a_head_file_mutant_installed_file_by_file_is_still_adopted_as_head(tmp_path, leadboost_server):
    """The runner regenerates the mutant's history.sql (its head fingerprint): the head files of the workspace run
    one by one (the document's option B) are then recognised as head by its master, as the project's own are; a
    stale fingerprint would refuse them (LB904) and kill every mutant of 001-007 for bookkeeping."""
    import psycopg

    from leadboost_schema.databases.clones import fresh_database
    from leadboost_schema.databases.sql_files import apply_sql_file
    from leadboost_schema.mutation.runner import _drop_templates, prepare
    from leadboost_schema.upgrades.regenerate import HEAD_FILES

    project = Path(__file__).resolve().parents[1]
    generated = generate(project / "schema", "007_*.sql", ("constant",))
    mutant = next(m for m in generated.mutants if "CHECK" in m.before)  # a CHECK bound: in the catalog fingerprint
    workspace = tmp_path / "workspace"
    try:
        prepare(leadboost_server, project, workspace, mutant, generated.edits[mutant.id])
        history = (workspace / "schema" / "upgrades" / "history.sql").read_text(encoding="utf-8")
        assert history != (project / "schema" / "upgrades" / "history.sql").read_text(encoding="utf-8")
        with fresh_database(leadboost_server, None) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
            for name in HEAD_FILES:
                conn.execute((workspace / "schema" / name).read_bytes())
            apply_sql_file(conn, workspace / "schema" / "000_master_migration.sql")
            hows = {row[0] for row in conn.execute("SELECT how FROM sys.schema_upgrades")}
        assert hows == {"adopted"}
    finally:
        _drop_templates(leadboost_server, workspace / "schema")


def test_a_survival_extended_by_new_modules_runs_only_those(tmp_path, leadboost_server):
    """A journaled survival re-checked after new test modules appeared runs only the new ones: a kill by one of
    them is a kill; if they pass, it survives with every module to its name. The module it passed before is made
    to fail here, so running it again would show."""
    project = standin_project(tmp_path)
    edge = "def test_ten_is_not_big(leadboost_conn):\n    assert not leadboost_conn.execute('SELECT iam.is_big(10)').fetchone()[0]\n"
    far = "def test_far(leadboost_conn):\n    assert leadboost_conn.execute('SELECT iam.is_big(1000)').fetchone()[0]\n"
    (project / "contracts" / "test_is_big_edge.py").write_text(edge, encoding="utf-8")
    (project / "contracts" / "test_is_big_far.py").write_text(far, encoding="utf-8")
    generated = generate(project / "schema", "00[1-7]_*.sql")
    inclusive = next(m for m in generated.mutants if (m.before.strip(), m.after.strip())
                     == ("IF p_n > 10 THEN", "IF p_n >= 10 THEN"))
    test_map = build(project, project / "schema", "00[1-7]_*.sql")
    old = "contracts/test_is_big.py"
    assert set(test_map.modules_for(inclusive)) == {old, "contracts/test_is_big_edge.py", "contracts/test_is_big_far.py"}
    (project / old).write_text("def test_broken():\n    assert False  # iam.is_big\n", encoding="utf-8")

    def extended(new: str):
        config = RunConfig(project, leadboost_server, test_map, timeout=240, jobs=1,
                           extend={inclusive.key: ((old,), (new,))})
        return run_one(config, inclusive, generated.edits[inclusive.id])

    killed = extended("contracts/test_is_big_edge.py")
    assert killed.status == "killed" and "test_ten_is_not_big" in killed.detail, killed.detail
    survived = extended("contracts/test_is_big_far.py")
    assert survived.status == "survived", survived.detail
    assert "1 module(s) passed in an earlier run" in survived.detail
    assert set(survived.modules) == set(test_map.modules_for(inclusive))
