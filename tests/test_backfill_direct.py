"""The backfill's direct way (COPY straight into the target after a look-up, loader.py) ends where the staged
INSERT … ON CONFLICT would: a firebase_id the dual-writing backend inserts after the look-up is "already present",
a tenant deleted after the mapping saw it gets its documents quarantined (the foreign key the loader checks itself
still holds), a trigger on a target is never silenced, and the row ids grow in the UUID version 7 layout."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg
import pytest

from leadboost_schema.backfill.export_files import JsonLinesFile
from leadboost_schema.backfill.loader import (
    ChunkWriter,
    TimeOrderedIds,
    loader_may_check_foreign_keys,
    present_ids_query,
)
from leadboost_schema.backfill.progress import Progress
from leadboost_schema.backfill.quarantine import read_quarantine
from leadboost_schema.backfill.run import EXIT_OK, Options, backfill


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def quiet() -> Progress:
    import io
    return Progress(io.StringIO(), tty=False)


def signals(tenant: str, names: list[str]) -> list[dict]:
    return [{"path": f"tenants/{tenant}/raw_signals/{name}", "data": {"type": "page.view"}} for name in names]


def test_a_firebase_id_dual_written_after_the_lookup_is_already_present(leadboost_conn, leadboost_dsn, make_tenant,
                                                                        tmp_path, monkeypatch):
    """The backend inserts d3 between the look-up and the COPY: the COPY's unique violation sends the transaction
    the staged way, which keeps the backend's row and counts d3 as already present."""
    tenant = str(make_tenant(leadboost_conn))
    path = write_jsonl(tmp_path / "export.jsonl", signals(tenant, [f"d{i}" for i in range(10)]))
    settle = ChunkWriter._settle

    def settle_while_the_backend_writes(table, rows, owners, outcome):
        with psycopg.connect(leadboost_dsn, autocommit=True) as backend:
            backend.execute("INSERT INTO migration.raw_signals (tenant_id, firebase_id, signal_type)"
                            " VALUES (%s, 'd3', 'dual.write') ON CONFLICT (firebase_id) DO NOTHING", (tenant,))
        return settle(table, rows, owners, outcome)

    monkeypatch.setattr(ChunkWriter, "_settle", staticmethod(settle_while_the_backend_writes))
    summary = backfill(leadboost_dsn, JsonLinesFile(path), Options(quarantine=tmp_path / "q.jsonl", reader="thread"),
                       quiet())
    assert summary.exit_status == EXIT_OK and not summary.run_batches_wrong
    assert summary.loaded["raw_signals"] == 9 and summary.already_present == 1
    assert leadboost_conn.execute("SELECT signal_type, batch_id FROM migration.raw_signals WHERE firebase_id = 'd3'"
                                  ).fetchall() == [("dual.write", None)]
    assert leadboost_conn.execute("SELECT count(*) FROM migration.raw_signals").fetchone()[0] == 10


def test_a_tenant_deleted_after_the_mapping_gets_its_documents_quarantined(leadboost_conn, leadboost_dsn,
                                                                           make_tenant, tmp_path):
    """The mapping saw both tenants; one is deleted before the chunk is written. Whether the loader or the
    foreign-key triggers check the key, no row may point at the missing tenant: its documents are quarantined
    with PostgreSQL's reason, the other tenant's are loaded."""
    kept, gone = str(make_tenant(leadboost_conn)), str(make_tenant(leadboost_conn))
    path = write_jsonl(tmp_path / "export.jsonl", signals(kept, ["k1", "k2"]) + signals(gone, ["g1", "g2"]))

    def delete_the_tenant(step, chunk):
        if step == "quarantined" and chunk == 1:
            leadboost_conn.execute("DELETE FROM iam.tenants WHERE id = %s", (gone,))

    summary = backfill(leadboost_dsn, JsonLinesFile(path), Options(quarantine=tmp_path / "q.jsonl"), quiet(),
                       on_step=delete_the_tenant)
    assert summary.loaded["raw_signals"] == 2 and not summary.run_batches_wrong
    assert leadboost_conn.execute("SELECT count(*) FROM migration.raw_signals AS r WHERE NOT EXISTS"
                                  " (SELECT FROM iam.tenants AS t WHERE t.id = r.tenant_id)").fetchone()[0] == 0
    assert leadboost_conn.execute("SELECT count(*) FROM migration.batch_control AS b WHERE NOT EXISTS"
                                  " (SELECT FROM iam.tenants AS t WHERE t.id = b.tenant_id)").fetchone()[0] == 0
    quarantined = read_quarantine(tmp_path / "q.jsonl")
    assert sorted(e["path"].rsplit("/", 1)[1] for e in quarantined) == ["g1", "g2"]
    assert all("[23503]" in e["reason"] for e in quarantined), quarantined


def test_a_trigger_on_a_target_is_never_silenced(leadboost_conn, leadboost_dsn, make_tenant, tmp_path):
    """A trigger of its own on migration.raw_signals (not a foreign key's) keeps the foreign-key triggers on too:
    the run loads through the triggers and the trigger fires for every row."""
    assert loader_may_check_foreign_keys(leadboost_conn), "the test database is reached as a superuser"
    tenant = str(make_tenant(leadboost_conn))
    leadboost_conn.execute("CREATE TABLE public.fired (firebase_id text)")
    leadboost_conn.execute("CREATE FUNCTION public.note_row() RETURNS trigger LANGUAGE plpgsql AS"
                           " $$BEGIN INSERT INTO public.fired VALUES (NEW.firebase_id); RETURN NEW; END$$")
    leadboost_conn.execute("CREATE TRIGGER note_row AFTER INSERT ON migration.raw_signals"
                           " FOR EACH ROW EXECUTE FUNCTION public.note_row()")
    assert not loader_may_check_foreign_keys(leadboost_conn)
    path = write_jsonl(tmp_path / "export.jsonl", signals(tenant, [f"d{i}" for i in range(7)]))
    summary = backfill(leadboost_dsn, JsonLinesFile(path), Options(quarantine=tmp_path / "q.jsonl"), quiet())
    assert summary.loaded["raw_signals"] == 7
    assert leadboost_conn.execute("SELECT count(*) FROM public.fired").fetchone()[0] == 7


@pytest.mark.parametrize("reader", ["sql", "thread"])
def test_a_foreign_key_the_loader_does_not_check_is_never_silenced(leadboost_conn, leadboost_dsn, make_tenant,
                                                                  tmp_path, reader):
    """The loader checks three foreign keys itself (loader.SILENCED_TRIGGERS); one more on a target — or one of
    those three on another column — keeps every trigger on, and a row that breaks it is refused by PostgreSQL."""
    assert loader_may_check_foreign_keys(leadboost_conn)
    tenant = str(make_tenant(leadboost_conn))
    leadboost_conn.execute("ALTER TABLE migration.raw_signals ADD COLUMN owner uuid REFERENCES iam.tenants (id)")
    assert not loader_may_check_foreign_keys(leadboost_conn)
    leadboost_conn.execute("ALTER TABLE migration.raw_signals DROP COLUMN owner")
    assert loader_may_check_foreign_keys(leadboost_conn)
    leadboost_conn.execute("ALTER TABLE migration.raw_signals ADD COLUMN origin text")
    leadboost_conn.execute("CREATE TABLE public.origins (name text PRIMARY KEY)")
    leadboost_conn.execute("ALTER TABLE migration.raw_signals ADD FOREIGN KEY (origin) REFERENCES public.origins")
    assert not loader_may_check_foreign_keys(leadboost_conn)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[tables.raw_signals.columns]\nsignal_type = { field = "type", type = "text", required = true }\n'
                       'origin = { field = "origin", type = "text" }\n')
    path = write_jsonl(tmp_path / "export.jsonl", [
        {"path": f"tenants/{tenant}/raw_signals/ok", "data": {"type": "page.view"}},
        {"path": f"tenants/{tenant}/raw_signals/bad", "data": {"type": "page.view", "origin": "nowhere"}}])
    summary = backfill(leadboost_dsn, JsonLinesFile(path), Options(quarantine=tmp_path / "q.jsonl", mapping=mapping,
                                                                   reader=reader), quiet())
    assert summary.loaded["raw_signals"] == 1
    assert [e["reason"][:30] for e in read_quarantine(tmp_path / "q.jsonl")] == ["refused by PostgreSQL [23503] "]


def test_row_ids_grow_in_the_uuid_v7_layout():
    """Consecutive ids are consecutive integers; each reads as a version 7, RFC 4122 variant uuid whose first 48
    bits are the milliseconds of its making."""
    ids = TimeOrderedIds()
    first, second = ids.take(1000), ids.take(5)
    assert second == first + 1000
    for value in (first, first + 999, second + 4):
        made = uuid.UUID(int=value)
        assert made.version == 7 and made.variant == uuid.RFC_4122
    assert uuid.UUID(int=TimeOrderedIds().take(1)).int >> 80 >= first >> 80


def test_the_look_up_of_present_ids_reads_the_firebase_id_index_in_a_generic_plan(leadboost_conn, make_tenant):
    """The look-up runs prepared (psycopg prepares a statement run often), so the server may plan it once for any
    ids: that generic plan must still read the unique firebase_id index, never the whole table (at 10^6 rows a
    sequential scan per transaction would cost more than the load); and it finds exactly the ids that are there."""
    tenant = str(make_tenant(leadboost_conn))
    leadboost_conn.execute("INSERT INTO migration.raw_signals (tenant_id, firebase_id, signal_type, payload)"
                           " SELECT %s, 'f' || n, 'page.view', '{}' FROM generate_series(1, 5000) AS n", (tenant,))
    leadboost_conn.execute("ANALYZE migration.raw_signals")
    query = present_ids_query("raw_signals").as_string(leadboost_conn).replace("%s", "$1")
    leadboost_conn.execute("SET plan_cache_mode = force_generic_plan")
    leadboost_conn.execute(f"PREPARE present (text) AS {query}")
    plan = "\n".join(r for (r,) in leadboost_conn.execute("EXPLAIN EXECUTE present('f1/f2/x/f4999')"))
    assert "raw_signals_firebase_id_key" in plan and "Seq Scan" not in plan, plan
    found = leadboost_conn.execute("EXECUTE present('f1/f2/x/f4999')").fetchall()
    assert sorted(found) == [("f1", tenant), ("f2", tenant), ("f4999", tenant)]
