"""Where leadboost_app's write privileges are withheld: in the application schemas (iam, finanzas, stock,
gobernanza, sys, events) only. The event trigger after every GRANT and iam.revoke_app_write_privileges() take back
UPDATE/DELETE/TRUNCATE there (contracts/test_direct_dml_attacks.py); a privilege a DBA grants elsewhere — on the
migrator's tables — is theirs to keep. (A separate module: the mutation journal keeps the verdicts of the
direct-DML module's kills valid.)"""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("table", ["migration.batch_control", "migration.raw_signals"])
def test_a_write_privilege_outside_the_application_schemas_is_left_alone(leadboost_conn, table: str):
    """The GRANT's event trigger and a later iam.revoke_app_write_privileges() both leave it in place."""
    conn = leadboost_conn
    conn.execute(f"GRANT UPDATE, DELETE ON {table} TO leadboost_app")
    held = "SELECT has_table_privilege('leadboost_app', %s, 'UPDATE'), has_table_privilege('leadboost_app', %s, 'DELETE')"
    after_grant = conn.execute(held, (table, table)).fetchone()
    conn.execute("SELECT iam.revoke_app_write_privileges()")
    assert (after_grant, conn.execute(held, (table, table)).fetchone()) == ((True, True), (True, True))
