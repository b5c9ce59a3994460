"""The schema's invariants as queries over a whole database: ``violations(conn)`` returns, for each invariant, the
rows that break it (all empty when the data is sound). Run it as the owner: row-level security would hide rows.

Used after fault injection and load (properties/test_faults.py, properties/test_stress.py); each query reads only
committed state, so it may run while other sessions work.
"""
from __future__ import annotations

import psycopg

INVARIANTS: dict[str, str] = {
    # double entry: every posting has at least 2 legs and they sum to zero
    "every posting balances with at least 2 legs": """
        SELECT t.id, count(e.id) AS legs, coalesce(sum(e.amount * e.direction), 0) AS total
        FROM finanzas.transactions AS t LEFT JOIN finanzas.ledger_entries AS e ON e.transaction_id = t.id
        GROUP BY t.id HAVING count(e.id) < 2 OR coalesce(sum(e.amount * e.direction), 0) <> 0""",
    "every tenant's ledger sums to zero per currency": """
        SELECT tenant_id, currency, sum(amount * direction) FROM finanzas.ledger_entries
        GROUP BY tenant_id, currency HAVING sum(amount * direction) <> 0""",
    # stored balances (issue 14.1): the view over the shard rows equals the legs, account by account
    "stored balances equal the legs": """
        SELECT coalesce(l.tenant_id, b.tenant_id), coalesce(l.account_type, b.account_type),
               coalesce(l.currency, b.currency), l.balance AS legs, b.balance AS stored
        FROM (SELECT tenant_id, account_type, currency, sum(amount * direction) AS balance, count(*) AS entries,
                     max(posted_at) AS latest
              FROM finanzas.ledger_entries GROUP BY tenant_id, account_type, currency) AS l
        FULL JOIN finanzas.account_balances AS b
          ON (b.tenant_id, b.account_type, b.currency) = (l.tenant_id, l.account_type, l.currency)
        WHERE (l.balance, l.entries, l.latest) IS DISTINCT FROM (b.balance, b.entry_count, b.last_posted_at)""",
    # optimistic locking keeps quantities in range
    "stock stays within 0 <= reserved <= on hand": """
        SELECT id, quantity_on_hand, quantity_reserved, version FROM stock.inventory_items
        WHERE quantity_reserved < 0 OR quantity_reserved > quantity_on_hand OR version < 1""",
    # governance: a window never holds more than its limit
    "no limit is overspent": """
        SELECT id, policy_type, limit_value, window_consumed FROM gobernanza.policies
        WHERE policy_type IN ('SPEND_LIMIT', 'RATE_LIMIT') AND window_consumed > limit_value""",
    # event store: versions 1..n without gaps, one type per stream
    "stream versions are gapless from 1": """
        SELECT tenant_id, stream_id, count(*), min(version), max(version), count(DISTINCT stream_type)
        FROM events.event_store GROUP BY tenant_id, stream_id
        HAVING min(version) <> 1 OR max(version) <> count(*) OR count(DISTINCT version) <> count(*)
            OR count(DISTINCT stream_type) <> 1""",
    "every snapshot equals the replay at its version": """
        SELECT s.tenant_id, s.stream_id, s.version FROM events.snapshots AS s
        CROSS JOIN LATERAL events.replay_stream(s.tenant_id, s.stream_id, s.version) AS r
        WHERE r.state <> s.state""",
    "rehydrating every stream equals replaying it": """
        SELECT x.tenant_id, x.stream_id FROM (SELECT DISTINCT tenant_id, stream_id FROM events.event_store) AS x
        CROSS JOIN LATERAL events.rehydrate(x.tenant_id, x.stream_id) AS h
        CROSS JOIN LATERAL events.replay_stream(x.tenant_id, x.stream_id) AS r
        WHERE (h.version, h.state) IS DISTINCT FROM (r.version, r.state)""",
    # sagas: the steps agree with the saga's state
    "saga steps agree with the saga's state": """
        SELECT s.id, s.state, s.failed_step, array_agg(st.status ORDER BY st.step_index) AS steps
        FROM sys.sagas AS s JOIN sys.saga_steps AS st ON st.saga_id = s.id
        GROUP BY s.id, s.state, s.failed_step, s.step_count
        HAVING count(*) <> s.step_count OR NOT CASE s.state
            WHEN 'COMPLETED' THEN bool_and(st.status = 'SUCCEEDED')
            WHEN 'RUNNING' THEN bool_and(st.status IN ('SUCCEEDED', 'PENDING'))
                AND coalesce(max(st.step_index) FILTER (WHERE st.status = 'SUCCEEDED'), 0)
                    < coalesce(min(st.step_index) FILTER (WHERE st.status = 'PENDING'), s.step_count + 1)
            WHEN 'COMPENSATING' THEN bool_and(CASE WHEN st.step_index > s.failed_step THEN st.status = 'PENDING'
                                                   WHEN st.step_index = s.failed_step THEN st.status = 'FAILED'
                                                   ELSE st.status IN ('SUCCEEDED', 'COMPENSATED') END)
                AND coalesce(max(st.step_index) FILTER (WHERE st.status = 'SUCCEEDED'), 0)
                    < coalesce(min(st.step_index) FILTER (WHERE st.status = 'COMPENSATED'), s.step_count + 1)
            WHEN 'FAILED' THEN bool_and(CASE WHEN st.step_index > s.failed_step THEN st.status = 'PENDING'
                                             WHEN st.step_index = s.failed_step THEN st.status = 'FAILED'
                                             ELSE st.status = 'COMPENSATED' END)
            END""",
    # exactly-once keys: a key's state is consistent
    "idempotency keys are consistent": """
        SELECT tenant_id, idempotency_key, status FROM sys.request_keys
        WHERE (status = 'COMPLETED') <> (response IS NOT NULL) OR attempts < 1 OR lease_expires_at <= locked_at""",
}


def violations(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    """Invariant → the rows breaking it, for every invariant with at least one."""
    found = {}
    for name, query in INVARIANTS.items():
        rows = conn.execute(query).fetchall()
        if rows:
            found[name] = rows
    return found
