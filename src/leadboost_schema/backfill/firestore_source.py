"""A live Firestore as a source, through Google's official client (the optional extra ``[firestore]``).

Each collection path is read in pages ordered by document id (``order_by("__name__")``, ``start_after`` the last
id, ``limit``), so a run resumes from the last id its checkpoint names. The client module is imported only when
a Firestore source is built: the rest of the package works without it.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from leadboost_schema.backfill.documents import Checkpoint, SourceDocument

DOCUMENT_ID = "__name__"
PAGE_SIZE = 500


def official_client(project: str | None, credentials_file: str | None, database: str | None) -> Any:
    """A ``google.cloud.firestore.Client`` (credentials: the file given, else Application Default Credentials)."""
    try:
        from google.cloud import firestore
    except ImportError:
        raise RuntimeError("the Firestore source needs Google's client: pip install 'leadboost-schema[firestore]'"
                           ) from None
    options: dict[str, Any] = {"project": project}
    if database:
        options["database"] = database
    if credentials_file:
        from google.oauth2 import service_account
        options["credentials"] = service_account.Credentials.from_service_account_file(credentials_file)
    return firestore.Client(**options)


class FirestoreCollections:
    """The documents of ``collections`` (paths such as ``raw_signals`` or ``tenants/<id>/campaigns``), one
    collection after the other, each in document-id order. ``client`` is a ``google.cloud.firestore.Client`` or
    anything with the same ``collection(path).order_by().start_after().limit().stream()`` calls."""

    def __init__(self, client: Any, collections: Sequence[str], page_size: int = PAGE_SIZE,
                 name: str = "firestore") -> None:
        if not collections:
            raise ValueError("name at least one collection path")
        self.client = client
        self.collections = list(collections)
        self.page_size = page_size
        self.identity = name + ":" + ",".join(self.collections)

    def _page(self, path: str, last_id: str | None) -> list[Any]:
        query = self.client.collection(path).order_by(DOCUMENT_ID)
        if last_id is not None:
            query = query.start_after({DOCUMENT_ID: last_id})
        return list(query.limit(self.page_size).stream())

    def documents(self, resume: Checkpoint | None) -> Iterator[SourceDocument]:
        position = resume.done if resume else 0
        start_index, last_id = (resume.after if resume and resume.after else (0, None))
        for index in range(start_index, len(self.collections)):
            path = self.collections[index]
            if index != start_index:
                last_id = None
            while True:
                page = self._page(path, last_id)
                for snapshot in page:
                    last_id = snapshot.id
                    yield SourceDocument(position, snapshot.reference.path, snapshot.to_dict(), [index, last_id])
                    position += 1
                if len(page) < self.page_size:
                    break

    def fraction_done(self, document: SourceDocument) -> float | None:
        return None
