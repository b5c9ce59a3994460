"""Spend and rate caps over fixed time windows, as the specification. Time is whole seconds."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass
class Cap:
    """A SPEND_LIMIT (sum of amounts) or RATE_LIMIT (number of calls) per window of ``window`` seconds."""

    kind: str
    limit: Decimal
    window: int
    started: int | None = None
    consumed: Decimal = Decimal(0)

    def used(self, now: int) -> Decimal:
        """What the window containing ``now`` has consumed (a window that ended counts as empty)."""
        return self.consumed if self.started is not None and now < self.started + self.window else Decimal(0)

    def cost(self, amount: Decimal) -> Decimal:
        return amount if self.kind == "SPEND_LIMIT" else Decimal(1)


class Policies:
    """Caps checked in priority order: the first one the action would exceed denies it and nothing changes;
    otherwise every cap consumes the action (a cap whose window ended starts a new one at ``now``)."""

    def __init__(self, caps: list[Cap]) -> None:
        self.caps = caps

    def validate(self, amount: Decimal, now: int) -> tuple[bool, str]:
        for cap in self.caps:
            if cap.used(now) + cap.cost(amount) > cap.limit:
                return False, f"{cap.kind}_EXCEEDED"
        for cap in self.caps:
            if cap.started is None or now >= cap.started + cap.window:
                cap.started, cap.consumed = now, Decimal(0)
            cap.consumed += cap.cost(amount)
        return True, "ALLOWED"


def in_force(valid_from: int, valid_until: int | None, now: int) -> bool:
    """A policy applies at ``now`` within [valid_from, valid_until): the start inclusive, the end exclusive."""
    return valid_from <= now and (valid_until is None or now < valid_until)


@dataclass
class Breaker:
    """A circuit breaker: CLOSED lets every call through and counts consecutive failures; at ``threshold`` of
    them it is OPEN (denies) for ``cooldown`` seconds; then ONE probe is let through (HALF_OPEN, the others are
    denied) and its outcome closes it (success) or opens it again (failure); a probe whose outcome never
    arrives lets another one through after another cooldown. Outcomes reported while OPEN change nothing."""

    threshold: int
    cooldown: int
    state: str = "CLOSED"
    failures: int = 0
    changed: int | None = None

    def validate(self, now: int) -> tuple[bool, str]:
        """``(allowed, reason)`` of a call at ``now``; letting a probe through makes the breaker HALF_OPEN."""
        if self.state == "CLOSED":
            return True, "ALLOWED"
        if now >= self.changed + self.cooldown:
            self.state, self.changed = "HALF_OPEN", now
            return True, "ALLOWED"
        return False, "CIRCUIT_OPEN" if self.state == "OPEN" else "CIRCUIT_HALF_OPEN"

    def record(self, succeeded: bool, now: int) -> None:
        if self.state == "OPEN":
            return
        if succeeded:
            if self.state == "HALF_OPEN":
                self.state, self.changed = "CLOSED", now
            self.failures = 0
            return
        self.failures += 1
        if self.state == "HALF_OPEN" or self.failures >= self.threshold:
            self.state, self.changed = "OPEN", now
