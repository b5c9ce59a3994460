"""Row-level security and the tenant binding, as the contract states them: leadboost_app bound to a tenant sees
only that tenant's rows in every table and view, unbound it sees none, and functions refuse another tenant; the
owner is unaffected."""
from __future__ import annotations

import psycopg
import pytest

from contracts.test_catalog import APP_SCHEMAS, TABLES, VIEWS
from contracts.test_document_queries import ACME

GLOBEX = "22222222-2222-2222-2222-222222222222"
# sys.schema_upgrades is the schema history: no tenant, the same rows for every reader.
APP_RELATIONS = [r for r in TABLES + VIEWS if r.split(".")[0] in APP_SCHEMAS and r != "sys.schema_upgrades"]


def tenants_seen(conn: psycopg.Connection, relation: str) -> set[str]:
    column = "id" if relation == "iam.tenants" else "tenant_id"
    return {str(row[0]) for row in conn.execute(f"SELECT DISTINCT {column} FROM {relation}")}


@pytest.mark.parametrize("relation", APP_RELATIONS)
def test_a_bound_session_sees_only_its_tenant(leadboost_seeded_conn, as_app, relation):
    everything = tenants_seen(leadboost_seeded_conn, relation)
    with as_app(leadboost_seeded_conn, ACME) as conn:
        seen = tenants_seen(conn, relation)
    assert seen == everything & {ACME}
    if relation in ("iam.tenants", "finanzas.ledger_entries", "stock.inventory_items", "events.event_store"):
        assert GLOBEX in everything  # the seed gives the other tenant rows here: the filter is what hides them


@pytest.mark.parametrize("relation", APP_RELATIONS)
def test_an_unbound_session_sees_nothing(leadboost_seeded_conn, as_app, relation):
    with as_app(leadboost_seeded_conn, None) as conn:
        assert tenants_seen(conn, relation) == set()


@pytest.mark.parametrize(("binding", "message"), [
    (GLOBEX, "session is bound to tenant"),
    (None, "session is not bound to a tenant"),
])
def test_functions_refuse_other_tenants(leadboost_seeded_conn, as_app, binding, message):
    with as_app(leadboost_seeded_conn, binding) as conn, pytest.raises(psycopg.Error) as refused:
        conn.execute("SELECT * FROM stock.reserve_inventory(%s, 'ACME-WIDGET-001', 1, 1)", (ACME,))
    assert (refused.value.sqlstate, message in refused.value.diag.message_primary) == ("LB003", True)


def test_a_malformed_binding_is_refused(leadboost_seeded_conn, as_app):
    with as_app(leadboost_seeded_conn, None) as conn, pytest.raises(psycopg.Error) as refused:
        conn.execute("SET app.tenant_id = 'not-a-uuid'")
        conn.execute("SELECT count(*) FROM stock.inventory_items")
    assert refused.value.sqlstate == "LB003"


def test_a_bound_session_works_through_the_functions(leadboost_seeded_conn, as_app):
    with as_app(leadboost_seeded_conn, ACME) as conn:
        assert conn.execute("SELECT success FROM stock.reserve_inventory(%s, 'ACME-WIDGET-001', 1, 1)",
                            (ACME,)).fetchone() == (True,)
        assert conn.execute("SELECT events.append_event(%s, 'order-0001', 'ORDER', 'OrderPaid', '{}', 1)",
                            (ACME,)).fetchone() == (2,)
        with pytest.raises(psycopg.Error) as refused:
            conn.execute("SELECT count(*) FROM migration.campaigns")
        assert refused.value.sqlstate == "42501"


def test_the_owner_is_unaffected(leadboost_seeded_conn):
    assert tenants_seen(leadboost_seeded_conn, "stock.inventory_items") == {ACME, GLOBEX}
    assert leadboost_seeded_conn.execute("SELECT success FROM stock.reserve_inventory(%s, 'GLX-PART-001', 1, 1)",
                                         (GLOBEX,)).fetchone() == (True,)
