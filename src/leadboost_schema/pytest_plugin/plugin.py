"""The pytest plugin: options, the shared-server hooks and the fixtures; all work is done by the library."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest

from leadboost_schema.databases.clones import ClonePool
from leadboost_schema.databases.sql_files import SchemaFileError
from leadboost_schema.databases.templates import ensure_template
from leadboost_schema.server import Server
from leadboost_schema.server.settings import OPTIONS, Settings, SettingsError
from leadboost_schema.server.shared import ServerLease, ServerUnavailable, WorkerView
from leadboost_schema.testing import factories
from leadboost_schema.testing.isolation import ExampleIsolation
from leadboost_schema.versions import version_matches, version_text

_SETTINGS = pytest.StashKey[Settings]()
_SERVER = pytest.StashKey["ServerLease | WorkerView"]()
_WORKER_KEY = "leadboost"
_SKIPPED_BY_VERSION = pytest.StashKey[bool]()
NO_SERVER_STOP = "leadboost-schema: no PostgreSQL server, the run stops"
# A test asking for any of these (directly or through its own fixtures) needs the server.
SERVER_FIXTURES = frozenset({
    "leadboost_server", "leadboost_template", "leadboost_seeded_template", "leadboost_clone_pools",
    "leadboost_dsn", "leadboost_conn", "leadboost_seeded_dsn", "leadboost_seeded_conn", "leadboost_example"})


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("leadboost", "leadboost-schema: a real PostgreSQL with the schema")
    for option in OPTIONS:
        group.addoption(option.flag, dest=f"leadboost_{option.field}", default=None,
                        action="append" if option.many else "store",
                        help=f"{option.help} (ini {option.ini}, env {option.env}; default {option.default_text})"
                        + ("; repeat the flag, or one per ini line, or ':'-separated" if option.many else ""))
        parser.addini(option.ini, help=option.help, default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres(spec): run only on a server version matching spec, e.g. '>= 16'")
    try:
        settings = Settings.resolve(
            cli={o.field: config.getoption(f"leadboost_{o.field}") for o in OPTIONS},
            ini={o.ini: config.getini(o.ini) for o in OPTIONS},
            ini_dir=config.inipath.parent if config.inipath else config.rootpath)
    except SettingsError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[_SETTINGS] = settings
    if hasattr(config, "workerinput"):
        config.stash[_SERVER] = WorkerView(config.workerinput.get(_WORKER_KEY, {}))
    elif not (config.option.help or config.option.version or config.option.collectonly):
        config.stash[_SERVER] = ServerLease(settings)  # started by the first test collected that needs it


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # pytest-xdist: workers ask the controller for the server when they need it
    node.workerinput[_WORKER_KEY] = node.config.stash[_SERVER].watch_workers()


def pytest_itemcollected(item: pytest.Item) -> None:
    """Start the server (in the background) as soon as the first test needing it is collected."""
    lease = item.config.stash.get(_SERVER, None)
    if lease is not None and not lease.started and _needs_server(item):
        lease.start()


def _needs_server(item: pytest.Item) -> bool:
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool(fixtures & SERVER_FIXTURES) or item.get_closest_marker("postgres") is not None


def pytest_unconfigure(config: pytest.Config) -> None:
    lease = config.stash.get(_SERVER, None)
    if lease is not None:
        lease.stop()


def pytest_report_header(config: pytest.Config) -> list[str]:
    if config.stash.get(_SERVER, None) is None:
        return []
    return ["leadboost-schema: the PostgreSQL server starts when the first test needing it is collected"]


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    lease = config.stash.get(_SERVER, None)
    if lease is None or not lease.started or hasattr(config, "workerinput"):
        return
    failure = lease.failure()
    if failure is not None:
        terminalreporter.section("leadboost-schema: no PostgreSQL server", sep="!", red=True, bold=True)
        terminalreporter.line(failure)
        return
    server = lease.get()
    terminalreporter.line(f"leadboost-schema: {server.description}; server_version_num {server.version}")
    for note in lease.notes():
        terminalreporter.line(f"leadboost-schema: {note}")


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in item.iter_markers(name="postgres"):
        server = _server(item.config, item.session)
        if not version_matches(marker.args[0], server.version):
            item.stash[_SKIPPED_BY_VERSION] = True
            pytest.skip(f"needs PostgreSQL {marker.args[0]}, server is {version_text(server.version)}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport:
    report = yield
    if item.stash.get(_SKIPPED_BY_VERSION, False) and report.skipped and isinstance(report.longrepr, tuple):
        # Point the skip at the test, as pytest does for skipif marks, not at this plugin's line.
        path, line = item.reportinfo()[:2]
        report.longrepr = (str(path), (line or 0) + 1, report.longrepr[2])
    return report


def _server(config: pytest.Config, session: pytest.Session | None = None) -> Server:
    lease = config.stash.get(_SERVER, None)
    if lease is None:
        pytest.fail("leadboost-schema: no server in --collect-only/--help runs", pytrace=False)
    try:
        return lease.get()
    except ServerUnavailable:
        pass  # failed below, outside the handler: no chained traceback
    # Said once: this test errors with one line, the run stops after it, and the reason is printed once at the
    # end of the report (by the controller under xdist) instead of once for every test that needs it.
    if session is not None:
        session.shouldstop = NO_SERVER_STOP
    pytest.fail(f"{NO_SERVER_STOP} (why: at the end of the report)", pytrace=False)


@pytest.fixture(scope="session")
def leadboost_settings(pytestconfig: pytest.Config) -> Settings:
    """The resolved settings (CLI flag > ini > env var > default)."""
    return pytestconfig.stash[_SETTINGS]


@pytest.fixture(scope="session")
def leadboost_server(request: pytest.FixtureRequest) -> Server:
    """The run's PostgreSQL server, shared by every xdist worker: ``.dsn(dbname)``, ``.version``, ``.backend``."""
    return _server(request.config, request.session)


@pytest.fixture(scope="session")
def leadboost_template(leadboost_server: Server, leadboost_settings: Settings) -> str:
    """Name of the template database migrated with 000_master_migration.sql and the extra SQL (no seed data)."""
    return _template(leadboost_server, leadboost_settings, seeded=False)


@pytest.fixture(scope="session")
def leadboost_seeded_template(leadboost_server: Server, leadboost_settings: Settings) -> str:
    """Name of the template database migrated with 000_master_migration.sql, the extra SQL, 008_seed_data.sql and
    the extra seed SQL."""
    return _template(leadboost_server, leadboost_settings, seeded=True)


def _template(server: Server, settings: Settings, seeded: bool) -> str:
    try:
        return ensure_template(server, settings.schema_dir, seeded=seeded, extra_sql=settings.extra_sql,
                               extra_seed_sql=settings.extra_seed_sql)
    except SchemaFileError as error:
        failure = str(error)  # "file:line: [SQLSTATE] message": that is all a test's report needs
    pytest.fail(f"leadboost-schema could not build the template: {failure}", pytrace=False)


@pytest.fixture(scope="session")
def leadboost_clone_pools(leadboost_server: Server, leadboost_settings: Settings) -> Iterator[dict[str, ClonePool]]:
    """Warm pools of clones per template for this process, closed (clones dropped) at session end."""
    pools: dict[str, ClonePool] = {}
    yield pools
    for pool in pools.values():
        pool.close()


def _fresh_dsn(server: Server, pools: dict[str, ClonePool], template: str, size: int) -> Iterator[str]:
    pool = pools.get(template) or pools.setdefault(template, ClonePool(server, template, size))
    name = pool.take()
    try:
        yield server.dsn(name)
    finally:
        pool.release(name)


@pytest.fixture
def leadboost_dsn(leadboost_server: Server, leadboost_template: str, leadboost_clone_pools: dict[str, ClonePool],
                  leadboost_settings: Settings) -> Iterator[str]:
    """Conninfo of a fresh database cloned from the migrated template, owned by this test and dropped after."""
    yield from _fresh_dsn(leadboost_server, leadboost_clone_pools, leadboost_template, leadboost_settings.pool_size)


@pytest.fixture
def leadboost_seeded_dsn(leadboost_server: Server, leadboost_seeded_template: str,
                         leadboost_clone_pools: dict[str, ClonePool], leadboost_settings: Settings) -> Iterator[str]:
    """Like ``leadboost_dsn``, cloned from the template with 008_seed_data.sql applied too."""
    yield from _fresh_dsn(leadboost_server, leadboost_clone_pools, leadboost_seeded_template,
                          leadboost_settings.pool_size)


@pytest.fixture
def leadboost_conn(leadboost_dsn: str) -> Iterator[psycopg.Connection]:
    """An open autocommit psycopg connection to this test's fresh migrated database."""
    with psycopg.connect(leadboost_dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture
def leadboost_seeded_conn(leadboost_seeded_dsn: str) -> Iterator[psycopg.Connection]:
    """An open autocommit psycopg connection to this test's fresh seeded database."""
    with psycopg.connect(leadboost_seeded_dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture
def leadboost_example(leadboost_dsn: str) -> Iterator[ExampleIsolation]:
    """Per-example isolation for ``@given`` tests: ``with leadboost_example() as conn:`` (rolled back) or
    ``with leadboost_example.tenant(sessions=n) as scope:`` (fresh tenant, reusable sessions). It exists to
    make a function-scoped fixture safe under ``@given``: suppress ``HealthCheck.function_scoped_fixture``."""
    isolation = ExampleIsolation(leadboost_dsn)
    yield isolation
    isolation.close()


@pytest.fixture(scope="session")
def make_tenant() -> Callable[..., uuid.UUID]:
    """Tenant factory: ``make_tenant(conn, name=None) -> uuid.UUID`` inserts an iam.tenants row. Session-scoped
    (it holds no state), so ``@given`` tests may use it without Hypothesis' function-scoped-fixture check."""
    return factories.make_tenant
