"""A saga and its compensation, as the specification."""
from __future__ import annotations

# The saga states a report may move between; COMPLETED and FAILED are final.
ALLOWED = {("RUNNING", "RUNNING"), ("RUNNING", "COMPLETED"), ("RUNNING", "COMPENSATING"), ("RUNNING", "FAILED"),
           ("COMPENSATING", "COMPENSATING"), ("COMPENSATING", "FAILED")}
STATES = ("RUNNING", "COMPENSATING", "COMPLETED", "FAILED")
# The step statuses a report may move between; FAILED and COMPENSATED are final, and nothing stays put.
STEP_ALLOWED = {("PENDING", "SUCCEEDED"), ("PENDING", "FAILED"), ("SUCCEEDED", "COMPENSATED")}
STEP_STATUSES = ("PENDING", "SUCCEEDED", "FAILED", "COMPENSATED")


class Refused(Exception):
    """A report the coordinator refuses outright; the argument is the SQLSTATE."""


class Saga:
    """Steps 1..n run in order. When step k fails, steps k-1..1 are compensated, in that order, once each.
    The first report for a step wins; repeated or late reports change nothing (``applied`` is False)."""

    def __init__(self, steps: int) -> None:
        self.state = "RUNNING"
        self.status = {k: "PENDING" for k in range(1, steps + 1)}

    def next_step(self) -> int | None:
        pending = [k for k, s in self.status.items() if s == "PENDING"]
        return min(pending) if self.state == "RUNNING" and pending else None

    def next_compensation(self) -> int | None:
        succeeded = [k for k, s in self.status.items() if s == "SUCCEEDED"]
        return max(succeeded) if self.state == "COMPENSATING" and succeeded else None

    def report(self, kind: str, k: int) -> bool:
        """Apply a report (``success``, ``failure`` or ``compensated`` of step k); True when it changed something."""
        if kind == "compensated":
            if self.status[k] == "COMPENSATED":
                return False
            if self.state != "COMPENSATING" or self.status[k] != "SUCCEEDED":
                raise Refused("LB506")
            if self.next_compensation() != k:
                raise Refused("LB507")
            self.status[k] = "COMPENSATED"
            self.state = "FAILED" if k == 1 else "COMPENSATING"
            return True
        if self.state != "RUNNING" or self.status[k] != "PENDING":
            return False
        if any(self.status[j] != "SUCCEEDED" for j in range(1, k)):
            raise Refused("LB504")
        if kind == "success":
            self.status[k] = "SUCCEEDED"
            self.state = "COMPLETED" if k == len(self.status) else "RUNNING"
        else:
            self.status[k] = "FAILED"
            self.state = "COMPENSATING" if k > 1 else "FAILED"
        return True
