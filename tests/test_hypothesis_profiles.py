"""The Hypothesis-profile plugin, run as users run it: option, environment variable, header, refusals."""
import pytest

PROBE = """
from hypothesis import settings

def test_probe():
    current = settings.default
    print("PROBE", current.max_examples, current.derandomize, current.database is None, current.deadline)
"""
# The server plugin is not needed to choose a profile: keep these inner runs quick.
NO_SERVER = ("-p", "no:leadboost_schema", "-p", "no:cacheprovider", "-s")


@pytest.fixture
def probe(pytester, monkeypatch):
    # Hypothesis makes its own "ci" settings the parent of every profile when it sees CI (or TF_BUILD) set, as
    # it is in our CI: these runs check our profiles' own values, so they run as on a developer's machine.
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("TF_BUILD", raising=False)
    pytester.makepyfile(test_probe=PROBE)
    return pytester


def run(pytester, *args):
    result = pytester.runpytest_subprocess(*NO_SERVER, *args)
    assert result.ret == 0, result.stdout.str()
    return result


def test_the_default_profile_is_quick_and_printed_in_the_header(probe, monkeypatch):
    monkeypatch.delenv("LEADBOOST_HYPOTHESIS_PROFILE", raising=False)
    result = run(probe)
    result.stdout.fnmatch_lines(["leadboost-schema: hypothesis profile default (max_examples=40, *",
                                 "*PROBE 40 False False None"])


def test_the_environment_variable_chooses_ci(probe, monkeypatch):
    monkeypatch.setenv("LEADBOOST_HYPOTHESIS_PROFILE", "ci")
    result = run(probe)
    result.stdout.fnmatch_lines(["leadboost-schema: hypothesis profile ci (*derandomize=True, database=none*",
                                 "*PROBE 150 True True None"])


def test_the_option_wins_over_the_environment(probe, monkeypatch):
    monkeypatch.setenv("LEADBOOST_HYPOTHESIS_PROFILE", "ci")
    result = run(probe, "--leadboost-hypothesis-profile=nightly")
    result.stdout.fnmatch_lines(["leadboost-schema: hypothesis profile nightly *", "*PROBE 2000 False True None"])


def test_hypothesis_own_profile_option_is_respected(probe):
    probe.makeconftest("from hypothesis import settings\n"
                       "settings.register_profile('mine', max_examples=7)\n")
    result = run(probe, "--hypothesis-profile=mine")
    result.stdout.fnmatch_lines(["leadboost-schema: hypothesis profile left to --hypothesis-profile",
                                 "*PROBE 7 *"])


def test_an_unknown_profile_is_refused_in_one_line(probe, monkeypatch):
    monkeypatch.setenv("LEADBOOST_HYPOTHESIS_PROFILE", "weekly")
    result = probe.runpytest_subprocess(*NO_SERVER)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    refusal = "*unknown Hypothesis profile 'weekly': choose one of default, ci, nightly (from LEADBOOST_*"
    result.stderr.fnmatch_lines([refusal])
