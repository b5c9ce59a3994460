"""An event stream and its fold, as the specification: state = the events' payloads merged in order."""
from __future__ import annotations


def apply(state: dict, payload: dict) -> dict:
    """One event: later keys win, a key set to None (JSON null) is removed."""
    merged = {**state, **payload}
    return {key: value for key, value in merged.items() if value is not None}


class Stream:
    """Events in version order 1, 2, 3, … without gaps; an append must name the version it extends."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    @property
    def version(self) -> int:
        return len(self.events)

    def append(self, payload: dict, expected_version: int) -> int | None:
        """The new version, or None when the caller's expected version is not the current one."""
        if expected_version != self.version:
            return None
        self.events.append(payload)
        return self.version

    def state(self, version: int | None = None) -> dict:
        """Replay from the first event: the reference every snapshot and rehydration must equal."""
        state: dict = {}
        for payload in self.events[:self.version if version is None else version]:
            state = apply(state, payload)
        return state


def snapshots_kept(versions: set[int], keep: int) -> set[int]:
    """What cleanup leaves of a stream's snapshots: the ``keep`` latest (highest versions), every one if fewer."""
    return set(sorted(versions, reverse=True)[:keep])
