"""The backfill's throughput from a JSON Lines export, paired round by round with a plain COPY of the same rows
into a bare table, while a dual-writing backend inserts into the same target (its blocked time is recorded).

Documents: LEADBOOST_BACKFILL_DOCS (default 1e5; the issue's figure is 1e6), all raw_signals of 20 tenants.
Run: ``pytest benchmarks/test_backfill_throughput.py -p no:xdist --benchmark-only``."""
from __future__ import annotations

import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from leadboost_schema.backfill.export_files import JsonLinesFile
from leadboost_schema.backfill.loader import TimeOrderedIds
from leadboost_schema.backfill.mapping import load_mapping
from leadboost_schema.backfill.progress import Progress
from leadboost_schema.backfill.run import Options, backfill
from leadboost_schema.databases.clones import fresh_database

pytestmark = pytest.mark.benchmark(group="backfill")

DOCS = int(float(os.environ.get("LEADBOOST_BACKFILL_DOCS", "1e5")))
ROUNDS = int(os.environ.get("LEADBOOST_BACKFILL_ROUNDS", "3"))
READER = os.environ.get("LEADBOOST_BACKFILL_READER", "auto")  # "sql": the SQL path (docs/backfill.md)
# Drop raw_signals' two batch indexes before the rounds (an experiment: what deferring them during phase B gives)
WITHOUT_BATCH_INDEXES = os.environ.get("LEADBOOST_BACKFILL_WITHOUT_BATCH_INDEXES") == "1"
BARE = "bench_bare_raw_signals"
TARGETS = "migration.raw_signals, migration.campaigns, migration.audit_logs, migration.batch_control"


@pytest.fixture(scope="module")
def backfill_setup(leadboost_server, leadboost_template, tmp_path_factory):
    """A database with 20 tenants, the export file, and the COPY text of exactly the rows the backfill writes."""
    folder = tmp_path_factory.mktemp("backfill-bench")
    with fresh_database(leadboost_server, leadboost_template) as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            tenants = [str(uuid.uuid4()) for _ in range(20)]
            for tenant in tenants:
                conn.execute("INSERT INTO iam.tenants (id, name) VALUES (%s, %s)", (tenant, f"t-{tenant[:8]}"))
            conn.execute(f"CREATE TABLE {BARE} (tenant_id uuid, firebase_id text, batch_id uuid, signal_type text,"
                         " payload jsonb, source_created_at timestamptz)")
        export = folder / "export.jsonl"
        with export.open("w") as file:
            for n in range(DOCS):
                file.write(json.dumps({"path": f"tenants/{tenants[n % 20]}/raw_signals/sig-{n:08d}", "data": {
                    "type": "web.visit", "url": f"/products/{n % 977}", "sessionId": f"s{n // 7:07d}",
                    "createdAt": {"__datatype__": "timestamp", "value": {"_seconds": 1_700_000_000 + n,
                                                                         "_nanoseconds": 0}}, "n": n}}) + "\n")
        mapping = load_mapping(None, lambda tenant: True)
        lines = []
        for document in JsonLinesFile(export).documents(None):
            row = mapping.map(document)
            lines.append("\t".join((row.tenant_id, row.firebase_id, row.fields)))
        copy_text = ("\n".join(lines) + "\n").encode()
        # The same rows as the loader writes them (time-ordered ids, one batch): the target table's own floor
        ids = TimeOrderedIds()
        batch, first = f"{ids.take(1):032x}", ids.take(len(lines))
        floor_text = ("\n".join(f"{first + n:032x}\t{batch}\t{line}" for n, line in enumerate(lines)) + "\n").encode()
        shared_ids = folder / "shared_ids.txt"
        shared_ids.write_text("\n".join(f"sig-{n:08d}" for n in range(0, DOCS, max(1, DOCS // 5000))))
        yield dsn, export, copy_text, tenants[0], shared_ids, (floor_text, batch)


def test_backfill_jsonl_vs_plain_copy(benchmark, backfill_setup, tmp_path):
    """Rows per second of `backfill` from JSON Lines (read and mapped in a child process for files of 8 MiB or
    more; transactions of about 50 ms: look-up of the present firebase_ids, batch_control rows with the
    checkpoint, COPY straight into the target) over a plain COPY of the same rows into a bare table (no
    constraint, index or trigger); a dual-writing backend writes into migration.raw_signals the whole time."""
    dsn, export, copy_text, tenant, shared_ids, (floor_text, batch) = backfill_setup
    conn = psycopg.connect(dsn, autocommit=True)
    paired: list[float] = []
    into_target: list[float] = []
    floor: list[float] = []
    latencies: dict[str, list[float]] = {"shared": [], "fresh": []}
    rounds = [0]
    transactions: list[int] = []
    # CPU seconds per round, which the machine's other load disturbs far less than wall time: the plain COPY's
    # backend; the backfill's own process (writer and its threads), its reader process, its backends
    cpu: dict[str, list[float]] = {"plain_copy": [], "writer": [], "reader": [], "server": []}
    if WITHOUT_BATCH_INDEXES:
        conn.execute("DROP INDEX IF EXISTS migration.raw_signals_batch_id_idx,"
                     " migration.raw_signals_tenant_id_batch_id_idx")

    def copy_into(table: str) -> float:
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY {table} (tenant_id, firebase_id, signal_type, payload, source_created_at)"
                                " FROM STDIN") as copy:
            for at in range(0, len(copy_text), 1 << 20):
                copy.write(copy_text[at:at + (1 << 20)])
        return time.perf_counter() - started

    def plain_copy_then_reset() -> None:
        """The paired baseline (COPY into the bare table), then, for the notes, the same COPY straight into
        migration.raw_signals (its indexes and foreign keys: the table's own cost, without the backfill's)."""
        conn.execute(f"TRUNCATE {TARGETS}, {BARE}")
        before = backend_cpu(conn.info.backend_pid)
        paired.append(copy_into(BARE))
        cpu["plain_copy"].append(backend_cpu(conn.info.backend_pid) - before)
        into_target.append(copy_into("migration.raw_signals"))
        conn.execute(f"TRUNCATE {TARGETS}")
        floor.append(copy_as_the_loader())
        conn.execute(f"TRUNCATE {TARGETS}")
        conn.execute("CHECKPOINT")

    def copy_as_the_loader() -> float:
        """The rows as the loader writes them: time-ordered ids, a batch row, foreign-key triggers silenced (as
        superuser) — what the table itself costs, without any mapping."""
        conn.execute("INSERT INTO migration.batch_control (id, firebase_id, tenant_id, collection, status, started_at)"
                     " VALUES (%s, 'bench-floor', %s, 'raw_signals', 'RUNNING', now())", (batch, tenant))
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
            started = time.perf_counter()
            with conn.cursor().copy("COPY migration.raw_signals (id, batch_id, tenant_id, firebase_id, signal_type,"
                                    " payload, source_created_at) FROM STDIN") as copy:
                for at in range(0, len(floor_text), 1 << 20):
                    copy.write(floor_text[at:at + (1 << 20)])
            return time.perf_counter() - started

    def run_backfill() -> None:
        rounds[0] += 1
        out = tmp_path / f"latencies-{rounds[0]}.txt"
        writer = subprocess.Popen([sys.executable, str(Path(__file__).parent / "dual_writer.py"), dsn, tenant,
                                   str(shared_ids), str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        assert writer.stdout.readline().strip() == "connected", "the dual writer could not connect"
        backends: dict[int, list[float]] = {}

        def on_step(step: str, chunk: int) -> None:
            """At each commit, the CPU so far of the backfill's backends (found at the first: no query after)."""
            if step != "committed":
                return
            if not backends:
                for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity"
                                           " WHERE application_name = 'leadboost-backfill'"):
                    backends[pid] = [backend_cpu(pid)] * 2
            for pid, seen in backends.items():
                seen[1] = backend_cpu(pid, seen[1])

        own, children = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            summary = backfill(dsn, JsonLinesFile(export), Options(run_id=f"bench-{rounds[0]}", reader=READER,
                                                                   quarantine=tmp_path / "q.jsonl"),
                               Progress(io.StringIO(), tty=False), on_step=on_step)
            cpu["writer"].append(time.process_time() - own)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the reader process, not yet the dual writer
            cpu["reader"].append(after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime)
            cpu["server"].append(sum(last - first for first, last in backends.values()))
        finally:
            writer.stdin.close()
            writer.wait(timeout=60)
        assert summary.exit_status == 0 and summary.read == DOCS, summary
        transactions.append(summary.transactions)
        for line in out.read_text().splitlines():
            kind, seconds = line.split()
            latencies[kind].append(float(seconds))

    benchmark.pedantic(run_backfill, setup=plain_copy_then_reset, rounds=ROUNDS, warmup_rounds=0)
    conn.close()
    backfill_median = statistics.median(benchmark.stats.stats.data)
    figures = {}
    for kind, values in latencies.items():
        values.sort()
        figures.update({f"dual_writer_{kind}_calls": len(values),
                        f"dual_writer_{kind}_max_ms": round(values[-1] * 1000, 1),
                        f"dual_writer_{kind}_p99_ms": round(values[int(len(values) * 0.99)] * 1000, 2),
                        f"dual_writer_{kind}_over_100ms": sum(x > 0.1 for x in values)})
    benchmark.extra_info.update(
        path=f"backfill_jsonl_{DOCS:.0e}", baseline=f"plain_copy_{DOCS:.0e}", target=0.3, ops_per_round=DOCS,
        clients=1, also=[], paired_baseline_rounds=paired[-ROUNDS:],
        ratio_to_plain_copy=round(statistics.median(paired) / backfill_median, 3),
        copy_into_raw_signals_s=round(statistics.median(into_target), 2),
        ratio_to_copy_into_raw_signals=round(statistics.median(into_target) / backfill_median, 3),
        ratio_copy_into_raw_signals_to_plain_copy=round(statistics.median(paired) / statistics.median(into_target),
                                                        3),
        loader_floor_s=round(statistics.median(floor), 2),
        ratio_loader_floor_to_plain_copy=round(statistics.median(paired) / statistics.median(floor), 3),
        reader=READER, transactions=statistics.median(transactions), **figures, **cpu_figures(cpu))


def backend_cpu(pid: int, otherwise: float = 0.0) -> float:
    """CPU seconds a server process has run (/proc/<pid>/schedstat: the server is local), ``otherwise`` once gone."""
    try:
        with open(f"/proc/{pid}/schedstat") as file:
            return int(file.read().split()[0]) / 1e9
    except OSError:
        return otherwise


def cpu_figures(cpu: dict[str, list[float]]) -> dict[str, float]:
    """Medians in µs per document, and what they bound: the backfill's CPU over the plain COPY's (one core each),
    and on two free cores the ratio it could reach at best — its wall time cannot be below its longest serial part
    (the reader; the writer and its backend, which wait on each other) nor below its CPU shared by two cores."""
    per_doc = {k: statistics.median(v) / DOCS * 1e6 for k, v in cpu.items() if v}
    if len(per_doc) < 4:
        return {}
    total = per_doc["reader"] + per_doc["writer"] + per_doc["server"]
    floor = max(per_doc["reader"], per_doc["writer"] + per_doc["server"], total / 2)
    return {**{f"cpu_us_per_doc_{k}": round(v, 1) for k, v in per_doc.items()},
            "cpu_ratio_to_plain_copy": round(per_doc["plain_copy"] / total, 3),
            "two_core_bound_ratio": round(per_doc["plain_copy"] / floor, 3)}
