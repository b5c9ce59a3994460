"""The dual-writing backend during a backfill benchmark, in its own process (no GIL shared with the backfill):
``python dual_writer.py DSN TENANT IDS_FILE OUT`` inserts one migration.raw_signals row per call, as phase A's
dual write does (batch_id NULL, ON CONFLICT (firebase_id) DO NOTHING), until its stdin closes (it prints "connected" first); every fifth call
uses a firebase_id the backfill is loading too (so it can meet the backfill's uncommitted rows). Writes each call's
latency in seconds and whether its id was shared ("shared 0.001234" / "fresh 0.000812"), one per line, to OUT:
the fresh ids are the control (what the machine's load alone does to a call), the shared ones can wait on a lock."""
from __future__ import annotations

import random
import sys
import threading
import time

import psycopg

INSERT = ("INSERT INTO migration.raw_signals (tenant_id, firebase_id, signal_type, payload)"
          " VALUES (%s, %s, 'web.visit', '{\"dual\": true}') ON CONFLICT (firebase_id) DO NOTHING")


def main(dsn: str, tenant: str, ids_file: str, out: str) -> None:
    shared = open(ids_file).read().split()
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    latencies = []
    chooser = random.Random(7)
    with psycopg.connect(dsn, autocommit=True, application_name="dual-writer") as conn:
        print("connected", flush=True)  # the benchmark starts the backfill on this line, not after a guessed pause
        call = 0
        while not stop.is_set():
            kind = "shared" if call % 5 == 0 else "fresh"
            firebase_id = chooser.choice(shared) if kind == "shared" else f"dual-{call}"
            started = time.perf_counter()
            conn.execute(INSERT, (tenant, firebase_id))
            latencies.append(f"{kind} {time.perf_counter() - started:.6f}")
            call += 1
            time.sleep(0.002)  # a service's pace, not a tight loop competing for the two cores
    with open(out, "w") as file:
        file.write("\n".join(latencies))


if __name__ == "__main__":
    main(*sys.argv[1:])
