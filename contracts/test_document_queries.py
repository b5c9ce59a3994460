"""The source document's SQL, copied verbatim from RFC-PHOENIX-01, run against the seeded schema with the results
the document promises: verification, test data checks, weekly maintenance, diagnostics and troubleshooting."""
from __future__ import annotations

import psycopg
import pytest

# "Verificación Post-Migración", verbatim.
VERIFICATION = """
-- 1. Contar esquemas creados (debe ser 7)
SELECT COUNT(*) FROM information_schema.schemata 
WHERE schema_name IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events', 'migration');

-- 2. Contar tablas totales (debe ser ~15)
SELECT COUNT(*) FROM information_schema.tables
WHERE table_schema IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events', 'migration');

-- 3. Verificar foreign keys (integridad referencial)
SELECT COUNT(*) FROM information_schema.table_constraints 
WHERE constraint_type = 'FOREIGN KEY';

-- 4. Probar función de reserva de inventario (debe devolver success=true)
SELECT * FROM stock.reserve_inventory(
    '11111111-1111-1111-1111-111111111111', 
    'ACME-WIDGET-001', 
    10, 
    1
);
"""

# "Testing con Datos de Prueba": the two queries given to psql -c, verbatim.
TENANTS_QUERY = "SELECT * FROM iam.tenants;"
TENANT_BALANCE_QUERY = """
SELECT 
    t.name, 
    SUM(l.amount * l.direction) as balance 
FROM finanzas.ledger_entries l 
JOIN iam.tenants t ON l.tenant_id = t.id 
GROUP BY t.name;
"""

# "Scripts de Mantenimiento (Ejecutar semanalmente)", verbatim.
MAINTENANCE = """
-- Limpiar claves de idempotencia expiradas
SELECT sys.cleanup_expired_request_keys();

-- Limpiar snapshots antiguos (mantiene últimos 3)
SELECT events.cleanup_old_snapshots();

-- Reporte de SAGAs fallidas
SELECT * FROM sys.sagas WHERE state = 'FAILED' AND completed_at > NOW() - INTERVAL '7 days';

-- Reporte de validación de migración
SELECT * FROM migration.validate_migrated_data();
"""

# "Queries de Diagnóstico", verbatim.
DIAGNOSTICS = """
-- Ver SAGAs activas
SELECT * FROM sys.active_sagas;

-- Ver políticas activas
SELECT * FROM gobernanza.active_policies;

-- Resumen de streams (Event Sourcing)
SELECT * FROM events.stream_summary;

-- Balance financiero consolidado
SELECT 
    tenant_id,
    account_type,
    SUM(amount * direction) as balance
FROM finanzas.ledger_entries
GROUP BY tenant_id, account_type;
"""

# "Troubleshooting": the blocks, verbatim.
CREATE_EXTENSION = """
-- Ejecutar como superusuario
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
"""
GRANT_APP = """
GRANT USAGE ON SCHEMA iam, finanzas, stock, gobernanza, sys, events TO leadboost_app;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA iam, finanzas, stock, gobernanza, sys, events TO leadboost_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA iam, finanzas, stock, gobernanza, sys, events TO leadboost_app;
"""
CUSTOM_INDEX = """
-- Crear índice adicional si hay muchos eventos
CREATE INDEX CONCURRENTLY idx_event_store_custom 
ON events.event_store(stream_type, occurred_at DESC) 
WHERE stream_type = 'CAMPAIGN';
"""

ACME = "11111111-1111-1111-1111-111111111111"


def statements(block: str) -> list[str]:
    """The block's statements, as psql would send them one by one (none of these has a ';' inside a literal)."""
    return [s.strip() + ";" for s in block.split(";") if s.strip() and not all(
        line.strip().startswith("--") or not line.strip() for line in s.strip().splitlines())]


def run(conn: psycopg.Connection, block: str) -> list[list[tuple]]:
    """Every statement of the block in order; the rows each returned."""
    results = []
    for statement in statements(block):
        cursor = conn.execute(statement.encode())  # bytes: sent as written, no placeholder parsing
        results.append(cursor.fetchall() if cursor.description else [])
    return results


def test_verification_block_gives_the_documented_results(leadboost_seeded_conn):
    schemas, tables, foreign_keys, reservation = run(leadboost_seeded_conn, VERIFICATION)
    assert schemas == [(7,)]
    assert 13 <= tables[0][0] <= 20, f"about 15 tables expected, got {tables[0][0]}"
    assert foreign_keys[0][0] > 0
    assert len(reservation) == 1 and reservation[0][0] is True, reservation


def test_verification_reservation_succeeds_once_then_is_stale(leadboost_seeded_conn):
    reserve = statements(VERIFICATION)[-1]
    first = leadboost_seeded_conn.execute(reserve).fetchone()
    second = leadboost_seeded_conn.execute(reserve).fetchone()
    assert first == (True, "OK", 2, 100, 10)
    assert second == (False, "STALE_VERSION", 2, 100, 10)


def test_test_data_queries(leadboost_seeded_conn):
    (tenants,) = run(leadboost_seeded_conn, TENANTS_QUERY)
    assert ACME in {str(row[0]) for row in tenants}
    (balances,) = run(leadboost_seeded_conn, TENANT_BALANCE_QUERY)
    assert sorted(balances) == [("ACME Corp", 0), ("Globex Corporation", 0)]


def test_maintenance_block_runs_as_written(leadboost_seeded_conn):
    keys_removed, snapshots_removed, failed_sagas, report = run(leadboost_seeded_conn, MAINTENANCE)
    assert keys_removed == [(0,)]  # the seed's key lives 30 days
    assert snapshots_removed == [(0,)]  # the seed keeps 2 snapshots of a stream: fewer than 3
    assert [row[3] for row in failed_sagas] == ["FAILED"]
    assert {row[0] for row in report} >= {"completed_batches_counts_match", "rows_match_their_batch"}
    assert {row[1] for row in report} == {"OK"}


def test_maintenance_cleans_what_is_old(leadboost_seeded_conn):
    conn = leadboost_seeded_conn
    for version in (1, 2, 4):
        conn.execute("SELECT events.create_snapshot(%s, 'campaign-0001', %s)", (ACME, version))
    conn.execute("SELECT sys.claim_request_key(%s, 'old-key', '{}', p_ttl => '1 second', p_lease => '1 second',"
                 " p_now => now() - interval '1 day')", (ACME,))
    keys_removed, snapshots_removed, *_ = run(conn, MAINTENANCE)
    assert keys_removed == [(1,)]
    assert snapshots_removed == [(2,)]
    assert conn.execute("SELECT array_agg(version ORDER BY version) FROM events.snapshots"
                        " WHERE tenant_id = %s AND stream_id = 'campaign-0001'", (ACME,)).fetchone()[0] == [3, 4, 5]


def test_diagnostic_block_runs_as_written(leadboost_seeded_conn):
    sagas, policies, streams, balances = run(leadboost_seeded_conn, DIAGNOSTICS)
    assert [row[3] for row in sagas] == ["RUNNING"]
    assert sorted(row[2] for row in policies) == ["ads-provider-breaker", "api-rate", "daily-ad-spend"]
    assert len(streams) == 3
    assert sum(row[2] for row in balances) == 0 and len(balances) == 8


def test_create_extension_block(leadboost_conn):
    available = leadboost_conn.execute(
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'uuid-ossp'").fetchone()[0]
    if available:
        run(leadboost_conn, CREATE_EXTENSION)
        assert leadboost_conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'uuid-ossp'").fetchone()[0]
    else:  # the embedded server ships no uuid-ossp: the block fails there, and nothing of ours needs it
        with pytest.raises(psycopg.Error):
            run(leadboost_conn, CREATE_EXTENSION)


def test_troubleshooting_grant_block_runs_and_the_ledger_stays_immutable(leadboost_seeded_conn, as_app):
    run(leadboost_seeded_conn, GRANT_APP)
    with as_app(leadboost_seeded_conn, ACME) as conn:
        assert conn.execute("SELECT * FROM stock.reserve_inventory(%s, 'ACME-WIDGET-001', 10, 1)",
                            (ACME,)).fetchone()[0] is True
        # The block's UPDATE is taken back by the event trigger (it would also let the role LOCK the tables).
        with pytest.raises(psycopg.Error) as refused:
            conn.execute("UPDATE finanzas.ledger_entries SET amount = amount + 1")
        assert refused.value.sqlstate == "42501"
        conn.rollback()
        with pytest.raises(psycopg.Error) as refused:
            conn.execute("UPDATE events.event_store SET payload = '{}'")
        assert refused.value.sqlstate == "42501"


def test_custom_index_block(leadboost_seeded_conn):
    run(leadboost_seeded_conn, CUSTOM_INDEX)
    assert leadboost_seeded_conn.execute(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE c.relname = 'idx_event_store_custom'").fetchone() == (True,)


def test_blocks_are_copied_verbatim_from_the_source_document(schema_folder):
    """Guards the copies above: each block is, character for character, in RFC-PHOENIX-01."""
    # The repository keeps a copy of the source document (docs/), so this check runs in every checkout.
    document = schema_folder.parent / "docs" / "RFC-PHOENIX-01.es.md"
    text = document.read_text(encoding="utf-8")
    for block in (VERIFICATION, TENANTS_QUERY, TENANT_BALANCE_QUERY, MAINTENANCE, DIAGNOSTICS, CREATE_EXTENSION,
                  GRANT_APP, CUSTOM_INDEX):
        assert block.strip() in text, block
