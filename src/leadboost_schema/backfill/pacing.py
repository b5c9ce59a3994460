"""Off peak: a daily time window the run may work in, and a rows-per-second ceiling."""
from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """``22:00-06:00``: minutes of the day (UTC) when work may happen; the end is exclusive, it may wrap midnight."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> Window:
        found = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", text.strip())
        if not found:
            raise ValueError(f"window {text!r}: write HH:MM-HH:MM (UTC), e.g. 22:00-06:00")
        h1, m1, h2, m2 = map(int, found.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f"window {text!r}: not a time of day")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start == end:
            raise ValueError(f"window {text!r}: empty (start = end)")
        return cls(start, end)

    def contains(self, moment: dt.datetime) -> bool:
        minute = moment.hour * 60 + moment.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def seconds_until_open(self, moment: dt.datetime) -> float:
        """0 inside the window, else the seconds until it opens."""
        if self.contains(moment):
            return 0.0
        minute = moment.hour * 60 + moment.minute
        wait_minutes = (self.start - minute) % (24 * 60)
        return wait_minutes * 60 - moment.second - moment.microsecond / 1e6


class Pacer:
    """Called after each chunk: sleeps while outside the window, and long enough to keep rows/s under the limit.
    ``now``/``sleep``/``clock`` are injectable so tests drive time."""

    def __init__(self, window: Window | None, rows_per_second: float | None,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 on_pause: Callable[[float], None] | None = None) -> None:
        if rows_per_second is not None and rows_per_second <= 0:
            raise ValueError("the rate limit must be positive")
        self.window, self.rate = window, rows_per_second
        self.now, self.sleep, self.clock = now, sleep, clock
        self.on_pause = on_pause or (lambda seconds: None)
        self._started = clock()
        self._rows = 0
        self.paused_seconds = 0.0

    def wait_for_window(self) -> None:
        """Block until the window is open (at most until it opens; re-checked in slices of at most 5 minutes)."""
        while self.window is not None:
            wait = self.window.seconds_until_open(self.now())
            if wait <= 0:
                return
            self.on_pause(wait)
            step = min(wait, 300.0)
            self.sleep(step)
            self.paused_seconds += step
            self._restart()

    def _restart(self) -> None:
        self._started, self._rows = self.clock(), 0

    def done(self, rows: int) -> None:
        """``rows`` more were written: sleep if that is ahead of the rate, then wait for the window."""
        self._rows += rows
        if self.rate is not None:
            ahead = self._rows / self.rate - (self.clock() - self._started)
            if ahead > 0:
                self.sleep(ahead)
        self.wait_for_window()
