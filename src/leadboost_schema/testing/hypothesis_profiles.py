"""Hypothesis settings profiles for database properties: ``default`` (quick, local), ``ci``, ``nightly``.

Registered in Hypothesis as ``leadboost-<name>`` so they never replace a project's own ``default`` or ``ci``
profile. Every profile has ``deadline=None``: a database example's time depends on the server and the load,
not on the code under test. Nothing is loaded unless asked: ``--leadboost-hypothesis-profile``, ini
``leadboost_hypothesis_profile`` or ``LEADBOOST_HYPOTHESIS_PROFILE`` (see
``pytest_plugin.hypothesis_profiles_plugin``), ``--hypothesis-profile=leadboost-ci``, or from a conftest/script::

    from leadboost_schema.testing.hypothesis_profiles import load_profile
    load_profile("ci")
"""
from __future__ import annotations

import os

from hypothesis import settings

PROFILE_ENV = "LEADBOOST_HYPOTHESIS_PROFILE"
DEFAULT_PROFILE = "default"

PROFILES: dict[str, settings] = {
    # Quick feedback while editing: the properties/ suite in about a minute on 2 cores.
    "default": settings(max_examples=40, stateful_step_count=20, deadline=None),
    # Reproducible gate: the same examples every run, nothing carried over from earlier runs.
    "ci": settings(max_examples=150, stateful_step_count=30, deadline=None, derandomize=True, database=None,
                   print_blob=True),
    # Long random search; a failure prints the blob that replays it.
    "nightly": settings(max_examples=2000, stateful_step_count=60, deadline=None, database=None,
                        print_blob=True),
}


def hypothesis_name(profile: str) -> str:
    """The name a leadboost profile is registered under in Hypothesis."""
    return f"leadboost-{profile}"


def register_profiles() -> None:
    for name, profile in PROFILES.items():
        settings.register_profile(hypothesis_name(name), profile)


def current_profile_name() -> str | None:
    """The name of the profile Hypothesis has loaded (None on a Hypothesis too old to say)."""
    getter = getattr(settings, "get_current_profile_name", None)
    return getter() if getter else getattr(settings, "_current_profile", None)


def profile_from_env(default: str = DEFAULT_PROFILE) -> str:
    return os.environ.get(PROFILE_ENV) or default


def load_profile(name: str) -> settings:
    """Register the profiles and make ``name`` the current Hypothesis settings; unknown names are refused."""
    if name not in PROFILES:
        raise ValueError(f"unknown Hypothesis profile {name!r}: choose one of {', '.join(PROFILES)}")
    register_profiles()
    settings.load_profile(hypothesis_name(name))
    return settings.default


def describe(profile: settings) -> str:
    """One line for a report header: the settings that change how much a run searches."""
    return (f"max_examples={profile.max_examples}, stateful_step_count={profile.stateful_step_count}, "
            f"derandomize={profile.derandomize}, database={'none' if profile.database is None else 'on'}, "
            f"deadline={profile.deadline}")
