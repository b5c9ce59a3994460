"""Fixtures of the properties: schedulers of 2 and 3 sessions, opened once per test, on its fresh database."""
from collections.abc import Iterator

import pytest

from leadboost_schema.testing.interleaving import Scheduler


@pytest.fixture
def two_sessions(leadboost_dsn: str) -> Iterator[Scheduler]:
    with Scheduler(leadboost_dsn, sessions=2) as scheduler:
        yield scheduler


@pytest.fixture
def three_sessions(leadboost_dsn: str) -> Iterator[Scheduler]:
    with Scheduler(leadboost_dsn, sessions=3) as scheduler:
        yield scheduler
