"""The Hypothesis-profile plugin, run as users run it: profiles registered, loaded only when asked (option, ini,
environment variable), never over the project's own profile; header and refusals."""
import pytest

PROBE = """
from hypothesis import settings

def test_probe():
    current = settings.default
    print("PROBE", current.max_examples, current.derandomize, current.database is None, current.deadline,
          current.stateful_step_count)
"""
# A service's conftest loading its own profile at import, as Hypothesis' documentation shows.
SERVICE_CONFTEST = """
from hypothesis import settings
settings.register_profile("svc", max_examples=7, stateful_step_count=200)
settings.load_profile("svc")
"""
# The server plugin is not needed to choose a profile: keep these inner runs quick.
NO_SERVER = ("-p", "no:leadboost_schema", "-p", "no:cacheprovider", "-s")


@pytest.fixture
def probe(pytester, monkeypatch):
    # Hypothesis makes its own "ci" settings the parent of every profile when it sees CI (or TF_BUILD) set, as
    # it is in our CI: these runs check our profiles' own values, so they run as on a developer's machine.
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("TF_BUILD", raising=False)
    monkeypatch.delenv("LEADBOOST_HYPOTHESIS_PROFILE", raising=False)
    pytester.makepyfile(test_probe=PROBE)
    return pytester


def run(pytester, *args):
    result = pytester.runpytest_subprocess(*NO_SERVER, *args)
    assert result.ret == 0, result.stdout.str()
    return result


def test_nothing_is_loaded_unless_asked(probe):
    result = run(probe)
    result.stdout.fnmatch_lines(["leadboost-schema: hypothesis profile 'default' (the plugin loads one only when "
                                 "asked) (max_examples=100, *", "*PROBE 100 False False 0:00:00.200000 50"])


def test_the_services_own_profile_is_kept(probe):
    probe.makeconftest(SERVICE_CONFTEST)
    run(probe).stdout.fnmatch_lines(["*PROBE 7 False False 0:00:00.200000 200"])


def test_the_environment_variable_does_not_replace_the_services_profile(probe, monkeypatch):
    probe.makeconftest(SERVICE_CONFTEST)
    monkeypatch.setenv("LEADBOOST_HYPOTHESIS_PROFILE", "ci")
    run(probe).stdout.fnmatch_lines([
        "leadboost-schema: hypothesis profile 'svc' the project loaded is kept (LEADBOOST_HYPOTHESIS_PROFILE=ci not "
        "applied) (max_examples=7, *", "*PROBE 7 False False 0:00:00.200000 200"])


def test_the_environment_variable_chooses_ci(probe, monkeypatch):
    monkeypatch.setenv("LEADBOOST_HYPOTHESIS_PROFILE", "ci")
    result = run(probe)
    result.stdout.fnmatch_lines(["leadboost-schema: hypothesis profile ci (*derandomize=True, database=none*",
                                 "*PROBE 150 True True None 30"])


def test_the_ini_value_chooses_and_the_option_wins(probe, monkeypatch):
    probe.makeini("[pytest]\nleadboost_hypothesis_profile = ci\n")
    run(probe).stdout.fnmatch_lines(["leadboost-schema: hypothesis profile ci *", "*PROBE 150 True True None 30"])
    monkeypatch.setenv("LEADBOOST_HYPOTHESIS_PROFILE", "default")
    result = run(probe, "--leadboost-hypothesis-profile=nightly")
    result.stdout.fnmatch_lines(["leadboost-schema: hypothesis profile nightly *",
                                 "*PROBE 2000 False True None 60"])


def test_the_profiles_are_registered_for_hypothesis_own_option(probe):
    run(probe, "--hypothesis-profile=leadboost-ci").stdout.fnmatch_lines(["*PROBE 150 True True None 30"])


def test_hypothesis_own_profile_option_is_respected(probe, monkeypatch):
    probe.makeconftest("from hypothesis import settings\n"
                       "settings.register_profile('mine', max_examples=7)\n")
    monkeypatch.setenv("LEADBOOST_HYPOTHESIS_PROFILE", "ci")
    result = run(probe, "--hypothesis-profile=mine")
    result.stdout.fnmatch_lines(["leadboost-schema: hypothesis profile left to --hypothesis-profile *",
                                 "*PROBE 7 *"])


def test_an_unknown_profile_is_refused_in_one_line(probe, monkeypatch):
    monkeypatch.setenv("LEADBOOST_HYPOTHESIS_PROFILE", "weekly")
    result = probe.runpytest_subprocess(*NO_SERVER)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    refusal = "*unknown Hypothesis profile 'weekly': choose one of default, ci, nightly (from LEADBOOST_*"
    result.stderr.fnmatch_lines([refusal])
