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
