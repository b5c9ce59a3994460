"""Hypothesis settings shared by the properties; example counts come from the loaded profile."""
from hypothesis import HealthCheck, Phase, settings

# Function-scoped fixtures (the database, the scheduler's sessions) are opened once per test on purpose:
# every example isolates itself with a fresh tenant.
PROPERTY = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

# Pointing a property at a broken variant: search until the first counterexample, shrink it, report that one
# only, the same one every run.
BROKEN_SEARCH = settings(PROPERTY, max_examples=300, derandomize=True, database=None, deadline=None,
                         report_multiple_bugs=False, phases=(Phase.generate, Phase.shrink))
