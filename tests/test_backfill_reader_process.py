"""Reading an export in a child process (reader_process.py) loads and quarantines exactly what reading it in a
thread does, a document's data included; the child does not outlive a backfill killed with SIGKILL."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from leadboost_schema.backfill.export_files import JsonLinesFile
from leadboost_schema.backfill.progress import Progress
from leadboost_schema.backfill.quarantine import read_quarantine
from leadboost_schema.backfill.run import Options, backfill

ROOT = Path(__file__).resolve().parent.parent
TARGETS = "migration.raw_signals, migration.campaigns, migration.audit_logs, migration.batch_control"


def quiet() -> Progress:
    import io
    return Progress(io.StringIO(), tty=False)


def export(path: Path, a: str, b: str, count: int) -> Path:
    """Good documents of two tenants with typed values, every 7th bad, every 11th a firebase_id of the other tenant."""
    lines = []
    for n in range(count):
        tenant, name = (a, b)[n % 2], f"d{n}"
        if n % 11 == 10:
            name = f"d{n - 1}"  # the previous document's id, for the other tenant
        data = {"type": "page.view" if n % 7 else 5, "n": n, "note": "ñ\t\\",
                "createdAt": {"__datatype__": "timestamp", "value": {"_seconds": 1_700_000_000 + n, "_nanoseconds": 7}}}
        lines.append(json.dumps({"path": f"tenants/{tenant}/raw_signals/{name}", "data": data}))
    path.write_text("\n".join(lines) + "\n")
    return path


def loaded(conn) -> list[tuple]:
    return conn.execute("SELECT firebase_id, tenant_id, signal_type, payload, source_created_at"
                        " FROM migration.raw_signals ORDER BY firebase_id").fetchall()


@pytest.mark.parametrize("batch_size", [7, 2000])
def test_the_child_process_loads_and_quarantines_as_the_thread_does(leadboost_conn, leadboost_dsn, make_tenant,
                                                                    tmp_path, batch_size):
    a, b = str(make_tenant(leadboost_conn)), str(make_tenant(leadboost_conn))
    path = export(tmp_path / "export.jsonl", a, b, 120)
    results = {}
    for reader in ("process", "thread"):
        leadboost_conn.execute(f"TRUNCATE {TARGETS}")
        quarantine = tmp_path / f"{reader}.q.jsonl"
        summary = backfill(leadboost_dsn, JsonLinesFile(path), Options(run_id=reader, batch_size=batch_size,
                                                                       quarantine=quarantine, reader=reader), quiet())
        assert not summary.run_batches_wrong
        entries = [{k: e[k] for k in ("position", "path", "table", "reason", "document")}
                   for e in read_quarantine(quarantine)]
        results[reader] = (loaded(leadboost_conn), entries, summary.loaded, summary.already_present)
    rows, entries, _, _ = results["process"]
    good_ids = {f"d{n}" for n in range(120) if n % 7 and n % 11 != 10} | {
        f"d{n - 1}" for n in range(120) if n % 7 and n % 11 == 10}
    assert [r[0] for r in rows] == sorted(good_ids)
    assert any("another tenant" in e["reason"] and e["document"]["n"] % 11 == 10 for e in entries)
    assert results["process"] == results["thread"]


def child_of(parent: int) -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if f"\nPPid:\t{parent}\n" in status and b"reader_process" in command:
                return int(entry.name)
    return None


def alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def test_the_child_process_ends_when_the_backfill_is_killed(leadboost_conn, leadboost_dsn, make_tenant, tmp_path):
    """The backfill stops at its first transaction with the child still reading (many small chunks fill the pipe);
    after SIGKILL of the backfill the child's next write fails and it exits."""
    a, b = str(make_tenant(leadboost_conn)), str(make_tenant(leadboost_conn))
    path = export(tmp_path / "export.jsonl", a, b, 3000)
    runner = subprocess.Popen([sys.executable, "-m", "properties.backfill_runner", leadboost_dsn, str(path),
                               str(tmp_path / "q.jsonl"), "killed", "3", "1", "process"], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert runner.stdout.readline().startswith("KILL-POINT")
        child = child_of(runner.pid)
        assert child is not None and alive(child), "the reader process runs beside the stopped backfill"
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=60)
        runner.stdout.close()
    deadline = 600  # polls of 0.1 s: the child exits at its next write, at once unless the machine is very busy
    while alive(child) and deadline:
        subprocess.run(["sleep", "0.1"], check=True)
        deadline -= 1
    assert not alive(child), "the reader process outlived the killed backfill"


def test_a_chunk_sends_its_documents_as_line_lengths_and_reads_them_again(tmp_path):
    """A JSON Lines chunk travels with its documents' line lengths only: read again from the file, each document
    equals the one the reader mapped (blank lines and \\r\\n endings included); once the file has changed, a document
    read again carries an error, never another line's data."""
    import os as _os
    import pickle

    from leadboost_schema.backfill.mapping import load_mapping
    from leadboost_schema.backfill.reader_process import LinesOfFile, pack, unpack
    from leadboost_schema.backfill.reading import chunks

    path = export(tmp_path / "export.jsonl", "6f1f3b1e-0000-4000-8000-000000000001",
                  "6f1f3b1e-0000-4000-8000-000000000002", 40)
    text = path.read_bytes().replace(b"\n", b"\r\n", 3).replace(b"\n", b"\n\n", 5)
    path.write_bytes(text)
    source = JsonLinesFile(path)
    mapping = load_mapping(None, lambda tenant: True)
    sent = list(chunks(source, mapping, None, 9))
    assert sum(len(c.rows) for c in sent) > 20
    for chunk in sent:
        received = unpack(pickle.loads(pickle.dumps(pack(chunk, source))), source)
        assert isinstance(received.documents, LinesOfFile)
        assert received.rows == chunk.rows
        assert dict(received.documents) == dict(chunk.documents)
    stat = path.stat()
    _os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    received = unpack(pack(sent[0], source), source)
    document = received.documents[sent[0].rows[0][0]]
    assert document.data is None and "changed during the run" in document.error
