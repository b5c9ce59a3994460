"""Tenant factories: every row of the schema belongs to a tenant, so a new tenant is a clean slate for a test."""
from __future__ import annotations

import uuid

import psycopg


def make_tenant(conn: psycopg.Connection, name: str | None = None, *, status: str | None = None) -> uuid.UUID:
    """Insert an ``iam.tenants`` row and return its id.

    The id is made here (uuid4), not by the column default, so this works on servers without uuid-ossp.
    ``name`` defaults to a unique ``tenant-<hex>``; ``status`` defaults to the column default ('ACTIVE').
    """
    tenant_id = uuid.uuid4()
    name = name if name is not None else f"tenant-{tenant_id.hex[:12]}"
    if status is None:
        conn.execute("INSERT INTO iam.tenants (id, name) VALUES (%s, %s)", (tenant_id, name))
    else:
        conn.execute("INSERT INTO iam.tenants (id, name, status) VALUES (%s, %s, %s)", (tenant_id, name, status))
    return tenant_id
