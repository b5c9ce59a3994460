"""The quarantine: a JSON Lines file of the documents a run could not load, one line each, with the reason.

A line is ``{"run", "position", "path", "table", "reason", "document"}`` (``document`` is the data as read, or the
raw text of a record that was not JSON). Lines of a chunk are written and fsynced before the chunk commits; when a
run resumes, its lines at or after the checkpoint are dropped first (that part is read again), so every bad
document of a run is in the file exactly once, however often the run was interrupted.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def _entry_key(line: str) -> tuple[str | None, int]:
    try:
        entry = json.loads(line)
        return entry.get("run"), int(entry.get("position", -1))
    except (ValueError, TypeError, AttributeError):
        return None, -1


class Quarantine:
    """Appends a run's bad documents to ``path``; ``count`` is how many this process added."""

    def __init__(self, path: Path, run_id: str, resume_at: int) -> None:
        self.path, self.run_id, self.count = path, run_id, 0
        self._unsynced = False
        if path.exists():
            self._drop_from(resume_at)
        self._file = path.open("a", encoding="utf-8")

    def _drop_from(self, position: int) -> None:
        kept = []
        with self.path.open(encoding="utf-8") as file:
            for line in file:
                run, at = _entry_key(line)
                if line.endswith("\n") and (run != self.run_id or at < position):
                    kept.append(line)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with temporary.open("w", encoding="utf-8") as file:
            file.writelines(kept)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)

    def add(self, position: int, path: str | None, table: str | None, reason: str, document: Any) -> None:
        entry = {"run": self.run_id, "position": position, "path": path, "table": table, "reason": reason,
                 "document": document}
        self._file.write(json.dumps(entry, default=str) + "\n")
        self.count += 1
        self._unsynced = True

    def sync(self) -> None:
        """Make the lines written so far durable (called before each chunk commits)."""
        if self._unsynced:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._unsynced = False

    def close(self) -> None:
        self.sync()
        self._file.close()


def read_quarantine(path: Path) -> list[dict[str, Any]]:
    """Every entry of a quarantine file."""
    with path.open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]
