"""One frozen Settings object for the server and fixtures, resolved once: CLI flag > ini value > env var > default."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from leadboost_schema.paths import schema_dir

BACKENDS = ("dsn", "local", "embedded", "docker")


@dataclass(frozen=True)
class Option:
    """One setting as users see it: the same name in four places (see docs/plugin.md)."""

    field: str
    help: str
    default_text: str

    @property
    def flag(self) -> str:
        return "--leadboost-" + self.field.replace("_", "-")

    @property
    def ini(self) -> str:
        return "leadboost_" + self.field

    @property
    def env(self) -> str:
        return "LEADBOOST_" + self.field.upper()

    @property
    def many(self) -> bool:
        """A list of paths: the CLI flag may be repeated, the ini value span lines, the env value use ``:``."""
        return self.field in ("extra_sql", "extra_seed_sql")


OPTIONS: tuple[Option, ...] = (
    Option("backend", "where the server comes from: auto, dsn, local, embedded or docker", "auto"),
    Option("dsn", "conninfo of an existing server to use (a superuser or a role with CREATEDB)", "none"),
    Option("bindir", "folder holding initdb, pg_ctl and postgres to use for the local backend", "searched"),
    Option("server_user", "when run as root: the unprivileged user that runs the server processes", "nobody"),
    Option("schema_dir", "folder of the SQL to migrate (000_master_migration.sql, 008_seed_data.sql)",
           "the package's schema/"),
    Option("extra_sql", "the service's own SQL files or folders (a folder: its *.sql by name), applied in order "
           "after the schema; part of the template key", "none"),
    Option("extra_seed_sql", "the service's seed SQL files or folders, applied after 008_seed_data.sql in the "
           "seeded template only", "none"),
    Option("cache_dir", "folder for copied binaries, cached clusters and run folders",
           "/dev/shm/leadboost-schema-<uid> (memory) if it has 2 GiB free, else $TMPDIR/leadboost-schema-<uid>"),
    Option("pool_size", "fresh databases kept cloned ahead of need per template and worker (0 = none)", "2"),
    Option("docker_image", "image for the docker backend", "postgres:15-alpine"),
)


def default_cache_dir() -> Path:
    """A memory-backed folder when there is room: cloning a database is a file copy, ~10x faster on tmpfs
    than on this kind of machine's disk (26 ms vs 230 ms for 300 files)."""
    name = f"leadboost-schema-{os.getuid()}"
    shm = Path("/dev/shm")
    try:
        info = os.statvfs(shm)
        if info.f_bavail * info.f_frsize >= 2 << 30 and os.access(shm, os.W_OK | os.X_OK):
            return shm / name
    except OSError:
        pass
    return Path(tempfile.gettempdir()) / name


class SettingsError(ValueError):
    """A setting has a value the plugin cannot use; the message names the setting and the fix."""


@dataclass(frozen=True)
class Settings:
    backend: str = "auto"
    dsn: str | None = None
    bindir: Path | None = None
    server_user: str = "nobody"
    schema_dir: Path = field(default_factory=schema_dir)
    extra_sql: tuple[Path, ...] = ()
    extra_seed_sql: tuple[Path, ...] = ()
    cache_dir: Path = field(default_factory=default_cache_dir)
    pool_size: int = 2
    docker_image: str = "postgres:15-alpine"

    def backends_to_try(self) -> tuple[str, ...]:
        """The backends in SPEC §4 order, or only the one the user picked."""
        if self.backend != "auto":
            return (self.backend,)
        return BACKENDS if self.dsn else BACKENDS[1:]

    @classmethod
    def resolve(
        cls,
        cli: Mapping[str, object | None] | None = None,
        ini: Mapping[str, object | None] | None = None,
        env: Mapping[str, str] | None = None,
        ini_dir: Path | None = None,
    ) -> Settings:
        """Pick each field from the first source that sets it: CLI (keyed by field), ini (keyed by ini name),
        environment (keyed by env var name), else the default. Relative ini paths are relative to ``ini_dir``."""
        cli = cli or {}
        ini = ini or {}
        env = os.environ if env is None else env
        chosen: dict[str, object] = {}
        for option in OPTIONS:
            for value, base in ((cli.get(option.field), None), (ini.get(option.ini), ini_dir),
                                (env.get(option.env), None)):
                if value not in (None, ""):
                    chosen[option.field] = _convert(option, value, base)
                    break
        return cls(**chosen)

    def __post_init__(self) -> None:
        if self.backend != "auto" and self.backend not in BACKENDS:
            raise SettingsError(
                f"leadboost backend {self.backend!r} is unknown: use one of auto, {', '.join(BACKENDS)}")
        if self.backend == "dsn" and not self.dsn:
            raise SettingsError("leadboost backend 'dsn' needs a DSN: --leadboost-dsn, ini leadboost_dsn "
                                "or env LEADBOOST_DSN")
        if self.pool_size < 0:
            raise SettingsError("leadboost pool_size must be 0 or more")
        for name in ("extra_sql", "extra_seed_sql"):
            missing = [str(p) for p in getattr(self, name) if not p.exists()]
            if missing:
                option = next(o for o in OPTIONS if o.field == name)
                raise SettingsError(f"leadboost {name}: {', '.join(missing)} does not exist (from {option.flag}, "
                                    f"ini {option.ini} or env {option.env})")



def path_list(value: object) -> list[str]:
    """Several paths in one setting: a repeated CLI flag (a list), or one string split at newlines (an ini
    value over several lines) and at the path separator (``:``), as PATH is."""
    items = value if isinstance(value, list | tuple) else [value]
    return [part.strip() for item in items for line in str(item).splitlines()
            for part in line.split(os.pathsep) if part.strip()]


def _convert(option: Option, value: object, base: Path | None) -> object:
    kind = {f.name: f.type for f in fields(Settings)}[option.field]
    if "tuple" in str(kind):
        return tuple(_convert_path(Path(part), base) for part in path_list(value))
    if "Path" in str(kind):
        return _convert_path(Path(str(value)), base)
    if "int" in str(kind):
        try:
            return int(str(value))
        except ValueError:
            raise SettingsError(f"{option.flag} wants a whole number, got {value!r}") from None
    return str(value).strip()


def _convert_path(path: Path, base: Path | None) -> Path:
    path = path.expanduser()
    return (base / path) if base is not None and not path.is_absolute() else path.absolute()
