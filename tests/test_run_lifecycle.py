"""One server per run, shared by xdist workers, gone at the end; a killed run's server is reaped by the next."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

RECORD = '''
import os, psycopg, pytest

@pytest.mark.parametrize("n", range(6))
def test_record(leadboost_server, leadboost_conn, n):
    data_dir = leadboost_conn.execute("SHOW data_directory").fetchone()[0]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(os.environ["RECORD_FILE"], "a") as out:
        out.write(f"{worker} {data_dir}\\n")
'''

HANG = '''
import time

def test_hang(leadboost_server, leadboost_conn):
    data_dir = leadboost_conn.execute("SHOW data_directory").fetchone()[0]
    print("DATA_DIR", data_dir, flush=True)
    time.sleep(600)  # killed by the outer test long before
'''


def _postmasters_of(data_dir: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"-D" in cmdline and data_dir.encode() in cmdline:
                found.append(int(proc.name))
    return found


def test_xdist_workers_share_one_server_and_it_is_gone_after(pytester, standin_args, monkeypatch, tmp_path):
    record = tmp_path / "record.txt"
    monkeypatch.setenv("RECORD_FILE", str(record))
    pytester.makepyfile(test_record=RECORD)
    result = pytester.runpytest_subprocess(*standin_args, "-n", "2")
    result.assert_outcomes(passed=6)
    rows = [line.split() for line in record.read_text().splitlines()]
    workers = {worker for worker, _ in rows}
    data_dirs = {data_dir for _, data_dir in rows}
    assert workers == {"gw0", "gw1"}
    assert len(data_dirs) == 1
    (data_dir,) = data_dirs
    assert _postmasters_of(data_dir) == []
    assert not Path(data_dir).parent.exists()  # the run folder is removed


def test_a_killed_run_is_reaped_by_the_next(pytester, standin_args, private_cache_dir):
    # A cache folder of its own, so no concurrent run reaps the orphan before the run we watch.
    standin_args = [*standin_args, f"--leadboost-cache-dir={private_cache_dir}"]
    pytester.makepyfile(test_hang=HANG)
    hung = subprocess.Popen([sys.executable, "-m", "pytest", "-s", *standin_args], cwd=pytester.path,
                            stdout=subprocess.PIPE, text=True)
    try:
        data_dir = next(line.split()[-1] for line in hung.stdout if "DATA_DIR" in line)
    finally:
        hung.send_signal(signal.SIGKILL)
        hung.wait()
        hung.stdout.close()
    orphans = _postmasters_of(data_dir)
    assert len(orphans) == 1  # the server outlived its killed owner

    (pytester.path / "test_hang.py").unlink()
    pytester.makepyfile(test_ok="def test_ok(leadboost_server):\n    pass\n")
    result = pytester.runpytest_subprocess(*standin_args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["leadboost-schema: reaped * stale server(s) left by interrupted runs"])
    assert _postmasters_of(data_dir) == []
    assert not os.path.exists(Path(data_dir).parent)


def test_ctrl_c_stops_the_server_and_removes_its_folder(pytester, standin_args):
    pytester.makepyfile(test_hang=HANG)
    # Restore SIGINT's default first: a parent (shell job, xdist worker) may have left it ignored.
    launcher = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                "os.execv(sys.executable, [sys.executable, '-m', 'pytest', *sys.argv[1:]])")
    interrupted = subprocess.Popen([sys.executable, "-c", launcher, "-s", *standin_args], cwd=pytester.path,
                                   stdout=subprocess.PIPE, text=True)
    data_dir = next(line.split()[-1] for line in interrupted.stdout if "DATA_DIR" in line)
    interrupted.send_signal(signal.SIGINT)  # what Ctrl-C in a terminal sends
    rest = interrupted.stdout.read()
    interrupted.wait()
    interrupted.stdout.close()
    assert "KeyboardInterrupt" in rest
    assert _postmasters_of(data_dir) == []
    assert not os.path.exists(Path(data_dir).parent)
