"""Reading and mapping an export file in a child process, beside the writer: parsing JSON and mapping documents is
most of the backfill's Python work, and in a thread it shares the writer's GIL (one core for both); in its own
process it takes the other core while the writer and the server work on the previous chunk.

The child is ``python -m leadboost_schema.backfill.reader_process`` (not multiprocessing: its spawn would run the
CLI's ``__main__`` again). It reads its job (source, DSN, mapping options, checkpoint, chunk size) pickled on stdin,
and writes each chunk to stdout as a length-prefixed pickle of its rows as they are (``MappedRow``, a tuple of four
strings: a dataclass, or a list of column values, per row would cost the writer more to unpickle than the row costs
to write); the chunk's documents (which the quarantine needs only for a row the database refuses) travel as their
lines' lengths, to be read again from a JSON Lines file, or as one pickle of their own, unpickled only if asked for.
It asks ``iam.tenants`` over its own connection. When the parent dies (even by SIGKILL) its next write fails with a
broken pipe and it exits; when the parent stops early it kills the child.
"""
from __future__ import annotations

import collections.abc
import os
import pickle
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from leadboost_schema.backfill.documents import Checkpoint, Source, SourceDocument
from leadboost_schema.backfill.export_files import JsonLinesFile
from leadboost_schema.backfill.export_files import _record as record_of_line
from leadboost_schema.backfill.mapping import load_mapping
from leadboost_schema.backfill.reading import Chunk, TenantLookup, chunks

HEADER = struct.Struct("!Q")
READS_IN_PROCESS = ("JsonLinesFile", "NestedExportFile")
MIN_FILE_BYTES = 8 << 20  # below this the child's start (~0.3 s) costs more than it saves


def wanted(source: Source, choice: str) -> bool:
    """Whether to read ``source`` in a child: ``choice`` "process", or "auto" for an export file of 8 MiB or more."""
    if choice == "thread" or type(source).__name__ not in READS_IN_PROCESS:
        return False
    return choice == "process" or Path(source.path).stat().st_size >= MIN_FILE_BYTES


class PackedDocuments(collections.abc.Mapping):
    """position → SourceDocument, from one pickle of the chunk's documents, unpickled when one is first asked for
    (the quarantine needs a document the database refused: seldom)."""

    def __init__(self, positions: list[int], packed: bytes) -> None:
        self._positions, self._packed, self._documents = positions, packed, None

    def __getitem__(self, position: int) -> SourceDocument:
        if self._documents is None:
            self._documents = pickle.loads(self._packed)
        path, data, after, size = self._documents[position]
        return SourceDocument(position, path, data, after, size)

    def __iter__(self) -> Iterator[int]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)


class LinesOfFile(collections.abc.Mapping):
    """position → SourceDocument of a JSON Lines file, read again from the file when one is asked for (the
    quarantine needs a document the database refused: seldom), so the reader sends only each line's length (the
    line ends at its ``after`` offset). A file changed since the run read it (``JsonLinesFile.identity``: path, size,
    mtime) gives the document an error naming that, not another line's data."""

    def __init__(self, source: JsonLinesFile, positions: list[int], afters: dict[int, int], sizes: list[int]) -> None:
        self._source, self._positions, self._afters, self._sizes = source, positions, afters, sizes
        self._at: dict[int, int] | None = None

    def __getitem__(self, position: int) -> SourceDocument:
        if self._at is None:
            self._at = {p: n for n, p in enumerate(self._positions)}
        after, size = self._afters[position], self._sizes[self._at[position]]
        if JsonLinesFile(self._source.path).identity != self._source.identity:
            return SourceDocument(position, None, None, after, size, None,
                                  "the export file changed during the run: its line was not read again")
        with open(self._source.path, "rb") as file:
            file.seek(after - size)
            return record_of_line(position, file.read(size), after)

    def __iter__(self) -> Iterator[int]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)


def pack(chunk: Chunk, source: Source) -> tuple:
    """The chunk as plain data; its rows as they are ((position, MappedRow) pairs: unpickled straight into the
    tuples the writer uses, with no object to rebuild per row); its documents as their lines' lengths (JSON Lines:
    ``LinesOfFile``) or one pickle (``PackedDocuments``)."""
    if isinstance(source, JsonLinesFile):
        documents = ("lines", [d.size for d in chunk.documents.values()])
    else:
        documents = ("pickle", pickle.dumps({position: (d.path, d.data, d.after, d.size)
                                             for position, d in chunk.documents.items()}, protocol=5))
    return (chunk.rows, chunk.rejected, list(chunk.documents), documents, chunk.afters, chunk.checkpoint.done,
            chunk.checkpoint.after, chunk.read, chunk.fraction)


def unpack(packed: tuple, source: Source) -> Chunk:
    rows, rejected, positions, (kind, documents), afters, done, after, read, fraction = packed
    documents = (LinesOfFile(source, positions, afters, documents) if kind == "lines"
                 else PackedDocuments(positions, documents))
    return Chunk(rows, rejected, documents, afters, Checkpoint(done, after), read, fraction)


def _read_exactly(stream: Any, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise RuntimeError("the backfill's reader process ended without a word (see its stderr)")
    return data


def read_in_process(source: Source, dsn: str, mapping_options: tuple, resume: Checkpoint | None,
                    size: int) -> Iterator[Chunk]:
    """The chunks of ``source`` (as ``run.chunks`` makes them) read and mapped by a child process."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             env=env)
    try:
        child.stdin.write(pickle.dumps((source, dsn, mapping_options, resume, size), protocol=5))
        child.stdin.close()
        while True:
            (length,) = HEADER.unpack(_read_exactly(child.stdout, HEADER.size))
            kind, payload = pickle.loads(_read_exactly(child.stdout, length))
            if kind == "done":
                return
            if kind == "error":
                raise payload
            yield unpack(payload, source)
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


def _send(out: Any, message: tuple) -> None:
    data = pickle.dumps(message, protocol=5)
    out.write(HEADER.pack(len(data)))
    out.write(data)
    out.flush()


def main() -> None:
    source, dsn, (mapping, tenant, tenant_from), resume, size = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer
    try:
        lookup = TenantLookup(dsn)
        with lookup.conn:
            for chunk in chunks(source, load_mapping(mapping, lookup, tenant, tenant_from), resume, size):
                _send(out, ("chunk", pack(chunk, source)))
        _send(out, ("done", None))
    except BrokenPipeError:  # the parent is gone
        os._exit(0)
    except BaseException as error:  # noqa: BLE001 - raised again in the parent
        try:
            pickle.dumps(error)
        except Exception:  # noqa: BLE001 - an error that does not pickle travels as its text
            error = RuntimeError(f"{type(error).__name__}: {error}")
        _send(out, ("error", error))


if __name__ == "__main__":
    main()
