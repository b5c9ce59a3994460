"""Run start to first test, warm: ``python benchmarks/run_start_timing.py [runs]`` prints medians.

Times N pytest runs of a one-test file that uses ``leadboost_conn`` (a fresh migrated database), and the same runs
with the plugin off, so pytest's own start (imports of hypothesis etc.) is told apart from the plugin's cost. The
plugin's share is also timed from inside: pytest_configure to the first test body. Not a pytest-benchmark suite:
what it measures is whole pytest processes.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEST_FILE = '''
import time
def test_first(leadboost_conn):
    with open("first_test_at", "w") as out:
        out.write(repr(time.time()))
'''
CONFTEST = '''
import time, pytest
@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    with open("configured_at", "w") as out:
        out.write(repr(time.time()))
'''


def _run(folder: Path, *extra: str) -> float:
    started = time.time()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra], cwd=folder,
                   check=False, stdout=subprocess.DEVNULL)
    return time.time() - started


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "test_first.py").write_text(TEST_FILE)
        (folder / "conftest.py").write_text(CONFTEST)
        _run(folder)  # warm the caches (cluster with templates, binaries copy)
        with_plugin, plugin_share, without = [], [], []
        for _ in range(runs):
            with_plugin.append(_run(folder))
            plugin_share.append(float((folder / "first_test_at").read_text())
                                - float((folder / "configured_at").read_text()))
            without.append(_run(folder, "-p", "no:leadboost_schema", "--deselect", "test_first.py::test_first"))
    print(f"runs: {runs}")
    print(f"pytest wall time with the plugin, one test on a fresh database: {statistics.median(with_plugin):.3f} s")
    print(f"pytest wall time without the plugin (no test run):              {statistics.median(without):.3f} s")
    print(f"plugin: pytest_configure -> first test body:                    {statistics.median(plugin_share):.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
