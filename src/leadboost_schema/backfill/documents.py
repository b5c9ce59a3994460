"""What every source yields: one ``SourceDocument`` per record, in a fixed order, with where to resume after it."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(slots=True)  # not frozen: a frozen dataclass costs 3x to make (one per document)
class SourceDocument:
    """A record of the source. ``position`` counts records from 0 in the source's order (the checkpoint says how
    many are done); ``after`` is the source's own token to resume just after this record (a byte offset, a
    document id). ``error`` is set when the record could not even be read as a document (then ``data`` is None and
    ``raw`` holds its text for the quarantine)."""

    position: int
    path: str | None
    data: Any
    after: Any
    size: int | None = None
    raw: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Checkpoint:
    """Where a run stopped: ``done`` records are loaded or quarantined; ``after`` is the source's resume token."""

    done: int
    after: Any

    def text(self) -> str:
        return json.dumps({"n": self.done, "at": self.after}, separators=(",", ":"))

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        value = json.loads(text)
        return cls(int(value["n"]), value.get("at"))


class Source(Protocol):
    """A source of Firestore documents. ``identity`` names it (the default run id is derived from it)."""

    identity: str

    def documents(self, resume: Checkpoint | None) -> Iterator[SourceDocument]:
        """Records in a fixed order, starting just after ``resume`` (from the start when None)."""
        ...

    def fraction_done(self, document: SourceDocument) -> float | None:
        """How far through the source ``document`` is (0..1), for the ETA; None when unknown."""
        ...
