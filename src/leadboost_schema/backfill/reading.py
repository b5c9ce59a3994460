"""Reading a source into chunks of mapped documents (``chunks``), in a thread of the run or in the reader process,
and the tenant look-up the mapping asks."""
from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping as ReadOnlyMap
from dataclasses import dataclass
from typing import Any

import psycopg

from leadboost_schema.backfill.documents import Checkpoint, Source, SourceDocument
from leadboost_schema.backfill.mapping import MappedRow, Mapping

APPLICATION_NAME = "leadboost-backfill"


@dataclass
class Chunk:
    rows: list[tuple[int, MappedRow]]
    rejected: list[tuple[SourceDocument, str | None, str]]
    documents: ReadOnlyMap[int, SourceDocument]  # of the rows, for the quarantine (the reader process's unpickles late)
    afters: dict[int, Any]  # each row's resume token (its document's ``after``)
    checkpoint: Checkpoint
    read: int
    fraction: float | None


def chunks(source: Source, mapping: Mapping, resume: Checkpoint | None, size: int) -> Iterator[Chunk]:
    """The source's documents from ``resume`` on, mapped, ``size`` at a time."""
    rows, rejected, documents, afters = [], [], {}, {}
    last = None
    for document in source.documents(resume):
        last = document
        mapped = mapping.map(document)
        if isinstance(mapped, MappedRow):
            rows.append((document.position, mapped))
            documents[document.position] = document
            afters[document.position] = document.after
        else:
            rejected.append((document, mapped.table, mapped.reason))
        if len(rows) + len(rejected) >= size:
            yield Chunk(rows, rejected, documents, afters, Checkpoint(document.position + 1, document.after),
                        len(rows) + len(rejected), source.fraction_done(document))
            rows, rejected, documents, afters = [], [], {}, {}
    if rows or rejected:
        yield Chunk(rows, rejected, documents, afters, Checkpoint(last.position + 1, last.after),
                    len(rows) + len(rejected), source.fraction_done(last))


class TenantLookup:
    """Whether a tenant exists: all of iam.tenants read once, a miss asked again (a tenant created meanwhile)."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True, application_name=APPLICATION_NAME)
        self.known = {str(t) for (t,) in self.conn.execute("SELECT id FROM iam.tenants")}

    def __call__(self, tenant: str) -> bool:
        if tenant not in self.known and self.conn.execute(
                "SELECT 1 FROM iam.tenants WHERE id = %s", (tenant,)).fetchone():
            self.known.add(tenant)
        return tenant in self.known
