"""Errors that explain themselves: why a backend could not give a server, and the one message when none could."""
from __future__ import annotations


class BackendUnavailable(RuntimeError):
    """One backend could not give a server: ``reason`` says why, ``fix`` says what the user can do."""

    def __init__(self, reason: str, fix: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


class NoServerError(RuntimeError):
    """No backend could give a server; the message lists every backend tried, why it failed and how to fix it."""

    def __init__(self, failures: list[tuple[str, BackendUnavailable]]) -> None:
        lines = ["leadboost-schema could not get a PostgreSQL server. Tried, in order:"]
        for backend, failure in failures:
            line = f"  - {backend}: {failure.reason}"
            if failure.fix:
                line += f" -> fix: {failure.fix}"
            lines.append(line)
        lines.append("Or pick a backend with --leadboost-backend / LEADBOOST_BACKEND (see docs/plugin.md).")
        super().__init__("\n".join(lines))
        self.failures = failures
