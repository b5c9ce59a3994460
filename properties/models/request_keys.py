"""Idempotency keys (exactly-once request handling), as the specification. Time is whole seconds."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Key:
    payload: object
    status: str  # PROCESSING, COMPLETED or FAILED
    token: object
    lease_expires: int
    expires: int
    attempts: int = 1
    response: object = None


class RequestKeys:
    """Keys by name. One live claim at a time; a finished key answers with its stored response."""

    def __init__(self, lease: int, ttl: int) -> None:
        self.lease, self.ttl = lease, ttl
        self.keys: dict[str, Key] = {}

    def claim(self, name: str, payload: object, now: int, token: object, lease: int | None = None,
              ttl: int | None = None) -> tuple[str, int]:
        """``(outcome, attempts)``; ``token`` is the new claim's token when the caller gets to process. ``lease``
        and ``ttl`` are this caller's (default: the model's); a key in progress is judged by its HOLDER's lease."""
        lease = self.lease if lease is None else lease
        ttl = self.ttl if ttl is None else ttl
        key = self.keys.get(name)
        if key is None or key.expires <= now:  # new, or forgotten after its TTL
            self.keys[name] = Key(payload, "PROCESSING", token, now + lease, now + ttl)
            return "CLAIMED", 1
        if key.payload != payload:
            return "PAYLOAD_MISMATCH", key.attempts
        if key.status == "COMPLETED":
            return "COMPLETED", key.attempts
        if key.status == "PROCESSING" and key.lease_expires > now:
            return "IN_PROGRESS", key.attempts
        # FAILED, or PROCESSING whose worker let the lease run out: the caller takes it over.
        key.status, key.token, key.lease_expires = "PROCESSING", token, now + lease
        key.attempts += 1
        return "RECLAIMED", key.attempts

    def finish(self, name: str, token: object, status: str, response: object = None) -> str:
        """Complete or fail the claim holding ``token``: ``OK``, or why not (the SQLSTATE)."""
        key = self.keys.get(name)
        if key is None:
            return "LB402"
        if key.token != token:
            return "LB403"
        if key.status == status and (status == "FAILED" or key.response == response):
            return "OK"  # the same report again
        if key.status != "PROCESSING":
            return "LB403"
        key.status, key.response = status, response
        return "OK"

    def cleanup(self, now: int) -> int:
        """Forget keys past their TTL, except a PROCESSING key whose lease is still live."""
        gone = [name for name, key in self.keys.items()
                if key.expires <= now and not (key.status == "PROCESSING" and key.lease_expires > now)]
        for name in gone:
            del self.keys[name]
        return len(gone)
