"""The backfill killed (a real SIGKILL of its process) at generated points and resumed: every document loaded once or
quarantined once with its reason, whatever the interruptions; a finished run re-run changes nothing.

LEADBOOST_BACKFILL_KILLS=N makes every example kill the run N times (default: 1 to 3 kills per example)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from leadboost_schema.backfill.quarantine import read_quarantine
from leadboost_schema.backfill.run import validate, wrong_batches
from leadboost_schema.databases.clones import fresh_database
from leadboost_schema.testing.data_fingerprint import data_fingerprint
from properties.hypothesis_settings import PROPERTY

KILLS = int(os.environ.get("LEADBOOST_BACKFILL_KILLS", "0"))
BATCH_SIZE = 12  # documents per chunk, written in transactions of 5 (TransactionSizer.MIN_ROWS)
ROOT = Path(__file__).resolve().parent.parent
STEPS_PER_TRANSACTION = 4  # quarantined (once a chunk), loaded, before_commit, committed

# Document ids, hostile ones included: COPY's own escapes, quotes, non-ASCII, a long one; an id over 1500 characters
# and one with NUL are bad documents of their own.
IDS = st.sampled_from(["a", "b", "c", "tab\there", "new\nline", "back\\slash", "quote'\"", "ñandú-😀", "x" * 1500])
SAFE_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | SAFE_TEXT,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(SAFE_TEXT, inner, max_size=3),
                           max_leaves=8)


@dataclass(frozen=True)
class Record:
    """One line of the export: its text, and what must become of it (``reason`` None = a good document)."""

    line: str
    table: str | None = None
    tenant: int | None = None
    firebase_id: str | None = None
    reason: str | None = None


def good(table: str, tenant: int, firebase_id: str, extra: dict) -> st.SearchStrategy[Record]:
    data = {"raw_signals": {"type": "page.view"}, "campaigns": {"name": "N", "status": "draft"},
            "audit_logs": {"actor": "u", "action": "edit", "timestamp": "2024-01-01T00:00:00Z"}}[table]
    return st.just(Record(json.dumps({"path": f"tenants/{{T{tenant}}}/{table}/{firebase_id}",
                                      "data": {**extra, **data}}), table, tenant, firebase_id))


@st.composite
def records(draw) -> Record:
    kind = draw(st.sampled_from(["good"] * 6 + ["missing", "wrong_type", "unknown_tenant", "nul", "surrogate",
                                                "not_json", "long_id", "bad_path"]))
    table = draw(st.sampled_from(["raw_signals", "raw_signals", "campaigns", "audit_logs"]))
    # ids drawn mostly from two, so repeats and cross-tenant collisions are common
    tenant, firebase_id = draw(st.integers(0, 1)), draw(st.sampled_from(["a", "b"]) | IDS)
    if kind == "good":
        return draw(good(table, tenant, firebase_id, draw(st.dictionaries(SAFE_TEXT, JSON_VALUES, max_size=3))))
    path = f"tenants/{{T{tenant}}}/raw_signals/{firebase_id}"
    bad = {
        "missing": ({"path": path, "data": {"other": 1}}, "signal_type: missing"),
        "wrong_type": ({"path": path, "data": {"type": 5}}, "signal_type: expected a string"),
        "unknown_tenant": ({"path": f"tenants/{uuid.uuid4()}/raw_signals/{firebase_id}", "data": {"type": "a"}},
                           "unknown tenant"),
        "nul": ({"path": path, "data": {"type": "a", "note": "a\x00b"}}, "NUL"),
        "surrogate": ({"path": path, "data": {"type": "a", "note": "\ud800"}}, "surrogate"),
        "long_id": ({"path": f"tenants/{{T{tenant}}}/raw_signals/{'y' * 1501}", "data": {"type": "a"}},
                    "document id of 1501"),
        "bad_path": ({"path": f"tenants/{{T{tenant}}}/raw_signals", "data": {"type": "a"}}, "malformed"),
    }
    if kind == "not_json":
        return Record('{"path": "raw_signals/x", "data": ', reason="not JSON")
    document, reason = bad[kind]
    return Record(json.dumps(document), reason=reason)


def expected(lines: list[Record], tenants: list[str]) -> tuple[dict, dict[int, str]]:
    """The model: the first good document of each (table, firebase_id) is loaded; a later one of the same tenant is
    already there; of another tenant it is quarantined; bad documents are quarantined with their reason."""
    rows: dict[tuple[str, str], str] = {}
    quarantined: dict[int, str] = {}
    for position, record in enumerate(lines):
        if record.reason:
            quarantined[position] = record.reason
            continue
        key, tenant = (record.table, record.firebase_id), tenants[record.tenant]
        if key not in rows:
            rows[key] = tenant
        elif rows[key] != tenant:
            quarantined[position] = "already loaded for another tenant"
    return rows, quarantined


def run_until(dsn: str, export: Path, quarantine: Path, kill_at: int, reader: str = "auto") -> str:
    """Run the backfill in a subprocess (reading with ``reader``); SIGKILL it at its ``kill_at``-th step. Returns
    how it ended."""
    with (export.parent / "stderr.txt").open("ab") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "properties.backfill_runner", dsn, str(export),
                                    str(quarantine), "prop", str(BATCH_SIZE), str(kill_at), reader], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)
        line = process.stdout.readline()
        if line.startswith("KILL-POINT"):
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=120)
        process.stdout.close()
    return line.strip() or f"exit {process.returncode}"


@pytest.mark.parametrize("reader", ["sql", "thread", "process"])
@settings(PROPERTY, deadline=None, max_examples=int(os.environ.get("LEADBOOST_BACKFILL_EXAMPLES", "10")))
@given(lines=st.lists(records(), min_size=3, max_size=30),
       kills=st.lists(st.integers(0, 4 * STEPS_PER_TRANSACTION - 1), min_size=KILLS or 1, max_size=KILLS or 3))
def test_killed_and_resumed_backfill_loads_each_document_once(leadboost_server, leadboost_template, lines, kills,
                                                              tmp_path_factory, reader):
    """Invariant: for any export (good documents, repeated and colliding ids, hostile bytes, bad documents) and any
    points where the run is SIGKILLed and started again (each attempt dies within its first four transactions,
    at a step of one: after the quarantine write, after the load, just before or just after COMMIT), the final state is the model's: each (table, firebase_id)
    loaded once, by its first good document's tenant (rows = distinct firebase_ids, 0 duplicates); every bad
    document in the quarantine exactly once, with its reason; the run's batches COMPLETED with counts that match;
    and running the finished run again changes nothing. The same whether the export is read in a thread or in a
    child process (reader_process.py)."""
    folder = tmp_path_factory.mktemp("backfill")
    with fresh_database(leadboost_server, leadboost_template) as dsn:
        import psycopg
        with psycopg.connect(dsn, autocommit=True) as conn:
            tenants = [str(uuid.uuid4()) for _ in range(2)]
            for tenant in tenants:
                conn.execute("INSERT INTO iam.tenants (id, name) VALUES (%s, %s)", (tenant, f"t-{tenant[:8]}"))
            export, quarantine = folder / "export.jsonl", folder / "quarantine.jsonl"
            text = "".join(r.line.replace("{T0}", tenants[0]).replace("{T1}", tenants[1]) + "\n" for r in lines)
            export.write_text(text, encoding="utf-8", errors="surrogatepass")
            endings = [run_until(dsn, export, quarantine, kill_at, reader) for kill_at in kills]
            final = run_until(dsn, export, quarantine, -1, reader)
            event(f"killed {sum(e.startswith('KILL') for e in endings)} of {len(endings)} times")
            assert final.startswith("DONE"), (final, endings)

            rows, bad = expected(lines, tenants)
            stored = {}
            for table in ("raw_signals", "campaigns", "audit_logs"):
                found = conn.execute(f"SELECT firebase_id, tenant_id::text FROM migration.{table}").fetchall()
                assert len(found) == len({f for f, _ in found}), f"duplicates in {table}"
                stored.update({(table, f): t for f, t in found})
            assert stored == rows, endings
            entries = read_quarantine(quarantine)
            positions = [e["position"] for e in entries]
            assert sorted(positions) == sorted(bad) and len(set(positions)) == len(positions), (positions, endings)
            for entry in entries:
                assert bad[entry["position"]] in entry["reason"], entry
            assert final == f"DONE {8 if bad else 0}"
            assert wrong_batches(conn, "prop") == []
            assert all(check["status"] != "FAIL" for check in validate(conn))

            before = data_fingerprint(conn)
            assert run_until(dsn, export, quarantine, -1, reader) == final
            assert data_fingerprint(conn) == before
            assert len(read_quarantine(quarantine)) == len(entries)
