"""The Firebase backfill, as the specification: firebase_id is the idempotency key, the first write wins."""
from __future__ import annotations


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
