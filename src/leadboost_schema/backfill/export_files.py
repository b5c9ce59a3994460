"""Export files as sources: JSON Lines of ``{"path": "...", "data": {...}}`` and the nested export JSON
(``{"__collections__": {"users": {"<id>": {..., "__collections__": {...}}}}}``) that common export tools write."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from leadboost_schema.backfill.documents import Checkpoint, SourceDocument

MAX_LINE_BYTES = 64 * 1024 * 1024  # longer lines are quarantined unread (a document is at most 1 MiB in Firestore)


def file_identity(path: Path) -> str:
    """Names a file's content as it is now: the same file unchanged resumes its run; an edited one starts anew."""
    stat = path.stat()
    return hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]


# Every digit read as 0: a run of 19 zeros then marks a run of 19 digits (a substring search, several times faster
# than a regular expression over the line).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19


def _parse(line: bytes) -> object:
    """orjson for speed; Python's json where orjson would differ: integers beyond 64 bits (orjson reads them as
    floats, losing digits; a run of 19 digits or more anywhere in the line is enough to take the slow way) and the
    NaN/Infinity literals that JavaScript-free exporters write (orjson refuses)."""
    if _NINETEEN_DIGITS not in line.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(line)
        except orjson.JSONDecodeError:
            pass
    return json.loads(line)


def _record(position: int, line: bytes, after: int) -> SourceDocument:
    size = len(line)
    if size > MAX_LINE_BYTES:
        return SourceDocument(position, None, None, after, size, line[:200].decode("utf-8", "replace"),
                              f"record of {size} bytes exceeds {MAX_LINE_BYTES}")
    try:
        record = _parse(line)
    except (ValueError, RecursionError) as error:
        return SourceDocument(position, None, None, after, size, line.rstrip(b"\r\n").decode("utf-8", "replace"),
                              f"not JSON: {str(error)[:200]}")
    if not isinstance(record, dict) or not isinstance(record.get("path"), str) or "data" not in record:
        return SourceDocument(position, None, None, after, size, line.rstrip(b"\r\n").decode("utf-8", "replace"),
                              'not a {"path": string, "data": object} record')
    return SourceDocument(position, record["path"], record["data"], after, size)


class JsonLinesFile:
    """One document per line; blank lines are skipped (not counted). Resumes by byte offset."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.identity = "jsonl-" + file_identity(path)
        self._size = max(path.stat().st_size, 1)

    def documents(self, resume: Checkpoint | None) -> Iterator[SourceDocument]:
        position = resume.done if resume else 0
        offset = int(resume.after) if resume else 0
        with self.path.open("rb") as file:
            file.seek(offset)
            for line in file:
                offset += len(line)
                if line.strip():
                    yield _record(position, line, offset)
                    position += 1

    def fraction_done(self, document: SourceDocument) -> float | None:
        return document.after / self._size


def _walk(collections: Any, prefix: str) -> Iterator[tuple[str | None, Any, str | None]]:
    """(path, data, error) of every document under a ``__collections__`` map, depth first in file order."""
    if not isinstance(collections, dict):
        yield None, collections, f"__collections__ under {prefix or 'the top'} is not an object"
        return
    for collection, documents in collections.items():
        if not isinstance(documents, dict):
            yield None, documents, f"collection {prefix}{collection} is not an object of documents"
            continue
        for doc_id, data in documents.items():
            path = f"{prefix}{collection}/{doc_id}"
            if not isinstance(data, dict):
                yield path, data, "document is not an object"
                continue
            children = data.get("__collections__")
            yield path, {k: v for k, v in data.items() if k != "__collections__"}, None
            if children is not None:
                yield from _walk(children, path + "/")


class NestedExportFile:
    """The nested export JSON, read whole (use JSON Lines for exports that do not fit in memory). Resumes by
    skipping the documents already done, in the same depth-first order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.identity = "export-" + file_identity(path)
        self._count: int | None = None

    def documents(self, resume: Checkpoint | None) -> Iterator[SourceDocument]:
        tree = json.loads(self.path.read_bytes())
        if not isinstance(tree, dict) or "__collections__" not in tree:
            raise ValueError(f"{self.path}: not a nested export (no top-level __collections__)")
        records = list(_walk(tree["__collections__"], ""))
        self._count = max(len(records), 1)
        start = resume.done if resume else 0
        for position in range(start, len(records)):
            path, data, error = records[position]
            raw = json.dumps(data, default=str)[:10_000] if error else None
            yield SourceDocument(position, path, None if error else data, None, None, raw, error)

    def fraction_done(self, document: SourceDocument) -> float | None:
        return (document.position + 1) / self._count if self._count else None


def open_export(path: Path) -> JsonLinesFile | NestedExportFile:
    """The source for an export file: nested JSON when it starts with ``{"__collections__"``, else JSON Lines."""
    with path.open("rb") as file:
        head = file.read(4096).lstrip()
    if head.startswith(b"{") and head[1:].lstrip().startswith(b'"__collections__"'):
        return NestedExportFile(path)
    return JsonLinesFile(path)
