"""Settings resolve CLI flag > ini > env var > default, reject bad values, and match the documented table."""
from __future__ import annotations

from pathlib import Path

import pytest

from leadboost_schema.server.settings import OPTIONS, Settings, SettingsError
from leadboost_schema.versions import version_matches

DOCS = Path(__file__).parent.parent / "docs" / "plugin.md"


def test_precedence_cli_over_ini_over_env_over_default(tmp_path):
    env = {"LEADBOOST_POOL_SIZE": "5", "LEADBOOST_BACKEND": "embedded", "LEADBOOST_SERVER_USER": "daemon"}
    ini = {"leadboost_pool_size": "3", "leadboost_backend": "local", "leadboost_schema_dir": "sql"}
    settings = Settings.resolve(cli={"pool_size": "1"}, ini=ini, env=env, ini_dir=tmp_path)
    assert settings.pool_size == 1
    assert settings.backend == "local"
    assert settings.server_user == "daemon"
    assert settings.schema_dir == tmp_path / "sql"
    assert settings.docker_image == Settings().docker_image


def test_auto_tries_dsn_only_when_given():
    assert Settings(dsn="host=/x").backends_to_try() == ("dsn", "local", "embedded", "docker")
    assert Settings().backends_to_try() == ("local", "embedded", "docker")
    assert Settings(backend="embedded").backends_to_try() == ("embedded",)


@pytest.mark.parametrize("cli, message", [
    ({"backend": "oracle"}, "unknown"),
    ({"backend": "dsn"}, "needs a DSN"),
    ({"pool_size": "many"}, "whole number"),
    ({"pool_size": "-1"}, "0 or more"),
])
def test_bad_values_are_explained(cli, message):
    with pytest.raises(SettingsError, match=message):
        Settings.resolve(cli=cli, env={})


def test_bad_value_is_a_usage_error_in_pytest(pytester):
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_subprocess("--leadboost-backend=oracle")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*leadboost backend 'oracle' is unknown*"])


def test_every_setting_is_in_the_documented_table():
    text = DOCS.read_text()
    for option in OPTIONS:
        assert f"| `{option.flag}` | `{option.ini}` | `{option.env}` |" in text


@pytest.mark.parametrize("spec, version, expected", [
    (">= 16", 160004, True), (">= 16", 150018, False), ("< 15.4", 150003, True), ("< 15.4", 150018, False),
    ("17", 170002, True), ("17", 180000, False), ("!= 15", 180006, True),
])
def test_version_specs(spec, version, expected):
    assert version_matches(spec, version) is expected
