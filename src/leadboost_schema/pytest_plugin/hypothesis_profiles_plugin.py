"""pytest plugin registering the Hypothesis profiles (default / ci / nightly as ``leadboost-<name>``) and loading
one only when asked: ``--leadboost-hypothesis-profile`` > ini ``leadboost_hypothesis_profile`` >
``LEADBOOST_HYPOTHESIS_PROFILE``. A profile the project loaded itself (in its conftest) is never replaced by the
environment variable, and Hypothesis' own ``--hypothesis-profile`` always wins. The header says which is in force."""
from __future__ import annotations

import os

import pytest

from leadboost_schema.testing.hypothesis_profiles import (
    DEFAULT_PROFILE,
    PROFILE_ENV,
    PROFILES,
    current_profile_name,
    describe,
    load_profile,
    register_profiles,
)

PROFILE_INI = "leadboost_hypothesis_profile"
_HEADER = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("leadboost").addoption(
        "--leadboost-hypothesis-profile", dest="leadboost_hypothesis_profile", default=None,
        choices=list(PROFILES),
        help=f"load this Hypothesis profile (ini {PROFILE_INI}, env {PROFILE_ENV}; default: none is loaded, "
             f"the properties of this package use {DEFAULT_PROFILE})")
    parser.addini(PROFILE_INI, help="Hypothesis profile to load: default, ci or nightly", default="")


def _users_profile() -> str | None:
    """The profile the project loaded itself before us (its conftest), or None when Hypothesis' own is in force."""
    name = current_profile_name()
    if name is None or name == "default" or name.startswith("leadboost-"):
        return None
    if name == "ci" and (os.environ.get("CI") or os.environ.get("TF_BUILD")):
        return None  # Hypothesis chose its own "ci" profile because it saw a CI machine
    return name


@pytest.hookimpl(tryfirst=True)  # before Hypothesis' own plugin derives its verbosity profile from ours
def pytest_configure(config: pytest.Config) -> None:
    register_profiles()  # always: `--hypothesis-profile=leadboost-ci` works too
    if config.getoption("hypothesis_profile", None):
        config.stash[_HEADER] = "hypothesis profile left to --hypothesis-profile"
        return
    asked = [(value, source) for value, source in (
        (config.getoption("leadboost_hypothesis_profile"), "--leadboost-hypothesis-profile"),
        (config.getini(PROFILE_INI), f"ini {PROFILE_INI}"),
        (os.environ.get(PROFILE_ENV), PROFILE_ENV)) if value]
    if not asked:
        config.stash[_HEADER] = f"hypothesis profile {current_profile_name()!r} (the plugin loads one only when asked)"
        return
    name, source = asked[0]
    users = _users_profile()
    if users is not None and source == PROFILE_ENV:
        config.stash[_HEADER] = f"hypothesis profile {users!r} the project loaded is kept ({PROFILE_ENV}={name} " \
                                "not applied)"
        return
    try:
        load_profile(name)
    except ValueError as error:
        raise pytest.UsageError(f"{error} (from {source})") from None
    config.stash[_HEADER] = f"hypothesis profile {name}"


def pytest_report_header(config: pytest.Config) -> str:
    from hypothesis import settings

    return f"leadboost-schema: {config.stash.get(_HEADER, 'hypothesis profile unknown')} " \
           f"({describe(settings.default)})"
