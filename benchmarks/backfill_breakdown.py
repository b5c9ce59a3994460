"""Where a backfill document's time goes (issue 16): each stage of `backfill` alone on the benchmark's export, in CPU
per document (which other sessions on the machine disturb far less than wall time), then the whole backfill with
every process's CPU. Prints the figures; asserts only that the stages saw every document.

Run explicitly (not a test_ file: it measures, it does not check):
``PYTHONPATH=src pytest benchmarks/backfill_breakdown.py -p no:xdist -s``
LEADBOOST_BACKFILL_DOCS (default 1e5); LEADBOOST_BACKFILL_WITHOUT_BATCH_INDEXES=1 drops raw_signals' two batch
indexes for the writer and the whole run (built again before the run's validation, timed: without them it counts
each batch's rows by a sequential scan); LEADBOOST_BACKFILL_PERF=FILE records the writer's backend with
``perf record -g`` while the writer runs alone."""
from __future__ import annotations

import io
import json
import os
import pickle
import resource
import subprocess
import time
import uuid

import psycopg

import leadboost_schema.backfill.run as run_module
from leadboost_schema.backfill.export_files import JsonLinesFile
from leadboost_schema.backfill.loader import ChunkWriter
from leadboost_schema.backfill.mapping import MappedRow, load_mapping
from leadboost_schema.backfill.progress import Progress
from leadboost_schema.backfill.reader_process import pack, unpack
from leadboost_schema.backfill.reading import chunks
from leadboost_schema.backfill.run import Options, TransactionSizer, backfill, transactions
from leadboost_schema.databases.clones import fresh_database

DOCS = int(float(os.environ.get("LEADBOOST_BACKFILL_DOCS", "1e5")))
WITHOUT_BATCH_INDEXES = os.environ.get("LEADBOOST_BACKFILL_WITHOUT_BATCH_INDEXES") == "1"
PERF = os.environ.get("LEADBOOST_BACKFILL_PERF")
BATCH_INDEXES = {"raw_signals_batch_id_idx": "(batch_id)", "raw_signals_tenant_id_batch_id_idx": "(tenant_id, batch_id)"}
TARGETS = "migration.raw_signals, migration.campaigns, migration.audit_logs, migration.batch_control"


def schedstat(pid: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds waiting for one) of a local process."""
    with open(f"/proc/{pid}/schedstat") as file:
        ran, waited = file.read().split()[:2]
    return int(ran) / 1e9, int(waited) / 1e9


def us(seconds: float) -> str:
    return f"{seconds / DOCS * 1e6:.2f} µs"


def drop_batch_indexes(conn: psycopg.Connection) -> None:
    conn.execute("DROP INDEX IF EXISTS " + ", ".join(f"migration.{name}" for name in BATCH_INDEXES))


def build_batch_indexes(conn: psycopg.Connection) -> None:
    for name, columns in BATCH_INDEXES.items():
        conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON migration.raw_signals {columns}")


def test_breakdown(leadboost_server, leadboost_template, tmp_path, monkeypatch):
    with fresh_database(leadboost_server, leadboost_template) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        print(f"\n{conn.execute('SELECT version()').fetchone()[0]}; {DOCS} documents; load average"
              f" {open('/proc/loadavg').read().split()[:3]}")
        tenants = [str(uuid.uuid4()) for _ in range(20)]
        for tenant in tenants:
            conn.execute("INSERT INTO iam.tenants (id, name) VALUES (%s, %s)", (tenant, f"t-{tenant[:8]}"))
        conn.execute("CREATE TABLE bench_bare (tenant_id uuid, firebase_id text, signal_type text, payload jsonb,"
                     " source_created_at timestamptz)")
        export = tmp_path / "export.jsonl"
        with export.open("w") as file:  # the documents of benchmarks/test_backfill_throughput.py
            for n in range(DOCS):
                file.write(json.dumps({"path": f"tenants/{tenants[n % 20]}/raw_signals/sig-{n:08d}", "data": {
                    "type": "web.visit", "url": f"/products/{n % 977}", "sessionId": f"s{n // 7:07d}",
                    "createdAt": {"__datatype__": "timestamp", "value": {"_seconds": 1_700_000_000 + n,
                                                                         "_nanoseconds": 0}}, "n": n}}) + "\n")
        source, mapping = JsonLinesFile(export), load_mapping(None, lambda tenant: True)

        # The reader's stages (as the reader process runs them), and the writer process's unpickling
        started = time.process_time()
        documents = list(source.documents(None))
        read = time.process_time() - started
        started = time.process_time()
        rows = [mapping.map(document) for document in documents]
        mapped = time.process_time() - started
        assert len(rows) == DOCS and all(isinstance(row, MappedRow) for row in rows)
        del documents
        started = time.process_time()
        packed = [pickle.dumps(("chunk", pack(chunk, source)), protocol=5) for chunk in chunks(source, mapping, None, 2000)]
        chunked = time.process_time() - started
        started = time.process_time()
        for blob in packed:
            unpack(pickle.loads(blob)[1], source)
        unpacked = time.process_time() - started
        print(f"reader: read and parse {us(read)}, map {us(mapped)}; the two with chunking, packing and pickling"
              f" {us(chunked)} ({sum(map(len, packed)) / DOCS:.0f} bytes); writer process: unpickle {us(unpacked)}")

        # The baseline: a plain COPY of the same rows into a bare table
        copy_text = ("\n".join("\t".join((r.tenant_id, r.firebase_id, r.fields)) for r in rows) + "\n").encode()
        pid = conn.info.backend_pid
        for _ in range(2):
            conn.execute("TRUNCATE bench_bare")
            cpu, wall = schedstat(pid)[0], time.perf_counter()
            with conn.cursor().copy("COPY bench_bare FROM STDIN") as copy:
                for at in range(0, len(copy_text), 1 << 20):
                    copy.write(copy_text[at:at + (1 << 20)])
            print(f"plain COPY: wall {us(time.perf_counter() - wall)}, its backend's CPU {us(schedstat(pid)[0] - cpu)}")

        # The writer alone on the mapped chunks (nothing else running)
        if WITHOUT_BATCH_INDEXES:
            drop_batch_indexes(conn)
        with psycopg.connect(dsn, autocommit=True) as wconn:
            writer = ChunkWriter(wconn, "breakdown", mapping.tables)
            sizer, wpid, count = TransactionSizer(2000, 0.05), wconn.info.backend_pid, 0
            perf = subprocess.Popen(["perf", "record", "-g", "-p", str(wpid), "-o", PERF], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL) if PERF else None
            (ran, waited), own, wall = schedstat(wpid), time.process_time(), time.perf_counter()
            for blob in packed:
                chunk = unpack(pickle.loads(blob)[1], source)
                for part, checkpoint in transactions(chunk, sizer):
                    writer.write(count + 1, part, checkpoint)
                    sizer.observe(len(part), writer.hold_seconds)
                    count += 1
            wall, own = time.perf_counter() - wall, time.process_time() - own
            ran, waited = (after - before for after, before in zip(schedstat(wpid), (ran, waited), strict=True))
            if perf:
                perf.send_signal(2)
                perf.wait()
            print(f"writer alone: {count} transactions, wall {us(wall)}; its Python {us(own)}, its backend's CPU"
                  f" {us(ran)} (and {us(waited)} waiting for a core)")
            started = time.perf_counter()
            if WITHOUT_BATCH_INDEXES:
                build_batch_indexes(wconn)
            built = time.perf_counter()
            wconn.execute("ANALYZE migration.batch_control, migration.raw_signals, migration.campaigns,"
                          " migration.audit_logs")
            analyzed = time.perf_counter()
            wconn.execute("SELECT * FROM migration.validate_migrated_data()").fetchall()
            print(f"end of a run: batch indexes built {built - started:.2f} s, ANALYZE {analyzed - built:.2f} s,"
                  f" validate_migrated_data() {time.perf_counter() - analyzed:.2f} s")

        # The whole backfill (the reader process), every process's CPU
        validate = run_module.validate

        def validate_with_batch_indexes(c: psycopg.Connection) -> list:
            started = time.perf_counter()
            build_batch_indexes(c)
            print(f"(batch indexes built again before validating: {time.perf_counter() - started:.2f} s)")
            return validate(c)

        if WITHOUT_BATCH_INDEXES:
            monkeypatch.setattr(run_module, "validate", validate_with_batch_indexes)
        for attempt in range(2):
            conn.execute(f"TRUNCATE {TARGETS}")
            if WITHOUT_BATCH_INDEXES:
                drop_batch_indexes(conn)
            backends: dict[int, list[float]] = {}
            commits: list[float] = []

            def on_step(step: str, chunk: int, backends: dict = backends, commits: list = commits) -> None:
                if step != "committed":
                    return
                commits.append(time.perf_counter())
                if not backends:
                    for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity"
                                               " WHERE application_name = 'leadboost-backfill'"):
                        backends[pid] = [schedstat(pid)[0]] * 2
                for pid, seen in backends.items():
                    try:
                        seen[1] = schedstat(pid)[0]
                    except OSError:  # the reader process's connection closes when it has read the file
                        pass

            children, own, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.process_time(), time.perf_counter()
            summary = backfill(dsn, source, Options(run_id=f"breakdown-{attempt}", reader="process",
                                                    quarantine=tmp_path / "q.jsonl"),
                               Progress(io.StringIO(), tty=False), on_step=on_step)
            done, own = time.perf_counter(), time.process_time() - own
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            assert summary.read == DOCS and summary.exit_status == 0, summary
            reader = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
            print(f"backfill: wall {us(done - wall)} ({summary.transactions} transactions; first commit after"
                  f" {commits[0] - wall:.2f} s, {done - commits[-1]:.2f} s after the last); CPU: reader process"
                  f" {us(reader)}, writer process {us(own)}, its backends"
                  f" {us(sum(last - first for first, last in backends.values()))}")
