"""Hypothesis settings shared by the properties; example counts come from the loaded profile."""
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

# Function-scoped fixtures (the database, the scheduler's sessions) are opened once per test on purpose:
# every example isolates itself with a fresh tenant.
PROPERTY = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

# Pointing a property at a broken variant: search until the first counterexample, shrink it, report that one
# only, the same one every run.
BROKEN_SEARCH = settings(PROPERTY, max_examples=500, derandomize=True, database=None, deadline=None,
                         report_multiple_bugs=False, phases=(Phase.generate, Phase.shrink))


def find_counterexample(check: Callable[[Any], None], match: str) -> AssertionError:
    """Run ``check(data)`` as a Hypothesis property under BROKEN_SEARCH; assert it fails with a message matching
    ``match`` and return the (shrunk) failure."""
    @BROKEN_SEARCH
    @given(data=st.data())
    def search(data):
        check(data)

    with pytest.raises(AssertionError, match=match) as failure:
        search()
    return failure.value
