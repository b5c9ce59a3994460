"""Progress of a run on stderr: a live line on a terminal (documents, loaded, quarantined, rate, ETA), a plain
line every ``interval`` seconds otherwise (logs, CI)."""
from __future__ import annotations

import sys
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    def __init__(self, stream: TextIO | None = None, tty: bool | None = None, interval: float = 10.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.interval = interval if not self.tty else 0.2
        self.started = time.monotonic()
        self._last = 0.0
        self._drawn = False

    def line(self, read: int, loaded: int, quarantined: int, fraction: float | None) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = read / elapsed
        text = f"{read:,} documents, {loaded:,} loaded, {quarantined:,} quarantined, {rate:,.0f}/s"
        if fraction:
            text += f", {fraction:.0%}, ETA {_duration(elapsed * (1 - fraction) / fraction)}"
        return text

    def update(self, read: int, loaded: int, quarantined: int, fraction: float | None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        text = self.line(read, loaded, quarantined, fraction)
        if self.tty:
            self.stream.write(f"\r\x1b[2Kbackfill: {text}")
            self._drawn = True
        else:
            self.stream.write(f"backfill: {text}\n")
        self.stream.flush()

    def note(self, message: str) -> None:
        """A message on its own line (e.g. pausing outside the window)."""
        if self._drawn:
            self.stream.write("\n")
            self._drawn = False
        self.stream.write(f"backfill: {message}\n")
        self.stream.flush()

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self._drawn = False
        self.stream.flush()
