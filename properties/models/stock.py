"""An inventory item under optimistic locking, as the specification."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Item:
    """Quantities and version of one item; every change bumps the version by one."""

    on_hand: int
    reserved: int
    version: int = 1

    def change(self, kind: str, quantity: int, expected_version: int) -> tuple[bool, str]:
        """Reserve or release ``quantity`` if the caller saw the current version and 0 <= reserved <= on hand
        holds after; otherwise change nothing and say why."""
        if expected_version != self.version:
            return False, "STALE_VERSION"
        reserved = self.reserved + (quantity if kind == "reserve" else -quantity)
        if not 0 <= reserved <= self.on_hand:
            return False, "INSUFFICIENT_STOCK" if kind == "reserve" else "INSUFFICIENT_RESERVED"
        self.reserved, self.version = reserved, self.version + 1
        return True, "OK"
