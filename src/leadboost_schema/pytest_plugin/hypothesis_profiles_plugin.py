"""pytest plugin choosing the Hypothesis profile (default / ci / nightly) and printing it in the header."""
from __future__ import annotations

import pytest

from leadboost_schema.testing.hypothesis_profiles import (
    DEFAULT_PROFILE,
    PROFILE_ENV,
    PROFILES,
    describe,
    load_profile,
    profile_from_env,
)

_CHOSEN = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("leadboost").addoption(
        "--leadboost-hypothesis-profile", dest="leadboost_hypothesis_profile", default=None,
        choices=list(PROFILES),
        help=f"Hypothesis profile for the properties (env {PROFILE_ENV}; default {DEFAULT_PROFILE})")


@pytest.hookimpl(tryfirst=True)  # before Hypothesis' own plugin derives its verbosity profile from ours
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("hypothesis_profile", None):
        return  # the user picked a profile of their own with Hypothesis' option: it wins
    name = config.getoption("leadboost_hypothesis_profile") or profile_from_env()
    try:
        load_profile(name)
    except ValueError as error:
        raise pytest.UsageError(f"{error} (from {PROFILE_ENV})") from None
    config.stash[_CHOSEN] = name


def pytest_report_header(config: pytest.Config) -> str:
    from hypothesis import settings

    name = config.stash.get(_CHOSEN, None)
    if name is None:
        return "leadboost-schema: hypothesis profile left to --hypothesis-profile"
    return f"leadboost-schema: hypothesis profile {name} ({describe(settings.default)})"
