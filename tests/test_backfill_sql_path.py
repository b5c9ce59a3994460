"""The SQL path for JSON Lines (line_writer.py, sql_mapping.py) ends where the Python path does: the same rows (every
column but the ids and load times), the same quarantine (position and reason), whatever the documents; it maps most
documents itself; a firebase_id dual-written during its transaction is "already present"; it resumes inside a file
from its last transaction's checkpoint."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadboost_schema.backfill.export_files import JsonLinesFile
from leadboost_schema.backfill.progress import Progress
from leadboost_schema.backfill.quarantine import read_quarantine
from leadboost_schema.backfill.run import Options, Summary, backfill
from leadboost_schema.databases.clones import fresh_database

TENANTS = ["0b5f3c1e-8f0a-4c39-9a51-6a3d3c6e2f10", "7d2a9b44-31c6-4e8e-b0f2-5c1d9e8a7b21"]
UNKNOWN = "5e0c2d7a-aaaa-4bbb-8ccc-111111111111"
COLUMNS = {"raw_signals": "tenant_id, firebase_id, signal_type, payload, source_created_at",
           "campaigns": "tenant_id, firebase_id, name, status, budget, currency, payload, source_created_at",
           "audit_logs": "tenant_id, firebase_id, actor, action, entity_type, entity_id, details, occurred_at"}


def quiet() -> Progress:
    return Progress(io.StringIO(), tty=False)


def tagged(seconds: object, nanos: object = 0) -> dict:
    return {"__datatype__": "timestamp", "value": {"_seconds": seconds, "_nanoseconds": nanos}}


def load(server, template, lines: list[str], reader: str, folder: Path) -> tuple[dict, list, Summary]:
    """``lines`` loaded by ``reader`` into a fresh database with the two tenants: (rows per table, quarantine as
    (position, reason), the summary)."""
    export = folder / f"{reader}.jsonl"
    export.write_bytes("".join(lines).encode("utf-8", "surrogatepass"))
    with fresh_database(server, template) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        for tenant in TENANTS:
            conn.execute("INSERT INTO iam.tenants (id, name) VALUES (%s, %s)", (tenant, f"t-{tenant[:8]}"))
        summary = backfill(dsn, JsonLinesFile(export), Options(run_id=reader, reader=reader,
                                                                quarantine=folder / f"{reader}.q.jsonl"), quiet())
        rows = {table: sorted(map(repr, conn.execute(f"SELECT {columns} FROM migration.{table}").fetchall()))
                for table, columns in COLUMNS.items()}
    quarantine = sorted((e["position"], e["reason"]) for e in read_quarantine(folder / f"{reader}.q.jsonl"))
    return rows, quarantine, summary


def corpus() -> list[str]:
    """One line each of the forms the SQL takes and of those it leaves to Python."""
    t0, t1 = TENANTS
    records = [
        {"path": f"tenants/{t0}/raw_signals/s1", "data": {"type": "Web.Visit", "createdAt": tagged(1_700_000_000, 5)}},
        {"path": f"tenants/{t0}/raw_signals/s2", "data": {"type": "a", "at": {"_seconds": 1, "_nanoseconds": 2}}},
        {"path": f"tenants/{t1}/rawSignals/s3", "data": {"signalType": "b", "nested": {"t": tagged(5)}}},
        {"path": "signals/s4", "data": {"type": "c", "tenantId": t1.upper(), "f": 1.50, "big": 2**70}},
        {"path": "signals/s5", "data": {"type": "c", "tenant_id": t1, "created_at": "2024-05-01T12:00:00+02:00"}},
        {"path": f"tenants/{t0}/raw_signals/s6", "data": {"type": "c", "createdAt": "2024-05-01 12:00:00Z"}},
        {"path": f"tenants/{t0}/raw_signals/s7", "data": {"type": "ünï", "note": "tab\there\\ \"q\" ñ"}},
        {"path": f"tenants/{t0}/raw_signals/s8", "data": {"type": "c", "createdAt": tagged(1.5)}},
        {"path": f"tenants/{t0}/raw_signals/s9", "data": {"type": "c", "createdAt": tagged(10**13)}},
        {"path": f"tenants/{UNKNOWN}/raw_signals/s10", "data": {"type": "c"}},
        {"path": f"tenants/{t0}/raw_signals/s1", "data": {"type": "again"}},
        {"path": f"tenants/{t1}/raw_signals/s1", "data": {"type": "other.tenant"}},
        {"path": f"tenants/{t0}/campaigns/c1", "data": {"name": "N", "status": "draft", "budget": 10.25,
                                                       "currency": "eur", "createdAt": tagged(0)}},
        {"path": f"tenants/{t0}/campaigns/c2", "data": {"name": "N", "status": "draft", "budget": 10}},
        {"path": f"tenants/{t0}/campaigns/c3", "data": {"name": "", "status": "ACTIVE"}},
        {"path": f"tenants/{t0}/campaigns/c4", "data": {"name": "x", "status": "Paused", "budget": "12"}},
        {"path": f"tenants/{t1}/audit_logs/a1", "data": {"userId": "u", "action": "edit", "entityType": "lead",
                                                        "timestamp": tagged(1_600_000_000, 999_999_999)}},
        {"path": f"tenants/{t1}/audit/a2", "data": {"actor": "u", "action": "edit"}},
        {"path": f"tenants/{t1}/audit/a3", "data": {"actor": "u", "action": "x", "occurredAt": "2024-13-01T00:00:00Z"}},
        {"path": f"tenants/{t0}/unknown/u1", "data": {"type": "c"}},
        {"path": f"tenants/{t0}/raw_signals", "data": {"type": "c"}},
        {"path": f"tenants/{t0}/raw_signals/s11", "data": [1]},
    ]
    lines = [json.dumps(r, ensure_ascii=n % 2 == 0) + ("\r\n" if n == 3 else "\n") for n, r in enumerate(records)]
    return [*lines, "\n", "  \n", '{"path": "signals/x", "data": {"type": "a\\u0000b"}}\n']


def test_the_sql_path_makes_the_python_paths_rows_and_quarantine(leadboost_server, leadboost_template, tmp_path):
    """Both paths on one corpus (typed values at and below the top level, tenants from the path and from fields,
    canonical or not, escapes, CRLF, bad documents of every kind): equal rows and quarantine. The SQL itself maps
    the plain documents; one line jsonb refuses (\\u0000) sends its whole transaction the Python way."""
    by_sql = load(leadboost_server, leadboost_template, corpus(), "sql", tmp_path)
    by_python = load(leadboost_server, leadboost_template, corpus(), "thread", tmp_path)
    assert by_sql[:2] == by_python[:2]
    assert by_sql[2].blocks_by_python == 1


def test_the_sql_path_maps_the_plain_documents_itself(leadboost_server, leadboost_template, tmp_path):
    """Without the line jsonb refuses, no transaction goes the Python way, and Python maps only what the SQL
    leaves: three good documents (a typed value below the top level, an upper-case tenant, a timestamp with a
    space) and the bad ones (all quarantined but the other tenant's s1, which the SQL refuses after its insert)."""
    lines = corpus()[:-1]
    rows, quarantine, summary = load(leadboost_server, leadboost_template, lines, "sql", tmp_path)
    assert summary.blocks_by_python == 0
    assert summary.left_to_python == 3 + len(quarantine) - 1, (summary, quarantine)
    assert (rows, quarantine) == load(leadboost_server, leadboost_template, lines, "thread", tmp_path)[:2]


def test_a_firebase_id_dual_written_during_the_transaction_is_already_present(leadboost_conn, leadboost_dsn,
                                                                              make_tenant, tmp_path):
    """The backend inserts d3 after the lines are mapped, before the rows are: INSERT … ON CONFLICT keeps the
    backend's row and counts d3 as already present; the batch counts what was inserted."""
    tenant = str(make_tenant(leadboost_conn))
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps({"path": f"tenants/{tenant}/raw_signals/d{i}", "data": {"type": "page.view"}})
                            + "\n" for i in range(10)))

    def dual_write(step, chunk):
        if step == "quarantined":
            with psycopg.connect(leadboost_dsn, autocommit=True) as backend:
                backend.execute("INSERT INTO migration.raw_signals (tenant_id, firebase_id, signal_type)"
                                " VALUES (%s, 'd3', 'dual.write') ON CONFLICT (firebase_id) DO NOTHING", (tenant,))

    summary = backfill(leadboost_dsn, JsonLinesFile(path), Options(quarantine=tmp_path / "q.jsonl", reader="sql"),
                       quiet(), on_step=dual_write)
    assert summary.loaded["raw_signals"] == 9 and summary.already_present == 1 and not summary.run_batches_wrong
    assert summary.blocks_by_python == 0
    assert leadboost_conn.execute("SELECT signal_type, batch_id FROM migration.raw_signals WHERE firebase_id = 'd3'"
                                  ).fetchall() == [("dual.write", None)]


def test_the_sql_path_resumes_after_its_last_committed_transaction(leadboost_conn, leadboost_dsn, make_tenant,
                                                                   tmp_path):
    """Interrupted just before its 3rd COMMIT (transactions of 40 lines, then fewer as the sizer follows the tiny
    budget), the run resumes from the 2nd transaction's checkpoint — the documents it holds, one of them bad, are
    not read again — and loads every document once."""
    tenant = str(make_tenant(leadboost_conn))
    records = [{"path": f"tenants/{tenant}/raw_signals/d{i}", "data": {"type": "t"}} for i in range(100)]
    records[7] = {"path": f"tenants/{tenant}/raw_signals/bad", "data": {}}
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    options = Options(run_id="resume", batch_size=40, max_transaction_ms=0.001, quarantine=tmp_path / "q.jsonl",
                      reader="sql")
    commits = []

    def stop(step, chunk):
        commits.append(step)
        if commits.count("before_commit") == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backfill(leadboost_dsn, JsonLinesFile(path), options, quiet(), on_step=stop)
    loaded = leadboost_conn.execute("SELECT count(*) FROM migration.raw_signals").fetchone()[0]
    resumed = backfill(leadboost_dsn, JsonLinesFile(path), options, quiet())
    assert 40 < resumed.resumed_at < 100 and resumed.resumed_at == loaded + 1  # + the bad one
    assert resumed.read == 100 - resumed.resumed_at
    assert leadboost_conn.execute("SELECT count(*), count(DISTINCT firebase_id) FROM migration.raw_signals"
                                  ).fetchone() == (99, 99)
    assert [e["position"] for e in read_quarantine(tmp_path / "q.jsonl")] == [7]
    assert not resumed.run_batches_wrong


# -- the property ---------------------------------------------------------------------------------------------------
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8)
TIMESTAMPS = st.one_of(st.builds(tagged, st.integers(-10**12, 10**12), st.integers(0, 10**9 - 1)),
                       st.builds(tagged, st.sampled_from([1.5, "1", -62135596801, 253402300800]), st.just(0)),
                       st.builds(tagged, st.integers(0, 10**10), st.sampled_from([-1, 10**9, 0.5])),
                       st.builds(lambda s, n: {"_seconds": s, "_nanoseconds": n}, st.integers(-5, 5), st.integers(0, 9)),
                       st.sampled_from(["2024-05-01T12:00:00Z", "2024-05-01T12:00:00.5+05:30", "2024-02-30T00:00:00Z",
                                        "2024-05-01", "0000-01-01T00:00:00Z", "2024-05-01T24:00:00Z",
                                        "2024-05-01T12:00:00.1234567Z", "2024-05-01 12:00:00Z", "2024-05-01T12:00:00"]))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False,
                                                                                    allow_infinity=False), TEXT)
EXTRA = st.recursive(st.one_of(SCALARS, TIMESTAMPS), lambda inner: st.lists(inner, max_size=2)
                     | st.dictionaries(TEXT, inner, max_size=2), max_leaves=5)
MAYBE = st.none()  # a field left out


def field(*values) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(values), MAYBE)


TABLE_FIELDS = {
    "raw_signals": {"type": field("web.visit", "Web.Visit", "é", 5, None, "A" * 101, "a b"),
                    "createdAt": st.one_of(TIMESTAMPS, MAYBE)},
    "campaigns": {"name": field("N", "", "x" * 201, 5), "status": field("draft", "ACTIVE", "Paused", "nope", "ß"),
                  "budget": field(10, 10.25, -1, "12", 10**16, 1e-7, True), "currency": field("eur", "EURO", "usd", 1),
                  "created_at": st.one_of(TIMESTAMPS, MAYBE)},
    "audit_logs": {"actor": field("u", "", 7), "userId": field("v"), "action": field("edit", "x" * 101),
                   "entity_type": field("lead", ""), "occurredAt": st.one_of(TIMESTAMPS, MAYBE),
                   "timestamp": st.one_of(TIMESTAMPS, MAYBE)},
}
COLLECTION = {"raw_signals": ["raw_signals", "signals"], "campaigns": ["campaigns"], "audit_logs": ["audit_logs", "audit"]}


@st.composite
def documents(draw) -> str:
    """A document of a table, its fields drawn around the mapping's checks (valid or just outside), with extra
    fields holding any JSON, typed values included; its tenant from the path or a field, known or not."""
    table = draw(st.sampled_from(sorted(TABLE_FIELDS)))
    data = {name: value for name, value in ((n, draw(s)) for n, s in TABLE_FIELDS[table].items()) if value is not None}
    data.update(draw(st.dictionaries(st.sampled_from(["x", "deep", "_seconds", "__datatype__", "ñ"]), EXTRA,
                                     max_size=2)))
    where = draw(st.sampled_from(["path"] * 4 + ["field", "upper", "unknown", "none"]))
    tenant = draw(st.sampled_from(TENANTS))
    if where == "field":
        data["tenantId"] = tenant
    elif where == "upper":
        data["tenant_id"] = tenant.upper()
    collection = draw(st.sampled_from([*COLLECTION[table], "other"] if draw(st.booleans()) else COLLECTION[table]))
    firebase_id = draw(st.sampled_from(["a", "b", "ñ", "x" * 1500]))
    path = {"path": f"tenants/{tenant}/{collection}/{firebase_id}",
            "unknown": f"tenants/{UNKNOWN}/{collection}/{firebase_id}"}.get(where, f"{collection}/{firebase_id}")
    return json.dumps({"path": path, "data": data}, ensure_ascii=draw(st.booleans())) + "\n"


@settings(max_examples=int(os.environ.get("LEADBOOST_BACKFILL_EXAMPLES", "15")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(documents(), min_size=1, max_size=25))
def test_both_paths_agree_on_generated_documents(leadboost_server, leadboost_template, tmp_path_factory, lines):
    """Invariant: for any JSON Lines export (fields valid or just outside the mapping's checks, typed values valid
    or not at any depth, timestamp texts either path might read differently, tenants from the path or fields, known
    or not, repeated firebase_ids, texts of any script), the SQL path loads the same rows and quarantines the same
    documents, with the same reasons, as the Python path."""
    folder = tmp_path_factory.mktemp("paths")
    by_sql = load(leadboost_server, leadboost_template, lines, "sql", folder)
    by_python = load(leadboost_server, leadboost_template, lines, "thread", folder)
    assert by_sql[:2] == by_python[:2]
