"""pgbench as the measuring client: the server's own cost of a path, without a Python driver's per-call time.

A ``Script`` is one pgbench transaction (its SQL, the login role that runs it, the tenant it binds with
``app.tenant_id``). ``paired_rounds`` runs a baseline script and a path script alternately, ``rounds`` times
each for ``seconds`` each, on the same server and database, and returns both series of seconds per operation
(the inverse of the throughput of all clients together): a ratio of their medians cancels most of a shared
machine's load, as the Python-driven pairs do (leadboost_schema.bench.measure).
"""
from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)
_FAILED = re.compile(r"^number of failed transactions: ([0-9]+)", re.MULTILINE)


class PgbenchError(RuntimeError):
    """pgbench failed or printed no throughput; the message carries its output."""


@dataclass(frozen=True)
class Script:
    """One pgbench transaction as a service sends it: ``sql`` (pgbench script syntax, ``:client_id`` and
    ``defines`` available), run as ``user`` bound to ``tenant`` (None: unbound), by ``clients`` clients."""

    name: str
    sql: str
    user: str
    tenant: str | None = None
    clients: int = 2
    defines: Mapping[str, str] = field(default_factory=dict)


def pgbench_binary(bindir: str | os.PathLike[str] | None) -> Path:
    """The pgbench shipped next to the server's binaries (local packages and the embedded package both ship
    it)."""
    if bindir is None:
        raise PgbenchError("the server's binaries are unknown (dsn backend?): pgbench needs its bindir")
    binary = Path(bindir) / "pgbench"
    if not binary.is_file():
        raise PgbenchError(f"no pgbench in {bindir}")
    return binary


class Pgbench:
    """Runs scripts against one database of a server: ``Pgbench(bindir, dsn, workdir)``."""

    def __init__(self, bindir: str | os.PathLike[str] | None, dsn: str, workdir: Path) -> None:
        self.binary = pgbench_binary(bindir)
        self.params = conninfo_to_dict(dsn)
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)

    def seconds_per_op(self, script: Script, seconds: float) -> float:
        """One pgbench run of ``seconds``: wall time per transaction of all clients together (1 / tps). The
        script's ``:run`` is unique to the run (new stream names, keys, …)."""
        path = self.workdir / f"{script.name}.pgbench"
        path.write_text(script.sql.strip() + "\n")
        command = [str(self.binary), "--no-vacuum", "--protocol=prepared", f"--client={script.clients}",
                   f"--jobs={script.clients}", f"--time={max(1, round(seconds))}", f"--file={path}",
                   f"--username={script.user}", f"--define=run={os.getpid()}x{time.monotonic_ns()}"]
        command += [f"--define={name}={value}" for name, value in script.defines.items()]
        if "host" in self.params:
            command.append(f"--host={self.params['host']}")
        if "port" in self.params:
            command.append(f"--port={self.params['port']}")
        command.append(self.params.get("dbname", "postgres"))
        env = {**os.environ, "PGOPTIONS": f"-c app.tenant_id={script.tenant}" if script.tenant else ""}
        env.pop("PGUSER", None)
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False,
                              timeout=seconds * 4 + 60)
        output = done.stdout + done.stderr
        failed = _FAILED.search(output)
        tps = _TPS.search(output)
        if done.returncode != 0 or tps is None or (failed and int(failed.group(1))):
            raise PgbenchError(f"pgbench {script.name} failed (exit {done.returncode}):\n{output[-2000:]}")
        return 1.0 / float(tps.group(1))

    def paired_rounds(self, baseline: Script, path: Script, rounds: int = 5,
                      seconds: float = 3) -> tuple[list[float], list[float]]:
        """``rounds`` runs of each, alternating (baseline first), and each round's seconds per operation."""
        base, measured = [], []
        for _ in range(rounds):
            base.append(self.seconds_per_op(baseline, seconds))
            measured.append(self.seconds_per_op(path, seconds))
        return base, measured
