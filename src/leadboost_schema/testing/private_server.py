"""A PostgreSQL server of one's own, for tests that must stop it hard: the same binaries and cached cluster as the
run's server, its own run folder; ``crash()`` is ``pg_ctl stop -m immediate``, ``restart()`` starts it again on
the same data folder (PostgreSQL then recovers from its WAL).

    with PrivateServer.like(leadboost_server, leadboost_settings) as private:
        dsn = private.migrated_database()
        ...                      # a workload
        private.crash()
        private.restart()
        ...                      # what survived

The servers the plugin starts run with ``synchronous_commit=off`` (fast tests): a commit is acknowledged before
its WAL is written, so an immediate stop may lose it. Sessions that must find every acknowledged commit after a
crash set ``synchronous_commit = on`` (``DURABLE_OPTIONS``); ``fsync=off`` is harmless here because the operating
system keeps running.
"""
from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Self

import psycopg

from leadboost_schema.databases.sql_files import MASTER_MIGRATION, apply_sql_file
from leadboost_schema.server import Server, cluster
from leadboost_schema.server.backends import OwnedCluster
from leadboost_schema.server.binaries import find_embedded, find_local
from leadboost_schema.server.our_databases import (
    create_database,
    database_exists,
    schema_hash,
    template_names,
)
from leadboost_schema.server.settings import Settings

DURABLE_OPTIONS = "-c synchronous_commit=on"
DATABASE = "lb_private"


class PrivateServer:
    """A server started for one test (see the module docstring); stop() removes it and its folder."""

    def __init__(self, settings: Settings, backend: str) -> None:
        binaries = find_embedded() if backend == "embedded" else find_local(settings.bindir)
        self.settings = settings
        self.owned = OwnedCluster(backend, binaries, settings)

    @classmethod
    def like(cls, server: Server, settings: Settings) -> PrivateServer:
        """Same backend and binaries as ``server`` when it runs from binaries; the embedded one otherwise."""
        if server.backend == "local" and server.bindir:
            return cls(dataclasses.replace(settings, bindir=Path(server.bindir)), "local")
        return cls(settings, "embedded")

    @property
    def server(self) -> Server:
        return self.owned.server

    def migrated_database(self) -> str:
        """DSN of a database with the schema: cloned from the cached template when the cluster has it, else
        migrated now."""
        plain, _ = template_names(schema_hash(self.settings.schema_dir))
        with psycopg.connect(self.server.admin_dsn, autocommit=True) as admin:
            if database_exists(admin, DATABASE):
                return self.server.dsn(DATABASE)
            template = plain if database_exists(admin, plain) else None
            create_database(admin, DATABASE, template, self.server.version)
        if template is None:
            with psycopg.connect(self.server.dsn(DATABASE), autocommit=True) as conn:
                apply_sql_file(conn, self.settings.schema_dir / MASTER_MIGRATION)
        return self.server.dsn(DATABASE)

    def crash(self) -> None:
        """``pg_ctl stop -m immediate``: every server process quits at once, nothing is flushed or checkpointed."""
        owned = self.owned
        done = subprocess.run(
            [str(owned.binaries.tool("pg_ctl")), "stop", "-D", str(owned.run.data), "-m", "immediate", "-w"],
            capture_output=True, text=True, cwd="/", **owned.user.subprocess_kwargs())
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl stop -m immediate failed: {done.stderr.strip()}")

    def restart(self) -> None:
        """Start the server again on the same data folder (crash recovery happens here) and socket."""
        owned = self.owned
        cluster.start(owned.binaries, owned.run.data, owned.run.socket, owned.run.log, owned.user)

    def stop(self) -> None:
        self.owned.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

