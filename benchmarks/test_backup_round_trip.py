"""Backup then restore (pg_dump -Fc, pg_restore -c in one transaction) of a seeded database holding 10^5
migration rows (LEADBOOST_BACKUP_ROWS): the time of each, and every table's fingerprint equal after the restore.
Run: ``pytest benchmarks/test_backup_round_trip.py -p no:xdist --benchmark-only``."""
from __future__ import annotations

import os
import statistics
import time

import psycopg
import pytest

from leadboost_schema.databases.backup import dump_database, restore_database
from leadboost_schema.databases.clones import fresh_database
from leadboost_schema.testing.data_fingerprint import data_fingerprint

pytestmark = pytest.mark.benchmark(group="backup")
ROWS = int(float(os.environ.get("LEADBOOST_BACKUP_ROWS", "1e5")))


def test_backup_restore_round_trip(benchmark, leadboost_server, leadboost_seeded_template, tmp_path):
    with fresh_database(leadboost_server, leadboost_seeded_template) as dsn, \
            psycopg.connect(dsn, autocommit=True) as conn:
        tenant = conn.execute("SELECT id FROM iam.tenants LIMIT 1").fetchone()[0]
        conn.execute("INSERT INTO migration.raw_signals (tenant_id, firebase_id, signal_type, payload)"
                     " SELECT %s, 'fb-' || n, 'web.visit', jsonb_build_object('n', n, 'url', '/p/' || n %% 977)"
                     " FROM generate_series(1, %s) AS n", (tenant, ROWS))
        before = data_fingerprint(conn)
        dumps: list[float] = []
        path = tmp_path / "pre_migration.dump"

        def dump() -> None:
            started = time.perf_counter()
            dump_database(dsn, path)
            dumps.append(time.perf_counter() - started)
            conn.execute("TRUNCATE migration.raw_signals")

        benchmark.pedantic(lambda: restore_database(dsn, path), setup=dump, rounds=3, warmup_rounds=0)
        assert data_fingerprint(conn) == before
        benchmark.extra_info.update(path=f"restore_{ROWS:.0e}_rows", rows=ROWS, dump_median_s=round(
            statistics.median(dumps), 2), dump_bytes=path.stat().st_size, fingerprints_equal=True)
