"""The backfill from a live Firestore, against fake-firestore (an in-memory fake of google-cloud-firestore's
Client, maintained fork of mock-firestore): pagination by document id, the official client's typed values,
resume after an interruption, and the client module imported only when a Firestore source is used."""
from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys

import fake_firestore  # the test extra installs it
import pytest
from google.api_core.datetime_helpers import DatetimeWithNanoseconds
from google.cloud import firestore_v1

from leadboost_schema.backfill.firestore_source import FirestoreCollections
from leadboost_schema.backfill.progress import Progress
from leadboost_schema.backfill.quarantine import read_quarantine
from leadboost_schema.backfill.run import EXIT_QUARANTINED, Options, backfill


class _After:
    """A collection seen from just after one document id (filtered before the query's limit applies)."""

    def __init__(self, collection, after: str) -> None:
        self.collection, self.after = collection, after

    def stream(self, *args, **kwargs):
        return (s for s in self.collection.stream(*args, **kwargs) if s.id > self.after)


@pytest.fixture
def firestore(monkeypatch):
    """A fake client that also understands the two calls paging by document id needs and fake-firestore lacks:
    ``order_by("__name__")`` (its collections already stream in id order) and ``start_after({"__name__": id})``."""
    from fake_firestore.collection import FakeCollectionReference
    from fake_firestore.query import FakeQuery

    collection_order_by, query_order_by = FakeCollectionReference.order_by, FakeQuery.order_by
    query_start_after = FakeQuery.start_after

    def order_by_collection(self, key, direction=None):
        return FakeQuery(self) if key == "__name__" else collection_order_by(self, key, direction)

    def order_by_query(self, key, direction="ASCENDING"):
        return self if key == "__name__" else query_order_by(self, key, direction)

    def start_after(self, cursor):
        if isinstance(cursor, dict) and set(cursor) == {"__name__"}:
            self.parent = _After(self.parent, cursor["__name__"])
            return self
        return query_start_after(self, cursor)

    monkeypatch.setattr(FakeCollectionReference, "order_by", order_by_collection)
    monkeypatch.setattr(FakeQuery, "order_by", order_by_query)
    monkeypatch.setattr(FakeQuery, "start_after", start_after)
    return fake_firestore.FakeFirestoreClient()


def quiet() -> Progress:
    return Progress(io.StringIO(), tty=False)


def populate(client, a: str, b: str) -> int:
    """Two tenants' collections with the official client's typed values; returns how many documents are good."""
    good = 0
    for tenant in (a, b):
        signals = client.collection(f"tenants/{tenant}/raw_signals")
        for i in range(7):
            signals.document(f"{tenant[:8]}-s{i:02d}").set({
                "type": "app.open", "n": i, "ratio": float("nan"),
                "createdAt": DatetimeWithNanoseconds(2024, 5, 1, 12, 0, i, nanosecond=987654321, tzinfo=dt.UTC),
                "where": firestore_v1.GeoPoint(40.0, -3.5), "raw": b"\x00\xff",
                "user": client.collection("users").document(f"u{i}")})
            good += 1
        client.collection(f"tenants/{tenant}/campaigns").document(f"{tenant[:8]}-c1").set(
            {"name": "Launch", "status": "ACTIVE", "budget": 10, "currency": "USD"})
        good += 1
    client.collection(f"tenants/{a}/campaigns").document("zz-c2").set({"name": "", "status": "ACTIVE"})
    client.collection(f"tenants/{a}/campaigns").document("zz-c3").set({"name": "x", "status": "ACTIVE",
                                                                    "createdAt": 12})
    return good


def sources(client, a, b, page_size=3):
    return FirestoreCollections(client, [f"tenants/{a}/raw_signals", f"tenants/{a}/campaigns",
                                         f"tenants/{b}/raw_signals", f"tenants/{b}/campaigns"], page_size)


def test_firestore_collections_load_with_typed_values(firestore, leadboost_conn, leadboost_dsn, make_tenant,
                                                      tmp_path):
    a, b = str(make_tenant(leadboost_conn)), str(make_tenant(leadboost_conn))
    good = populate(firestore, a, b)
    summary = backfill(leadboost_dsn, sources(firestore, a, b), Options(run_id="fs", batch_size=4,
                                                                          quarantine=tmp_path / "q.jsonl"), quiet())
    assert sum(summary.loaded.values()) == good and summary.exit_status == EXIT_QUARANTINED
    reasons = sorted(e["reason"] for e in read_quarantine(tmp_path / "q.jsonl"))
    assert reasons == ["name: length 0 outside 1..200", "source_created_at: expected a timestamp, got int"]
    payload, created = leadboost_conn.execute(
        "SELECT payload, source_created_at FROM migration.raw_signals WHERE tenant_id = %s"
        " ORDER BY (payload ->> 'n')::int LIMIT 1", (a,)).fetchone()
    assert payload["createdAt"] == "2024-05-01T12:00:00.987654Z", "nanoseconds kept to the microsecond"
    assert payload["where"] == {"latitude": 40.0, "longitude": -3.5}
    assert payload["raw"] == "AP8=" and payload["user"] == "users/u0" and payload["ratio"] == "NaN"
    assert created == dt.datetime(2024, 5, 1, 12, 0, 0, 987654, tzinfo=dt.UTC)


class Interrupted(Exception):
    pass


def test_an_interrupted_firestore_run_resumes_by_document_id(firestore, leadboost_conn, leadboost_dsn,
                                                             make_tenant, tmp_path):
    """Interrupted inside the transaction of chunk 3 (rolled back), the run resumes from chunk 2's checkpoint:
    every document once, the quarantine without repeats."""
    a, b = str(make_tenant(leadboost_conn)), str(make_tenant(leadboost_conn))
    good = populate(firestore, a, b)
    options = Options(run_id="fs-resume", batch_size=4, quarantine=tmp_path / "q.jsonl")

    def stop_at_third(step, chunk):
        if step == "before_commit" and chunk == 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        backfill(leadboost_dsn, sources(firestore, a, b), options, quiet(), on_step=stop_at_third)
    assert leadboost_conn.execute("SELECT (SELECT count(*) FROM migration.raw_signals)"
                                  " + (SELECT count(*) FROM migration.campaigns)").fetchone()[0] == 8
    resumed = backfill(leadboost_dsn, sources(firestore, a, b), options, quiet())
    assert resumed.resumed_at == 8
    counts = leadboost_conn.execute(
        "SELECT count(*), count(DISTINCT (tenant_id, firebase_id)) FROM (SELECT tenant_id, firebase_id FROM"
        " migration.raw_signals UNION ALL SELECT tenant_id, firebase_id FROM migration.campaigns) AS r").fetchone()
    assert counts == (good, good)
    assert len(read_quarantine(tmp_path / "q.jsonl")) == 2 == resumed.quarantined_in_run
    assert not resumed.run_batches_wrong


def test_the_client_module_is_imported_only_for_a_firestore_source():
    code = ("import sys; import leadboost_schema.backfill.run, leadboost_schema.backfill.firestore_source;"
            " print(any(m.startswith('google.cloud') for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
