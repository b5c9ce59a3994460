"""The four ways to get a server: an existing DSN, a cluster of local or embedded binaries, a docker container."""
from __future__ import annotations

import shutil
import subprocess
import time

import psycopg

from leadboost_schema.errors import BackendUnavailable
from leadboost_schema.server import cluster, cluster_cache
from leadboost_schema.server.binaries import Binaries, find_embedded, find_local
from leadboost_schema.server.our_databases import (
    TEMPLATE_PREFIX,
    drop_test_databases,
    template_key,
    template_names,
)
from leadboost_schema.server.privileges import ServerUserError, server_user
from leadboost_schema.server.running import Server
from leadboost_schema.server.runs import new_run_folder, reap_stale_runs
from leadboost_schema.server.settings import Settings
from leadboost_schema.server.workspace import prepare_root, reachable_binaries

DOCKER_TIMEOUT_S = 2.0


def _server_version(conninfo: str) -> int:
    with psycopg.connect(conninfo, connect_timeout=5, autocommit=True) as conn:
        return int(conn.execute("SHOW server_version_num").fetchone()[0])


class ExternalServer:
    """A server someone else runs (--leadboost-dsn): nothing to stop; our test databases are dropped by the
    fixtures, migrated templates stay (named by schema hash, reused by the next run)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.notes: list[str] = []

    def stop(self) -> None:
        pass


def use_dsn(settings: Settings) -> ExternalServer:
    if not settings.dsn:
        raise BackendUnavailable("no DSN given", "set --leadboost-dsn, ini leadboost_dsn or env LEADBOOST_DSN")
    try:
        params = psycopg.conninfo.conninfo_to_dict(settings.dsn)
        version = _server_version(settings.dsn)
    except psycopg.Error as error:
        raise BackendUnavailable(f"cannot connect to the given DSN: {str(error).strip().splitlines()[0]}",
                                 "check the DSN and that the server runs") from None
    admin_db = str(params.pop("dbname", "postgres"))
    conninfo = psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items()})
    return ExternalServer(Server("dsn", conninfo, version, admin_db=admin_db,
                                 description=f"dsn backend: PostgreSQL {version} at the given DSN"))


class OwnedCluster:
    """A server we started from binaries, in a run folder of our own; ``stop()`` removes both, after keeping the
    data folder as the cached migrated cluster when this run built templates the cache lacked."""

    def __init__(self, backend: str, binaries: Binaries, settings: Settings) -> None:
        self.notes: list[str] = []
        try:
            self.user = server_user(settings.server_user)
        except ServerUserError as error:
            raise BackendUnavailable(str(error)) from None
        self.root = prepare_root(settings.cache_dir)
        if not self.user.can_traverse(self.root):
            raise BackendUnavailable(f"server user {self.user.name} cannot reach the cache folder {self.root}",
                                     "set --leadboost-cache-dir / LEADBOOST_CACHE_DIR to a folder all users "
                                     "can traverse")
        reaped = reap_stale_runs(self.root)
        if reaped:
            self.notes.append(f"reaped {len(reaped)} stale server(s) left by interrupted runs")
        self.binaries = reachable_binaries(binaries, self.user, self.root)
        self.key = cluster_cache.version_key(self.binaries, self.user)
        self.schema = (template_key(settings.schema_dir, settings.extra_sql, settings.extra_seed_sql)
                       if settings.schema_dir.is_dir() else "noschema")
        self.run = new_run_folder(self.root, self.user)
        try:
            self._copy_cached_cluster()
            cluster.start(self.binaries, self.run.data, self.run.socket, self.run.log, self.user)
            conninfo = psycopg.conninfo.make_conninfo(host=str(self.run.socket), user="postgres")
            self.templates_at_start = self._templates(conninfo)
            version = _server_version(conninfo + " dbname=postgres")
        except BaseException:
            self._remove(clean=False)
            raise
        self.notes.append(self.user.describe())
        self.server = Server(backend, conninfo, version, bindir=str(self.binaries.bindir),
                             description=f"{backend} backend: {self.binaries.version_text} from "
                                         f"{self.binaries.bindir} ({self.binaries.source})")

    def _copy_cached_cluster(self) -> None:
        """Copy the best cached cluster into the run folder; if a concurrent run replaces that cache entry
        mid-copy, start over from a fresh base cluster."""
        source = cluster_cache.cached_cluster(self.root, self.key, self.schema)
        if source is not None:
            try:
                cluster_cache.copy_data_dir(source, self.run.data)
                return
            except subprocess.CalledProcessError:
                shutil.rmtree(self.run.data, ignore_errors=True)
        base = cluster_cache.build_base_cluster(self.root, self.key, self.binaries, self.user)
        cluster_cache.copy_data_dir(base, self.run.data)

    @staticmethod
    def _templates(conninfo: str) -> set[str]:
        with psycopg.connect(conninfo + " dbname=postgres", autocommit=True) as conn:
            rows = conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)",
                                (TEMPLATE_PREFIX,)).fetchall()
        return {row[0] for row in rows}

    def stop(self) -> None:
        current = set(template_names(self.schema))
        try:
            built = (self._templates(self.server.conninfo) & current) - self.templates_at_start
        except psycopg.Error:
            built = set()
        if not built:
            self._remove(clean=False)
            return
        # Keep this cluster for the next run: only the current schema's templates, stopped cleanly.
        drop_test_databases(self.server, keep=current)
        cluster.stop(self.run.data, clean=True)
        cluster_cache.save_migrated_cluster(self.run.data, self.root, self.key, self.schema)
        self._remove(clean=False)

    def _remove(self, clean: bool) -> None:
        cluster.stop(self.run.data, clean=clean)
        shutil.rmtree(self.run.path, ignore_errors=True)


def start_local(settings: Settings) -> OwnedCluster:
    return OwnedCluster("local", find_local(settings.bindir), settings)


def start_embedded(settings: Settings) -> OwnedCluster:
    return OwnedCluster("embedded", find_embedded(), settings)


class DockerServer:
    """A throw-away container from testcontainers (imported only here: it is an optional extra)."""

    def __init__(self, settings: Settings) -> None:
        try:
            import docker
            from testcontainers.postgres import PostgresContainer
        except ImportError:
            raise BackendUnavailable("testcontainers is not installed",
                                     "pip install 'leadboost-schema[docker]'") from None
        try:
            docker.from_env(timeout=DOCKER_TIMEOUT_S).ping()
        except Exception as error:  # noqa: BLE001 - the docker SDK raises many kinds; all mean the same to us
            raise BackendUnavailable(f"no Docker engine answered ({type(error).__name__})",
                                     "start Docker, or set DOCKER_HOST") from None
        self.notes: list[str] = []
        self.container = PostgresContainer(settings.docker_image, username="postgres", password="postgres",
                                           dbname="postgres")
        self.container.with_command("postgres -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                                    "-c max_connections=200")
        started = time.monotonic()
        self.container.start()
        conninfo = psycopg.conninfo.make_conninfo(
            host=self.container.get_container_host_ip(), port=str(self.container.get_exposed_port(5432)),
            user="postgres", password="postgres")
        version = _server_version(conninfo + " dbname=postgres")
        self.server = Server("docker", conninfo, version, description=(
            f"docker backend: {settings.docker_image}, PostgreSQL {version}, "
            f"started in {time.monotonic() - started:.1f} s"))

    def stop(self) -> None:
        self.container.stop()


def start_docker(settings: Settings) -> DockerServer:
    return DockerServer(settings)
