"""Cost of folding a stream whose every event adds one large key (issue 17.5): time and the backend's peak memory
of events.replay_stream at 16, 32, 64, 128 events, on the schema folder given (compare two folders in one run).

    PYTHONPATH=$PWD/src python benchmarks/fold_cost.py schema/ /tmp/release-1.0.0/schema [--value-bytes 200000]

A measurement, not a test: it prints the median of three calls per length (each in a fresh session, so the peak
resident memory, VmHWM of the backend, is that call's) and the ratio to the previous length (2.0 = linear,
4.0 = quadratic). Reading /proc/<pid>/status needs the server on this machine (the local backend).
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import psycopg

from leadboost_schema import Settings, ensure_template, fresh_database, start_server
from leadboost_schema.testing.factories import make_tenant


def peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise LookupError("VmHWM")


def measure(dsn: str, tenant, stream: str) -> tuple[float, int, str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        pid = conn.info.backend_pid
        started = time.perf_counter()
        try:
            conn.execute("SELECT version FROM events.replay_stream(%s, %s)", (tenant, stream)).fetchall()
            outcome = "ok"
        except psycopg.Error as error:
            outcome = error.sqlstate or "error"
        return time.perf_counter() - started, peak_kib(pid), outcome


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("schemas", nargs="+", type=Path)
    parser.add_argument("--value-bytes", type=int, default=200_000)
    parser.add_argument("--lengths", default="16,32,64,128")
    args = parser.parse_args()
    lengths = [int(n) for n in args.lengths.split(",")]
    settings = Settings.resolve()
    with start_server(settings) as server:
        print(f"server {server.version}, one key of {args.value_bytes} bytes per event")
        for schema in args.schemas:
            with fresh_database(server, ensure_template(server, schema.resolve())) as dsn:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    tenant = make_tenant(conn)
                    for n in lengths:
                        conn.execute("SELECT events.append_event(%s, %s, 'BENCH', 'Grown',"
                                     " jsonb_build_object('k' || v, repeat(md5(v::text), %s / 32)), v - 1)"
                                     " FROM generate_series(1, %s) AS v", (tenant, f"s{n}", args.value_bytes, n))
                previous = None
                for n in lengths:
                    runs = [measure(dsn, tenant, f"s{n}") for _ in range(3)]
                    seconds = statistics.median(r[0] for r in runs)
                    peak = statistics.median(r[1] for r in runs)
                    ratio = f"{seconds / previous:5.2f}x" if previous else "     "
                    print(f"{schema}  {n:4d} events  {seconds * 1000:9.1f} ms  {ratio}  peak {peak / 1024:7.1f} MiB"
                          f"  {runs[0][2]}")
                    previous = seconds


if __name__ == "__main__":
    main()
