"""Mutant generation on small SQL snippets: each operator produces the expected text, only where the schema's logic
is (never in a comment, a string, a type modifier or a function header), every mutant it yields parses, and ids
are stable when lines above a mutant move."""
from __future__ import annotations

from pathlib import Path

import pytest

from leadboost_schema.mutation.mutants import apply_edits, generate, parses

FUNCTION = """CREATE OR REPLACE FUNCTION stock.pick(p_n integer, p_now timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k stock.items%ROWTYPE;
BEGIN
    -- 5 > 4 in a comment is not code
    IF p_n > 5 THEN
        RAISE EXCEPTION USING ERRCODE = 'LB202', MESSAGE = 'p_n > 5';
    END IF;
    SELECT * INTO k FROM stock.items AS i
     WHERE i.n = p_n AND i.state = 'OPEN' AND i.at <= p_now
     ORDER BY i.id
       FOR UPDATE;
    RETURN k.n;
END
$$;
"""
TABLE = """CREATE TABLE IF NOT EXISTS stock.items (
    id integer NOT NULL,
    n numeric(19, 4),
    state text NOT NULL,
    at timestamptz,
    CONSTRAINT items_state_check CHECK (state IN ('OPEN', 'HALF_OPEN', 'CLOSED')),
    CONSTRAINT items_n_check CHECK (n >= 0 AND n < 100)
);
ALTER TABLE stock.items ENABLE ALWAYS TRIGGER items_guard;
CREATE POLICY tenant_isolation ON stock.items
    USING (id = 1)
    WITH CHECK (id = 1);
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA stock FROM PUBLIC;
GRANT SELECT ON stock.items TO leadboost_app;
GRANT EXECUTE ON FUNCTION stock.pick(integer, timestamptz) TO leadboost_app;
"""


@pytest.fixture
def schema(tmp_path: Path) -> Path:
    (tmp_path / "001_items.sql").write_text(TABLE, encoding="utf-8")
    (tmp_path / "002_pick.sql").write_text(FUNCTION, encoding="utf-8")
    return tmp_path


def mutated_lines(schema: Path, operator: str) -> list[tuple[str, str]]:
    generated = generate(schema, "0*.sql", (operator,))
    return [(m.before.strip(), m.after.strip()) for m in generated.mutants]


def test_comparisons_are_made_inclusive_or_exclusive_and_equalities_flipped(schema):
    found = mutated_lines(schema, "comparison")
    assert ("IF p_n > 5 THEN", "IF p_n >= 5 THEN") in found
    assert ("WHERE i.n = p_n AND i.state = 'OPEN' AND i.at <= p_now",
            "WHERE i.n <> p_n AND i.state = 'OPEN' AND i.at <= p_now") in found
    assert ("WHERE i.n = p_n AND i.state = 'OPEN' AND i.at <= p_now",
            "WHERE i.n = p_n AND i.state = 'OPEN' AND i.at < p_now") in found
    assert ("CONSTRAINT items_n_check CHECK (n >= 0 AND n < 100)",
            "CONSTRAINT items_n_check CHECK (n > 0 AND n < 100)") in found
    # not the comment, not the message string, not the header's SET search_path = ..., not RAISE USING ERRCODE =
    assert all("-- 5" not in before and "search_path" not in before and "ERRCODE" not in before
               for before, _ in found)


def test_constants_move_by_one_but_type_modifiers_do_not(schema):
    found = mutated_lines(schema, "constant")
    assert ("IF p_n > 5 THEN", "IF p_n > 6 THEN") in found and ("IF p_n > 5 THEN", "IF p_n > 4 THEN") in found
    assert ("CONSTRAINT items_n_check CHECK (n >= 0 AND n < 100)",
            "CONSTRAINT items_n_check CHECK (n >= -1 AND n < 100)") in found
    assert not any("numeric(" in before for before, _ in found)


def test_a_conjunct_is_dropped(schema):
    found = mutated_lines(schema, "conjunct")
    line = "WHERE i.n = p_n AND i.state = 'OPEN' AND i.at <= p_now"
    assert (line, "WHERE i.n = p_n AND i.at <= p_now") in found
    assert (line, "WHERE i.n = p_n AND i.state = 'OPEN'") in found
    assert (line, "WHERE i.state = 'OPEN' AND i.at <= p_now") in found
    assert ("CONSTRAINT items_n_check CHECK (n >= 0 AND n < 100)", "CONSTRAINT items_n_check CHECK (n >= 0)") in found


def test_the_lock_raise_if_and_order_operators(schema):
    assert mutated_lines(schema, "lock") == [("FOR UPDATE;", ";")]
    assert mutated_lines(schema, "raise") == [
        ("RAISE EXCEPTION USING ERRCODE = 'LB202', MESSAGE = 'p_n > 5';", "")]
    assert mutated_lines(schema, "negate-if") == [("IF p_n > 5 THEN", "IF NOT (p_n > 5) THEN")]
    assert mutated_lines(schema, "order") == [("ORDER BY i.id", "ORDER BY i.id DESC")]


def test_status_literals_become_their_neighbours_in_the_check_list(schema):
    found = mutated_lines(schema, "status-literal")
    line = "WHERE i.n = p_n AND i.state = 'OPEN' AND i.at <= p_now"
    assert sorted(after for before, after in found if before == line) == [
        line.replace("'OPEN'", "'CLOSED'"), line.replace("'OPEN'", "'HALF_OPEN'")]
    assert not any("CHECK" in before for before, _ in found)  # the list itself is not mutated


def test_trigger_policy_and_grant_operators(schema):
    assert mutated_lines(schema, "enable-always") == [
        ("ALTER TABLE stock.items ENABLE ALWAYS TRIGGER items_guard;", "ALTER TABLE stock.items ENABLE TRIGGER items_guard;")]
    assert mutated_lines(schema, "with-check") == []  # WITH CHECK repeats USING: see the test below
    assert sorted(mutated_lines(schema, "grant")) == sorted([
        ("REVOKE ALL ON ALL FUNCTIONS IN SCHEMA stock FROM PUBLIC;", ""),
        ("GRANT SELECT ON stock.items TO leadboost_app;", "GRANT ALL ON stock.items TO leadboost_app;"),
        ("GRANT EXECUTE ON FUNCTION stock.pick(integer, timestamptz) TO leadboost_app;",
         "GRANT EXECUTE ON FUNCTION stock.pick(integer, timestamptz) TO PUBLIC;")])


def test_with_check_is_dropped_only_where_it_differs_from_using(tmp_path):
    """Without WITH CHECK, PostgreSQL checks new rows with USING: dropping a check that repeats USING (whatever its
    spacing, case or comments) changes nothing, so it is no mutant; a check that says more (or a policy with no
    USING, FOR INSERT) is one."""
    (tmp_path / "001_policies.sql").write_text("""CREATE TABLE IF NOT EXISTS stock.items (id integer NOT NULL);
CREATE POLICY same ON stock.items
    USING (id = (SELECT 1))
    WITH CHECK ( ID = (select 1) /* the same */ );
CREATE POLICY stricter ON stock.items
    USING (id = 1)
    WITH CHECK (id = 1 AND id > 0);
CREATE POLICY inserts ON stock.items FOR INSERT
    WITH CHECK (id = 1);
CREATE POLICY quoted ON stock.items
    USING (id::text = 'a')
    WITH CHECK (id::text = 'A');
""", encoding="utf-8")
    assert sorted(mutated_lines(tmp_path, "with-check")) == [
        ("WITH CHECK (id = 1 AND id > 0);", ";"), ("WITH CHECK (id = 1);", ";"), ("WITH CHECK (id::text = 'A');", ";")]


def test_every_mutant_parses_and_changes_its_file(schema):
    generated = generate(schema, "0*.sql")
    assert len(generated.mutants) > 30
    for mutant in generated.mutants:
        text = (schema / mutant.file).read_text(encoding="utf-8")
        changed = apply_edits(text, generated.edits[mutant.id])
        assert changed != text
        assert parses(changed), mutant.id


def test_unparsable_candidates_are_discarded():
    # `=` of an UPDATE's SET list flipped to `<>` would not parse: the generator drops it, and counts it
    assert not parses("UPDATE t SET a <> 1")
    assert not parses("CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN IF 1 > > 1 THEN END IF; END $$;")
    assert parses("CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN IF 1 >= 1 THEN END IF; END $$;")


def test_ids_are_unique_and_keys_survive_lines_moving(schema):
    first = generate(schema, "0*.sql")
    assert len({m.id for m in first.mutants}) == len(first.mutants)
    (schema / "002_pick.sql").write_text("-- a new first line\n" + FUNCTION, encoding="utf-8")
    moved = generate(schema, "0*.sql")
    assert [m.key for m in moved.mutants] == [m.key for m in first.mutants]
    assert [m.line for m in moved.mutants if m.file == "002_pick.sql"] == [
        m.line + 1 for m in first.mutants if m.file == "002_pick.sql"]


def test_the_real_schema_yields_mutants_of_every_operator():
    from leadboost_schema.mutation.operators import OPERATORS
    from leadboost_schema.paths import schema_dir

    generated = generate(schema_dir())
    # with-check may yield none: every policy of 001-007 today repeats its USING as WITH CHECK (tested above).
    assert {m.operator for m in generated.mutants} >= set(OPERATORS) - {"with-check"}
