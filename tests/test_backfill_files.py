"""The backfill from export files, end to end: JSON Lines and the nested export JSON into migration.*, typed values,
tenants from the path or a field, the quarantine, the exit status, idempotent re-runs, resume, off-peak pacing."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest

from leadboost_schema.backfill.export_files import JsonLinesFile, NestedExportFile, open_export
from leadboost_schema.backfill.pacing import Pacer, Window
from leadboost_schema.backfill.progress import Progress
from leadboost_schema.backfill.quarantine import read_quarantine
from leadboost_schema.backfill.run import EXIT_OK, EXIT_QUARANTINED, Options, backfill
from leadboost_schema.testing.data_fingerprint import data_fingerprint


def ts(seconds: int, nanos: int = 0) -> dict:
    return {"__datatype__": "timestamp", "value": {"_seconds": seconds, "_nanoseconds": nanos}}


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.fixture
def two_tenants(leadboost_conn, make_tenant):
    return str(make_tenant(leadboost_conn)), str(make_tenant(leadboost_conn))


def quiet() -> Progress:
    import io
    return Progress(io.StringIO(), tty=False)


def test_jsonl_loads_every_table_with_typed_values(leadboost_conn, leadboost_dsn, two_tenants, tmp_path):
    a, b = two_tenants
    path = write_jsonl(tmp_path / "export.jsonl", [
        {"path": f"tenants/{a}/raw_signals/s1", "data": {
            "type": "Web.Visit", "createdAt": ts(1_700_000_000, 123_456_789),
            "where": {"__datatype__": "geopoint", "value": {"_latitude": 40.4, "_longitude": -3.7}},
            "by": {"__datatype__": "documentReference", "value": "users/u1"}, "big": 2**70,
            "ratio": float("-inf")}},
        {"path": "campaigns/c1", "data": {"tenant_id": b, "name": "Spring", "status": "active",
                                          "budget": 1250.5, "currency": "eur", "owner": "ana"}},
        {"path": f"tenants/{b}/audit_logs/l1", "data": {"actor": "u1", "action": "login",
                                                        "timestamp": ts(1_600_000_000), "ip": "10.0.0.1"}},
    ])
    summary = backfill(leadboost_dsn, JsonLinesFile(path), Options(quarantine=tmp_path / "q.jsonl"), quiet())
    assert summary.exit_status == EXIT_OK, summary
    assert dict(summary.loaded) == {"raw_signals": 1, "campaigns": 1, "audit_logs": 1}

    signal = leadboost_conn.execute("SELECT tenant_id::text, signal_type, payload, source_created_at, batch_id"
                                    " FROM migration.raw_signals WHERE firebase_id = 's1'").fetchone()
    assert signal[0] == a and signal[1] == "web.visit"
    assert signal[2]["createdAt"] == "2023-11-14T22:13:20.123456Z"
    assert signal[2]["where"] == {"latitude": 40.4, "longitude": -3.7}
    assert signal[2]["by"] == "users/u1" and signal[2]["big"] == 2**70, "integers beyond 64 bits kept exactly"
    assert signal[2]["ratio"] == "-Infinity"
    assert signal[3] == dt.datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=dt.UTC)
    campaign = leadboost_conn.execute("SELECT tenant_id::text, name, status, budget::text, currency, payload"
                                      " FROM migration.campaigns WHERE firebase_id = 'c1'").fetchone()
    assert campaign[:5] == (b, "Spring", "ACTIVE", "1250.5000", "EUR")
    assert campaign[5] == {"tenant_id": b, "owner": "ana"}, "payload keeps the fields no column took"
    log = leadboost_conn.execute("SELECT actor, action, details, occurred_at FROM migration.audit_logs").fetchone()
    assert log[:3] == ("u1", "login", {"ip": "10.0.0.1"})
    assert log[3] == dt.datetime(2020, 9, 13, 12, 26, 40, tzinfo=dt.UTC)

    batches = leadboost_conn.execute("SELECT collection, tenant_id::text, status, processed_count"
                                     " FROM migration.batch_control ORDER BY collection").fetchall()
    assert batches == [("audit_logs", b, "COMPLETED", 1), ("campaigns", b, "COMPLETED", 1),
                       ("raw_signals", a, "COMPLETED", 1)]
    assert all(row["status"] == "OK" for row in summary.validation), summary.validation


BAD = [
    ("no tenant", {"path": "raw_signals/x1", "data": {"type": "a"}}, "no tenant"),
    ("unknown tenant", {"path": f"tenants/{uuid.uuid4()}/raw_signals/x2", "data": {"type": "a"}}, "unknown tenant"),
    ("tenant not a uuid", {"path": "tenants/acme/raw_signals/x3", "data": {"type": "a"}}, "is not a uuid"),
    ("missing field", {"path": "tenants/{a}/campaigns/x4", "data": {"status": "DRAFT"}}, "name: missing"),
    ("wrong type", {"path": "tenants/{a}/campaigns/x5", "data": {"name": 7, "status": "DRAFT"}},
     "name: expected a string"),
    ("bad enum", {"path": "tenants/{a}/campaigns/x6", "data": {"name": "n", "status": "LIVE"}}, "status:"),
    ("budget without currency", {"path": "tenants/{a}/campaigns/x7",
                                 "data": {"name": "n", "status": "DRAFT", "budget": 3}}, "currency is missing"),
    ("NUL", {"path": "tenants/{a}/raw_signals/x8", "data": {"type": "a", "note": "a\u0000b"}}, "NUL"),
    ("no mapping", {"path": "tenants/{a}/orders/x9", "data": {}}, "no table is mapped"),
    ("odd path", {"path": "tenants/{a}/raw_signals", "data": {"type": "a"}}, "malformed document path"),
    ("oversized", {"path": "tenants/{a}/raw_signals/x10", "data": {"type": "a", "blob": "x" * (1 << 20)}},
     "oversized"),
    ("audit without time", {"path": "tenants/{a}/audit_logs/x11", "data": {"actor": "u", "action": "a"}},
     "occurred_at: missing"),
    ("bad timestamp", {"path": "tenants/{a}/raw_signals/x12", "data": {"type": "a", "createdAt": "yesterday"}},
     "not an ISO 8601 timestamp"),
]


def test_bad_documents_go_to_the_quarantine_with_their_reason(leadboost_conn, leadboost_dsn, two_tenants,
                                                              tmp_path):
    a, _ = two_tenants
    records = [json.loads(json.dumps(r).replace("{a}", a)) for _, r, _ in BAD]
    lines = [json.dumps(r) for r in records] + ["{not json", '["a list"]']
    good = {"path": f"tenants/{a}/raw_signals/ok", "data": {"type": "fine"}}
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join([json.dumps(good), *lines]) + "\n")
    summary = backfill(leadboost_dsn, JsonLinesFile(path), Options(quarantine=tmp_path / "q.jsonl"), quiet())

    assert summary.exit_status == EXIT_QUARANTINED
    assert summary.quarantined == summary.quarantined_in_run == len(BAD) + 2
    entries = {e["position"]: e for e in read_quarantine(tmp_path / "q.jsonl")}
    for position, (name, _, reason) in enumerate(BAD, start=1):
        assert reason in entries[position]["reason"], (name, entries[position]["reason"])
    assert "not JSON" in entries[len(BAD) + 1]["reason"] and entries[len(BAD) + 1]["document"] == "{not json"
    assert "not a {" in entries[len(BAD) + 2]["reason"]
    assert leadboost_conn.execute("SELECT array_agg(firebase_id) FROM migration.raw_signals").fetchone()[0] == ["ok"]


def test_a_rerun_changes_nothing_and_a_second_run_resumes(leadboost_conn, leadboost_dsn, two_tenants, tmp_path):
    a, b = two_tenants
    records = [{"path": f"tenants/{(a, b)[i % 2]}/raw_signals/doc{i}", "data": {"type": "t", "n": i}}
               for i in range(50)]
    path = write_jsonl(tmp_path / "export.jsonl", records)
    options = Options(quarantine=tmp_path / "q.jsonl", batch_size=7)
    first = backfill(leadboost_dsn, JsonLinesFile(path), options, quiet())
    assert first.loaded["raw_signals"] == 50 and first.chunks == 8
    before = data_fingerprint(leadboost_conn)

    again = backfill(leadboost_dsn, JsonLinesFile(path), options, quiet())
    assert again.resumed_at == 50 and again.read == 0, "the same run resumes after its last checkpoint"
    assert data_fingerprint(leadboost_conn) == before

    other_run = backfill(leadboost_dsn, JsonLinesFile(path), Options(run_id="another", batch_size=7,
                                                                   quarantine=tmp_path / "q2.jsonl"), quiet())
    assert other_run.read == 50 and sum(other_run.loaded.values()) == 0 and other_run.already_present == 50
    assert leadboost_conn.execute("SELECT count(*) FROM migration.raw_signals").fetchone()[0] == 50
    assert other_run.exit_status == EXIT_OK


def test_same_firebase_id_for_two_tenants_is_quarantined_not_dropped(leadboost_conn, leadboost_dsn, two_tenants,
                                                                     tmp_path):
    a, b = two_tenants
    path = write_jsonl(tmp_path / "export.jsonl", [
        {"path": f"tenants/{a}/raw_signals/same", "data": {"type": "t"}},
        {"path": f"tenants/{b}/raw_signals/same", "data": {"type": "t"}},
        {"path": f"tenants/{a}/raw_signals/same", "data": {"type": "t"}},
    ])
    summary = backfill(leadboost_dsn, JsonLinesFile(path), Options(quarantine=tmp_path / "q.jsonl"), quiet())
    assert summary.loaded["raw_signals"] == 1 and summary.already_present == 1
    [entry] = read_quarantine(tmp_path / "q.jsonl")
    assert entry["position"] == 1 and "another tenant" in entry["reason"]


def test_nested_export_walks_subcollections(leadboost_conn, leadboost_dsn, two_tenants, tmp_path):
    a, b = two_tenants
    export = {"__collections__": {"tenants": {
        a: {"name": "A", "__collections__": {
            "campaigns": {"c1": {"name": "One", "status": "DRAFT", "createdAt": {"_seconds": 5, "_nanoseconds": 0}}},
            "audit_logs": {"l1": {"actor": "x", "action": "y", "timestamp": ts(10)}}}},
        b: {"__collections__": {"raw_signals": {"s1": {"type": "ping", "raw": {"__datatype__": "bytes",
                                                                               "value": "AAE="}}}}}}}}
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    source = open_export(path)
    assert isinstance(source, NestedExportFile)
    summary = backfill(leadboost_dsn, source, Options(quarantine=tmp_path / "q.jsonl"), quiet())
    # the tenant documents themselves belong to no mapped table: quarantined with that reason, not dropped
    reasons = [e["reason"] for e in read_quarantine(tmp_path / "q.jsonl")]
    assert reasons == ["no table is mapped for collection 'tenants'"] * 2
    assert dict(summary.loaded) == {"campaigns": 1, "audit_logs": 1, "raw_signals": 1}
    created = leadboost_conn.execute("SELECT source_created_at FROM migration.campaigns").fetchone()[0]
    assert created == dt.datetime(1970, 1, 1, 0, 0, 5, tzinfo=dt.UTC)


def test_pacer_waits_for_the_window_and_keeps_the_rate():
    clock = [0.0]
    moment = [dt.datetime(2026, 1, 1, 21, 0, tzinfo=dt.UTC)]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds
        moment[0] += dt.timedelta(seconds=seconds)

    pacer = Pacer(Window.parse("22:00-06:00"), 100.0, now=lambda: moment[0], sleep=sleep, clock=lambda: clock[0])
    pacer.wait_for_window()
    assert moment[0].hour == 22 and moment[0].minute == 0, "paused until the window opened"
    assert sum(slept) == 3600
    slept.clear()
    pacer.done(500)
    assert slept == [5.0], "500 rows at 100 rows/s take 5 s"
    moment[0] = dt.datetime(2026, 1, 2, 6, 0, tzinfo=dt.UTC)
    slept.clear()
    pacer.done(0)
    assert sum(slept) == 16 * 3600, "closed at 06:00 (end exclusive) until 22:00"
    assert Window.parse("22:00-06:00").contains(dt.datetime(2026, 1, 1, 5, 59, tzinfo=dt.UTC))
    with pytest.raises(ValueError):
        Window.parse("10:00-10:00")


def test_short_transactions_split_a_chunk_and_resume_inside_it(leadboost_conn, leadboost_dsn, two_tenants,
                                                               tmp_path):
    """With a tiny transaction budget, after the first (40 rows) chunks are written in transactions of 5, each with
    its batch rows and checkpoint; interrupted inside the 3rd transaction of the 2nd chunk, the run resumes from
    the 2nd transaction's checkpoint, not from the chunk's start, and loads every document once."""
    a, b = two_tenants
    records = [{"path": f"tenants/{(a, b)[i % 2]}/raw_signals/d{i}", "data": {"type": "t"}} for i in range(100)]
    records[47] = {"path": f"tenants/{a}/raw_signals/bad", "data": {}}
    path = write_jsonl(tmp_path / "export.jsonl", records)
    options = Options(run_id="short", batch_size=40, max_transaction_ms=0.001, quarantine=tmp_path / "q.jsonl",
                      reader="thread")  # chunks split into transactions: the Python path's (test_backfill_sql_path)
    seen = []

    def stop(step, chunk):
        seen.append((step, chunk))
        if step == "before_commit" and len([s for s in seen if s[0] == "before_commit"]) == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        backfill(leadboost_dsn, JsonLinesFile(path), options, quiet(), on_step=stop)
    # chunk 1: one transaction of 40; chunk 2: positions 40-44, then 45, 46, 48, 49, 50 (47 is bad), then stop
    assert leadboost_conn.execute("SELECT count(*) FROM migration.raw_signals").fetchone()[0] == 50
    resumed = backfill(leadboost_dsn, JsonLinesFile(path), options, quiet())
    assert resumed.resumed_at == 51 and resumed.transactions > resumed.chunks
    assert leadboost_conn.execute("SELECT count(*), count(DISTINCT firebase_id) FROM migration.raw_signals"
                                  ).fetchone() == (99, 99)
    assert [e["position"] for e in read_quarantine(tmp_path / "q.jsonl")] == [47]
    assert not resumed.run_batches_wrong
