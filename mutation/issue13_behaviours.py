"""Issue 13's 14 behaviours, each made as an edit of a copy of a schema file (the checkout is not touched) and run
like a mutant (its own workspace, regenerated contract and generated files, the map's modules for its object, -x):
prints, per behaviour, the first test that fails. The table in mutation/last-run.md is its output.

    PYTHONPATH=src python mutation/issue13_behaviours.py [N ...]     # all 14, or the ones named

ISSUE13_EXCLUDE="module ..." leaves modules out; ISSUE13_ONLY="module ..." runs only those."""
import json
import os
import sys
from pathlib import Path

from leadboost_schema.mutation.mutants import Mutant
from leadboost_schema.mutation.runner import RunConfig, run_one
from leadboost_schema.mutation.test_map import build
from leadboost_schema.server import start_server
from leadboost_schema.server.settings import Settings

P = Path(__file__).resolve().parents[1]
B = {
 1: ("001_schema_iam.sql", "iam.assert_tenant_access", [("IF p_require_active AND tenant_status <> 'ACTIVE' THEN", "IF p_require_active AND tenant_status = 'SUSPENDED' THEN")]),
 2: ("002_schema_finanzas.sql", "finanzas.post_transaction", [("    -- IMMEDIATE; every leg queues a check of its own.\n    SET CONSTRAINTS finanzas.transactions_balanced DEFERRED;", "    -- IMMEDIATE; every leg queues a check of its own.\n")]),
 3: ("002_schema_finanzas.sql", "finanzas.reverse_transaction", [("e.amount, -e.direction, e.currency", "e.amount, e.direction, e.currency")]),
 4: ("002_schema_finanzas.sql", "finanzas.post_transaction", [("WHERE e.transaction_id = t.id AND e.tenant_id = t.tenant_id)", "WHERE e.transaction_id = t.id)")]),
 5: ("003_schema_stock.sql", "stock.bump_inventory_version", [("NEW.version := OLD.version + 1;", "NEW.version := CASE WHEN NEW.version <> OLD.version THEN NEW.version ELSE OLD.version + 1 END;")]),
 6: ("004_schema_gobernanza.sql", "gobernanza.record_action_outcome", [("p.failure_count + 1 >= p.failure_threshold", "p.failure_count + 1 > p.failure_threshold")]),
 7: ("004_schema_gobernanza.sql", "gobernanza.validate_action", [("WHEN pol.breaker_state = 'CLOSED' THEN NULL", "WHEN pol.breaker_state IN ('CLOSED', 'HALF_OPEN') THEN NULL")]),
 8: ("004_schema_gobernanza.sql", "gobernanza.validate_action", [("p.valid_until > p_now", "p.valid_until >= p_now")]),
 9: ("005_schema_sys.sql", "sys.claim_request_key", [("IF k.status = 'PROCESSING' AND k.lease_expires_at > p_now THEN", "IF k.status = 'PROCESSING' AND k.locked_at + p_lease > p_now THEN")]),
 10: ("005_schema_sys.sql", "sys.lock_claimed_key", [("     WHERE r.tenant_id = p_tenant_id AND r.idempotency_key = p_idempotency_key\n       FOR UPDATE;\n    IF NOT FOUND THEN\n        RAISE EXCEPTION USING ERRCODE = 'LB402',", "     WHERE r.tenant_id = p_tenant_id AND r.idempotency_key = p_idempotency_key;\n    IF NOT FOUND THEN\n        RAISE EXCEPTION USING ERRCODE = 'LB402',")]),
 11: ("005_schema_sys.sql", "sys.cleanup_expired_request_keys", [("     WHERE r.expires_at <= p_now\n       AND NOT (r.status = 'PROCESSING' AND r.lease_expires_at > p_now);", "     WHERE r.expires_at <= p_now;")]),
 12: ("005_schema_sys.sql", "sys.enforce_saga_transition", [("('COMPENSATING', 'COMPENSATING'), ('COMPENSATING', 'FAILED')) THEN", "('COMPENSATING', 'COMPENSATING'), ('COMPENSATING', 'FAILED'), ('COMPLETED', 'COMPENSATING')) THEN")]),
 13: ("007_schema_migration.sql", "migration.validate_migrated_data", [("AND (l.actual <> l.processed_count OR (l.expected_count IS NOT NULL AND l.actual <> l.expected_count))", "AND l.actual <> l.processed_count")]),
 14: ("007_schema_migration.sql", "migration.validate_migrated_data", [(" OR b.tenant_id <> r.tenant_id)", ")"), (" OR b.tenant_id <> c.tenant_id)", ")"), (" OR b.tenant_id <> a.tenant_id)", ")")]),
}


def edits_for(text: str, changes: list[tuple[str, str]]) -> tuple[tuple[int, int, str], ...]:
    """Every occurrence of each ``old`` replaced by its ``new`` (each must occur)."""
    out = []
    for old, new in changes:
        start = 0
        while (at := text.find(old, start)) >= 0:
            out.append((at, at + len(old), new))
            start = at + len(old)
        assert start, f"not in the file: {old}"
    return tuple(out)


chosen = [int(a) for a in sys.argv[1:]] or sorted(B)
test_map = build(P, P / "schema", "00[1-7]_*.sql")
only = os.environ.get("ISSUE13_ONLY", "").split()
for module in [m for m in test_map.texts if only and m not in only] + os.environ.get("ISSUE13_EXCLUDE", "").split():
    test_map.texts.pop(module, None)
    test_map = type(test_map)(test_map.texts, tuple(m for m in test_map.catalog_derived if m != module),
                              test_map.function_objects, test_map.callers)
with start_server(Settings.resolve()) as server:
    config = RunConfig(P, server, test_map, 600, 1, 13, None)
    for n in chosen:
        file, obj, changes = B[n]
        text = (P / "schema" / file).read_text()
        edits = edits_for(text, changes)
        line = text[:edits[0][0]].count("\n") + 1
        m = Mutant(f"{file}:{line}:behaviour:b{n:02d}", file, line, "behaviour", (obj,), f"behaviour {n}", "", "")
        o = run_one(config, m, edits)
        print(json.dumps({"behaviour": n, "edits": len(edits), "status": o.status, "seconds": round(o.seconds),
                          "detail": o.detail, "modules": len(o.modules)}), flush=True)
