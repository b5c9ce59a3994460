"""The hot paths as pgbench drives them: the server's own cost, with no Python driver in the loop (its per-call
time hides the server's, issue 14). Each path is paired with its baseline, run alternately in the same pass
(``--pgbench-rounds`` rounds of ``--pgbench-seconds``), as a login role in leadboost_app bound to the probe
tenant with app.tenant_id, except where the role is the point (the unbound superuser)."""
from __future__ import annotations

import pytest
from server_figures import record_server_rounds

from leadboost_schema.bench.pgbench import Pgbench, Script
from leadboost_schema.catalog.hot_queries import EVENT_COLUMNS

pytestmark = pytest.mark.benchmark(group="server (pgbench)")

PAYLOAD = '{"score": 42, "source": "ads", "stage": "mql", "owner": "u-17"}'
ACCOUNTS = ("ARRAY['CASH','BANK','ACCOUNTS_RECEIVABLE','ACCOUNTS_PAYABLE','CUSTOMER_CREDIT','REVENUE','AD_SPEND',"
            "'EXPENSE','TAX_PAYABLE','EQUITY']")


@pytest.fixture(scope="module")
def pgbench(leadboost_server, bench_db, tmp_path_factory) -> Pgbench:
    return Pgbench(leadboost_server.bindir, bench_db.dsn, tmp_path_factory.mktemp("pgbench"))


def _scripts(bench_db, login: str, clients: int) -> dict[str, Script]:
    tenant = str(bench_db.dataset.probe_tenant)
    positions = ",".join(str(p) for p in bench_db.probe_positions[:200])
    stream = bench_db.dataset.probe_streams[100]
    count = "\\set n :n + 1\n"
    new_stream = "'pgb-' || :run || '-' || :client_id || '-' || :n"

    def script(name: str, sql: str, role: str = login, bound: bool = True, n: int = clients) -> Script:
        return Script(name, sql, role, tenant if bound else None, n, {"n": "0"})

    return {
        # The event's row into a bare table (same columns and defaults, a primary key, nothing else).
        "plain_insert_event": script("plain_insert_event", count + (
            "INSERT INTO bench.plain_events (tenant_id, stream_id, stream_type, version, event_type, payload)"
            f" VALUES ('{tenant}', {new_stream}, 'LEAD', 1, 'LeadScored', '{PAYLOAD}');")),
        # A new stream on every call (expected version 0).
        "event_append_new": script("event_append_new", count + (
            f"SELECT events.append_event('{tenant}', {new_stream}, 'LEAD', 'LeadScored', '{PAYLOAD}', 0);")),
        # One stream per client, appended to with the version it is at.
        "event_append_existing": script("event_append_existing", (
            f"SELECT events.append_event('{tenant}', 'pgx-' || :run || '-' || :client_id, 'LEAD', 'LeadScored',"
            f" '{PAYLOAD}', :n);\n") + count),
        # One of the probe tenant's events by primary key (RLS applies), picked among 200.
        "pk_select": script("pk_select", "\\set i random(1, 200)\n"
                            f"SELECT {EVENT_COLUMNS} FROM events.event_store"
                            f" WHERE global_position = ('{{{positions}}}'::bigint[])[:i];", n=1),
        # pgbench's TPC-B-like transaction (scale 1 in schema bench), its seven statements as pgbench sends them.
        "tpcb_like": script("tpcb_like", (
            "\\set aid random(1, 100000)\n\\set tid random(1, 10)\n\\set delta random(-5000, 5000)\n"
            "BEGIN;\n"
            "UPDATE bench.tpcb_accounts SET abalance = abalance + :delta WHERE aid = :aid;\n"
            "SELECT abalance FROM bench.tpcb_accounts WHERE aid = :aid;\n"
            "UPDATE bench.tpcb_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;\n"
            "UPDATE bench.tpcb_branches SET bbalance = bbalance + :delta WHERE bid = 1;\n"
            "INSERT INTO bench.tpcb_history (tid, bid, aid, delta, mtime)"
            " VALUES (:tid, 1, :aid, :delta, CURRENT_TIMESTAMP);\n"
            "END;")),
        # A 2-leg posting between two of ten accounts (benchmarks/ledger_pgbench/spread.sql).
        "ledger_posting_2": script("ledger_posting_2", (
            "\\set a random(1, 10)\n"
            f"SELECT finanzas.post_transaction('{tenant}', format('[{{\"account_type\":\"%s\",\"amount\":1,"
            f"\"direction\":1}},{{\"account_type\":\"%s\",\"amount\":1,\"direction\":-1}}]',"
            f" ({ACCOUNTS})[:a], ({ACCOUNTS})[11 - :a])::jsonb);")),
        "stream_read_100": script("stream_read_100", (
            f"SELECT {EVENT_COLUMNS} FROM events.event_store"
            f" WHERE tenant_id = '{tenant}' AND stream_id = '{stream}' ORDER BY version;"), n=1),
    }


@pytest.mark.parametrize("path", ["event_append_new", "event_append_existing"])
def test_event_append(benchmark, pgbench, bench_db, bench_login, bench_clients, pgbench_timing, path):
    scripts = _scripts(bench_db, bench_login, bench_clients)
    rounds, seconds = pgbench_timing
    base, measured = pgbench.paired_rounds(scripts["plain_insert_event"], scripts[path], rounds, seconds)
    record_server_rounds(benchmark, f"server_{path}", measured, baseline="server_plain_insert_event",
                         baseline_rounds=base, target=0.35, clients=bench_clients)


def test_ledger_posting_2(benchmark, pgbench, bench_db, bench_login, bench_clients, pgbench_timing):
    """A 2-leg posting against pgbench's TPC-B-like transaction, both by the app's login role (issue 14: >= 0.8)."""
    scripts = _scripts(bench_db, bench_login, bench_clients)
    rounds, seconds = pgbench_timing
    base, measured = pgbench.paired_rounds(scripts["tpcb_like"], scripts["ledger_posting_2"], rounds, seconds)
    record_server_rounds(benchmark, "server_ledger_posting_2", measured, baseline="server_tpcb_like",
                         baseline_rounds=base, target=0.8, clients=bench_clients)


def test_stream_read_100(benchmark, pgbench, bench_db, bench_login, pgbench_timing):
    scripts = _scripts(bench_db, bench_login, 1)
    rounds, seconds = pgbench_timing
    base, measured = pgbench.paired_rounds(scripts["pk_select"], scripts["stream_read_100"], rounds, seconds)
    record_server_rounds(benchmark, "server_stream_read_100", measured, baseline="server_pk_select",
                         baseline_rounds=base, target=0.2)


def test_unbound_superuser_overhead(benchmark, pgbench, bench_db, owner_login, pgbench_timing):
    """The same append by the owner (a superuser here), bound to the tenant and unbound: the difference is
    what deciding that an unbound caller may act costs (iam.calling_role_is_unrestricted), per call (1 client)."""
    scripts = _scripts(bench_db, owner_login, 1)
    bound = scripts["event_append_new"]
    unbound = Script("event_append_unbound", bound.sql, owner_login, None, 1, bound.defines)
    rounds, seconds = pgbench_timing
    base, measured = pgbench.paired_rounds(bound, unbound, rounds, seconds)
    overhead = sorted(m - b for m, b in zip(measured, base, strict=True))[len(base) // 2]
    record_server_rounds(benchmark, "server_event_append_unbound_superuser", measured,
                         baseline="server_event_append_bound_superuser", baseline_rounds=base,
                         overhead_us_per_call=round(overhead * 1e6, 1))
