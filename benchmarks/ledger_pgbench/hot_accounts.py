"""Hot-account design measurement: pgbench tps of 2-leg postings (one hot account pair vs spread accounts, 2 and 8
clients) for three ways of keeping balances, and tpcb-like in the same pass. Paired alternating runs; medians."""
import os
import re
import statistics
import subprocess
import sys

import psycopg

HOST, DB = sys.argv[1], sys.argv[2]
RUNS, SECONDS = int(os.environ.get("RUNS", 3)), int(os.environ.get("SECONDS", 5))
PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"
TENANT = "cccccccc-0000-0000-0000-000000000001"
HERE = os.path.dirname(os.path.abspath(__file__))
owner = psycopg.connect(f"host={HOST} user=postgres dbname={DB}", autocommit=True)
SHARDED = owner.execute("SELECT pg_get_functiondef('finanzas.add_leg_to_balances()'::regprocedure)").fetchone()[0]
ROW_PER_ACCOUNT = SHARDED.split("AS $function$")[0] + """AS $function$
BEGIN
    INSERT INTO finanzas.account_balance_shards AS s
           (tenant_id, account_type, currency, shard, total_debits, total_credits, entry_count, last_posted_at)
    VALUES (NEW.tenant_id, NEW.account_type, NEW.currency, 0,
            CASE WHEN NEW.direction = 1 THEN NEW.amount ELSE 0 END,
            CASE WHEN NEW.direction = -1 THEN NEW.amount ELSE 0 END, 1, NEW.posted_at)
    ON CONFLICT (tenant_id, account_type, currency, shard) DO UPDATE
       SET total_debits = s.total_debits + excluded.total_debits, total_credits = s.total_credits + excluded.total_credits,
           entry_count = s.entry_count + 1, last_posted_at = greatest(s.last_posted_at, excluded.last_posted_at);
    RETURN NULL;
END
$function$"""
VARIANTS = {
    "sharded (advisory-locked shards)": ["ALTER TABLE finanzas.ledger_entries ENABLE ALWAYS TRIGGER ledger_entries_balances", SHARDED],
    "row per account": ["ALTER TABLE finanzas.ledger_entries ENABLE ALWAYS TRIGGER ledger_entries_balances", ROW_PER_ACCOUNT],
    "no stored balance": ["ALTER TABLE finanzas.ledger_entries DISABLE TRIGGER ledger_entries_balances"],
}


def tps(script: str, clients: int, user: str = "bench_app", db: str = DB) -> float:
    env = dict(os.environ, PGOPTIONS=f"-c app.tenant_id={TENANT}")
    cmd = [PGBENCH, "-h", HOST, "-U", user, "-n", "-c", str(clients), "-j", "2", "-T", str(SECONDS)]
    cmd += ["-b", "tpcb-like"] if script == "tpcb-like" else ["-f", os.path.join(HERE, script)]
    out = subprocess.run(cmd + [db], capture_output=True, text=True, env=env, check=True).stdout
    assert "number of failed transactions: 0 " in out, out
    return float(re.search(r"tps = ([\d.]+) \(without", out).group(1))


results: dict[tuple, list[float]] = {}
for _run in range(RUNS):
    for clients in (2, 8):
        results.setdefault(("tpcb-like", clients), []).append(tps("tpcb-like", clients, "postgres", "tpcb"))
        for variant, sql in VARIANTS.items():
            for statement in sql:
                owner.execute(statement)
            for workload in ("hot.sql", "spread.sql"):
                if variant == "row per account" and workload == "spread.sql":
                    continue  # legs in opposite orders would deadlock on the account rows (no sorting per leg)
                results.setdefault((variant, workload, clients), []).append(tps(workload, clients))
owner.execute(VARIANTS["sharded (advisory-locked shards)"][0])
owner.execute(SHARDED)
for key, values in results.items():
    base = statistics.median(results[("tpcb-like", key[-1])])
    print(" | ".join(map(str, key)), f"| median tps {statistics.median(values):.0f} | ratio to tpcb-like {statistics.median(values) / base:.2f} | runs {[round(v) for v in values]}")
