"""The claims themselves: each one raises on a catalog that breaks it (a claim that cannot fail proves nothing)."""
from __future__ import annotations

import copy

import pytest

from contracts import claims


def broken(snap: dict, edit) -> dict:
    snap = copy.deepcopy(snap)
    edit(snap)
    return snap


def _fk_cascade(s):
    s["tables"]["stock.inventory_items"]["constraints"]["inventory_items_tenant_id_fkey"]["on_delete"] = "CASCADE"


def _trigger_enabled_only(s):
    s["tables"]["finanzas.ledger_entries"]["triggers"]["ledger_entries_append_only"]["enabled"] = "ORIGIN"


def _not_definer(s):
    s["functions"]["stock.reserve_inventory(p_tenant_id uuid, p_sku text, p_quantity integer, "
                   "p_expected_version integer)"]["security_definer"] = False


def _extra_grant(s):
    s["tables"]["finanzas.ledger_entries"]["grants"].append("leadboost_app:UPDATE")


def _nullable(s):
    s["tables"]["stock.inventory_items"]["columns"][6]["not_null"] = False


def _no_rls(s):
    s["tables"]["sys.request_keys"]["row_level_security"] = False


RESERVE = ("stock", "reserve_inventory", "p_tenant_id uuid, p_sku text, p_quantity integer, p_expected_version integer")
CASES = [
    (_fk_cascade, lambda s: claims.fk_ok(s, "stock.inventory_items", "tenant_id", "iam.tenants", on_delete="RESTRICT")),
    (_trigger_enabled_only, lambda s: claims.has_trigger(s, "finanzas.ledger_entries", "ledger_entries_append_only")),
    (_not_definer, lambda s: claims.is_definer(s, *RESERVE)),
    (_extra_grant, lambda s: claims.privileges_are(s["tables"]["finanzas.ledger_entries"], "leadboost_app",
                                                   {"SELECT"})),
    (_nullable, lambda s: claims.col_not_null(s, "stock.inventory_items", "version")),
    (_no_rls, lambda s: claims.rls_enabled(s, "sys.request_keys")),
]


@pytest.mark.parametrize(("edit", "claim"), CASES, ids=[edit.__name__.strip("_") for edit, _ in CASES])
def test_claim_holds_then_fails_on_the_broken_catalog(catalog_snapshot, edit, claim):
    claim(catalog_snapshot)
    with pytest.raises(AssertionError):
        claim(broken(catalog_snapshot, edit))


def test_missing_objects_are_reported(catalog_snapshot):
    with pytest.raises(AssertionError, match="table stock.nope is missing"):
        claims.has_table(catalog_snapshot, "stock.nope")
    with pytest.raises(AssertionError, match="function stock.reserve_inventory\\(p_tenant_id uuid\\) is missing"):
        claims.has_function(catalog_snapshot, "stock", "reserve_inventory", "p_tenant_id uuid")
    with pytest.raises(AssertionError, match="has no CHECK"):
        claims.has_check(catalog_snapshot, "stock.inventory_items", "quantity_on_hand < 0")
