"""The Firebase backfill, as the specification: firebase_id is the idempotency key, the first write wins; the
report of validate_migrated_data() over batches and the rows they filed."""
from __future__ import annotations

from dataclasses import dataclass


class Backfill:
    """Migrated documents by firebase_id. Writing a document that is already there changes nothing."""

    def __init__(self) -> None:
        self.documents: dict[str, str] = {}

    def write(self, documents: list[tuple[str, str]]) -> int:
        """Write ``(firebase_id, content)`` pairs in order; return how many were new."""
        new = 0
        for firebase_id, content in documents:
            if firebase_id not in self.documents:
                self.documents[firebase_id] = content
                new += 1
        return new


COLLECTIONS = ("raw_signals", "campaigns", "audit_logs")


@dataclass(frozen=True)
class Batch:
    """A batch_control row: whose, which collection, its status and the counts it reports."""

    tenant: int
    collection: str
    status: str
    expected: int | None
    processed: int
    stalled: bool = False  # RUNNING for more than an hour


@dataclass(frozen=True)
class Row:
    """A migrated row: its table, its tenant, and the batch (an index into the batches) that filed it, if any."""

    table: str
    tenant: int
    batch: int | None


def report(batches: list[Batch], rows: list[Row], inactive: set[int],
           only: int | None = None) -> dict[str, tuple[str, int]]:
    """validate_migrated_data(), as the specification: check name -> (status, observed count). A COMPLETED batch
    must have loaded exactly the rows it reports (processed, and expected when it states one) into its collection;
    a row filed under a batch must be of that batch's collection AND tenant.

    ``only`` (validate_migrated_data(p_only_tenant_id)): that tenant's batches and rows, and the rows of other
    tenants filed in its batches — its report is about its own data, whatever the other tenants hold."""
    def loaded(i: int) -> int:
        return sum(1 for r in rows if r.batch == i and r.table == batches[i].collection)

    def ours(tenant: int) -> bool:
        return only is None or tenant == only

    mismatched = sum(1 for i, b in enumerate(batches) if ours(b.tenant) and b.status == "COMPLETED" and (
        loaded(i) != b.processed or (b.expected is not None and loaded(i) != b.expected)))
    misfiled = sum(1 for r in rows if r.batch is not None and (
        batches[r.batch].collection != r.table or batches[r.batch].tenant != r.tenant) and (
        ours(r.tenant) or ours(batches[r.batch].tenant) and batches[r.batch].tenant != r.tenant))
    failed = sum(1 for b in batches if ours(b.tenant) and b.status == "FAILED")
    stalled = sum(1 for b in batches if ours(b.tenant) and b.status == "RUNNING" and b.stalled)
    of_inactive = sum(1 for r in rows if ours(r.tenant) and r.tenant in inactive)

    def verdict(count: int, bad: str) -> tuple[str, int]:
        return ("OK" if count == 0 else bad), count
    return {"completed_batches_counts_match": verdict(mismatched, "FAIL"),
            "rows_match_their_batch": verdict(misfiled, "FAIL"),
            "failed_batches": verdict(failed, "WARN"),
            "stalled_batches": verdict(stalled, "WARN"),
            "rows_of_inactive_tenants": verdict(of_inactive, "WARN"),
            **{f"{table}_rows": ("OK", sum(1 for r in rows if r.table == table and ours(r.tenant)))
               for table in COLLECTIONS}}
