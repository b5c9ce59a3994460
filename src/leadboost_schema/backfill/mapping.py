"""The declarative mapping (``mappings.toml``): which collection feeds which table, where the tenant comes from,
and how fields become column values; ``Mapping.map`` turns one document into a row or a quarantine reason."""
from __future__ import annotations

import datetime as dt
import json
import math
import re
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from leadboost_schema.backfill.documents import SourceDocument
from leadboost_schema.backfill.typed_values import BadValue, plain

TABLES = ("raw_signals", "campaigns", "audit_logs")
TYPES = ("text", "timestamptz", "numeric", "jsonb")
MAX_FIREBASE_ID = 1500
NULL = "\\N"


def copy_text(value: str) -> str:
    """``value`` as a field of COPY's text format (backslash, tab, newline, carriage return escaped)."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value:
        value = value.replace("\t", "\\t")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    return value


def _json(value: Any) -> str:
    """Compact JSON text (orjson: control characters escaped, so only backslashes need COPY's escape)."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits: Python's json writes it exactly
        try:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as error:
            raise BadValue(f"cannot be written as JSON: {error}") from None


class MappingError(ValueError):
    """The mapping file is wrong (the message says where)."""


class MappedRow(NamedTuple):
    """A document as a row of its table (a tuple of four strings: cheap to make, to pickle in the reader process and
    to unpickle in the writer's, which does no more per row than put the row's id and batch in front of it)."""

    table: str
    tenant_id: str
    firebase_id: str
    fields: str  # the table's mapped columns in COPY text form, tab-separated, in the mapping's column order


@dataclass(frozen=True)
class Rejected:
    table: str | None
    reason: str


def _lookup(data: dict[str, Any], names: tuple[str, ...]) -> tuple[str | None, Any]:
    """(the first of ``names`` present, its value); a dotted name reads nested maps."""
    for name in names:
        if name in data:
            return name, data[name]
        if "." in name:
            node: Any = data
            for part in name.split("."):
                if not isinstance(node, dict) or part not in node:
                    break
                node = node[part]
            else:
                return name, node
    return None, None


def _text_converter(column: str, spec: dict[str, Any]) -> Callable[[Any], str]:
    case = spec.get("case")
    pattern = re.compile(spec["pattern"]) if "pattern" in spec else None
    choices = frozenset(spec["choices"]) if "choices" in spec else None
    shortest, longest = spec.get("min_length", 0), spec.get("max_length")

    def convert(value: Any) -> str:
        if not isinstance(value, str):
            raise BadValue(f"{column}: expected a string, got {type(value).__name__}")
        value = value.upper() if case == "upper" else value.lower() if case == "lower" else value
        if len(value) < shortest or (longest is not None and len(value) > longest):
            raise BadValue(f"{column}: length {len(value)} outside {shortest}..{longest if longest else ''}")
        if pattern is not None and not pattern.fullmatch(value):
            raise BadValue(f"{column}: {value[:60]!r} does not match {pattern.pattern}")
        if choices is not None and value not in choices:
            raise BadValue(f"{column}: {value[:60]!r} is not one of {', '.join(sorted(choices))}")
        return copy_text(value)
    return convert


def _timestamp_converter(column: str, spec: dict[str, Any]) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if not isinstance(value, str):
            raise BadValue(f"{column}: expected a timestamp, got {type(value).__name__}")
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise BadValue(f"{column}: {value[:60]!r} is not an ISO 8601 timestamp") from None
        if moment.tzinfo is None:
            raise BadValue(f"{column}: timestamp {value[:60]!r} has no time zone")
        return copy_text(value)
    return convert


def _numeric_converter(column: str, spec: dict[str, Any]) -> Callable[[Any], str]:
    low, high = spec.get("min"), spec.get("max")

    def convert(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise BadValue(f"{column}: expected a number, got {type(value).__name__}")
        try:
            number = Decimal(str(value)) if not isinstance(value, float) else Decimal(repr(value))
        except InvalidOperation:
            raise BadValue(f"{column}: {str(value)[:60]!r} is not a number") from None
        if not number.is_finite() or (isinstance(value, float) and not math.isfinite(value)):
            raise BadValue(f"{column}: not a finite number")
        if (low is not None and number < low) or (high is not None and number > high):
            raise BadValue(f"{column}: {number} outside {low}..{high}")
        return str(number)
    return convert


CONVERTERS = {"text": _text_converter, "timestamptz": _timestamp_converter, "numeric": _numeric_converter}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    fields: tuple[str, ...]
    source: str | None
    required: bool
    requires: str | None
    convert: Callable[[Any], str] | None


@dataclass(frozen=True)
class TableMapping:
    table: str
    collections: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _column(table: str, name: str, spec: Any) -> Column:
    where = f"tables.{table}.columns.{name}"
    if not isinstance(spec, dict) or spec.get("type") not in TYPES:
        raise MappingError(f"{where}: needs type = one of {', '.join(TYPES)}")
    fields = spec.get("field", ())
    fields = (fields,) if isinstance(fields, str) else tuple(fields)
    source = spec.get("source")
    if spec["type"] == "jsonb" and not fields and source not in ("document", "rest"):
        raise MappingError(f'{where}: a jsonb column takes source = "document" | "rest" or a field')
    if spec["type"] != "jsonb" and not fields:
        raise MappingError(f"{where}: needs field = name or [names]")
    try:
        convert = CONVERTERS[spec["type"]](name, spec) if spec["type"] != "jsonb" else None
    except re.error as error:
        raise MappingError(f"{where}: bad pattern: {error}") from None
    return Column(name, spec["type"], fields, source, bool(spec.get("required")), spec.get("requires"), convert)


class Mapping:
    """A loaded mapping file. ``tenant_exists(uuid_text)`` says whether ``iam.tenants`` has the tenant."""

    def __init__(self, document: dict[str, Any], tenant_exists: Callable[[str], bool],
                 fixed_tenant: str | None = None, tenant_from: list[str] | None = None) -> None:
        self.document = document  # as written: the SQL mapping (sql_mapping.py) reads the checks' parameters
        self.tables: dict[str, TableMapping] = {}
        self.by_collection: dict[str, TableMapping] = {}
        for table, spec in (document.get("tables") or {}).items():
            if table not in TABLES:
                raise MappingError(f"tables.{table}: not a target table (one of {', '.join(TABLES)})")
            columns = tuple(_column(table, n, s) for n, s in (spec.get("columns") or {}).items())
            mapping = TableMapping(table, tuple(spec.get("collections") or (table,)), columns)
            self.tables[table] = mapping
            for collection in mapping.collections:
                self.by_collection[collection] = mapping
        self.tenant_from = list(tenant_from or (document.get("tenant") or {}).get("from") or ["path:tenants"])
        for rule in self.tenant_from:
            if not re.fullmatch(r"(path|field):.+", rule):
                raise MappingError(f'tenant.from: {rule!r} is neither "path:<segment>" nor "field:<name>"')
        self.max_bytes = int((document.get("limits") or {}).get("max_document_bytes", 1 << 20))
        self.fixed_tenant = fixed_tenant
        self.tenant_exists = tenant_exists
        self._tenants: dict[str, str | None] = {}

    def _tenant(self, segments: list[str], data: dict[str, Any]) -> str:
        raw = self.fixed_tenant
        for rule in self.tenant_from if raw is None else ():
            kind, name = rule.split(":", 1)
            if kind == "path":
                hits = [i for i in range(0, len(segments) - 2, 2) if segments[i] == name]
                raw = segments[hits[0] + 1] if hits else None
            else:
                raw = data.get(name)
            if raw is not None:
                break
        if raw is None:
            raise BadValue(f"no tenant (looked at {', '.join(self.tenant_from)})")
        if not isinstance(raw, str):
            raise BadValue(f"tenant is a {type(raw).__name__}, not a uuid string")
        if raw not in self._tenants:
            try:
                canonical = str(uuid.UUID(raw))
            except ValueError:
                canonical = None
            self._tenants[raw] = canonical if canonical and self.tenant_exists(canonical) else None
            if canonical is None:
                raise BadValue(f"tenant {raw[:60]!r} is not a uuid")
        tenant = self._tenants[raw]
        if tenant is None:
            raise BadValue(f"unknown tenant {raw[:60]} (not in iam.tenants)")
        return tenant

    def map(self, document: SourceDocument) -> MappedRow | Rejected:
        """The document as a row of its table, or why it cannot be one."""
        if document.error:
            return Rejected(None, document.error)
        segments = document.path.split("/") if document.path else []
        if len(segments) < 2 or len(segments) % 2 or not all(segments):
            return Rejected(None, f"malformed document path {str(document.path)[:100]!r}")
        target = self.by_collection.get(segments[-2])
        if target is None:
            return Rejected(None, f"no table is mapped for collection {segments[-2][:100]!r}")
        try:
            return self._row(target, segments, document)
        except BadValue as error:
            return Rejected(target.table, str(error))
        except RecursionError:
            return Rejected(target.table, "document nested too deeply")

    def _row(self, target: TableMapping, segments: list[str], document: SourceDocument) -> MappedRow:
        firebase_id = segments[-1]
        if len(firebase_id) > MAX_FIREBASE_ID:
            raise BadValue(f"document id of {len(firebase_id)} characters (firebase_id allows {MAX_FIREBASE_ID})")
        if document.size is not None and document.size > self.max_bytes:
            raise BadValue(f"oversized: {document.size} bytes > {self.max_bytes}")
        if not isinstance(document.data, dict):
            raise BadValue(f"document data is a {type(document.data).__name__}, not a map")
        data = plain(document.data)
        plain(firebase_id)
        tenant = self._tenant(segments, data)
        values: dict[str, str | None] = {}
        taken: set[str] = set()
        for column in target.columns:
            if column.kind == "jsonb":
                continue
            found, value = _lookup(data, column.fields)
            if found is not None:
                taken.add(found.split(".")[0])
            if value is None:
                if column.required:
                    raise BadValue(f"{column.name}: missing (field {' or '.join(column.fields)})")
                values[column.name] = None
            else:
                values[column.name] = column.convert(value)
        fields = []
        for column in target.columns:
            if column.requires and values.get(column.name) is not None and values.get(column.requires) is None:
                raise BadValue(f"{column.name} is set but {column.requires} is missing")
            if column.kind != "jsonb":
                fields.append(NULL if values[column.name] is None else values[column.name])
                continue
            text = self._json_column(column, data, taken)  # control characters come escaped: only \\ is left
            fields.append(text.replace("\\", "\\\\") if "\\" in text else text)
        if document.size is None and sum(len(f) for f in fields) > self.max_bytes:
            raise BadValue(f"oversized: more than {self.max_bytes} bytes")
        return MappedRow(target.table, tenant, firebase_id, "\t".join(fields))

    @staticmethod
    def _json_column(column: Column, data: dict[str, Any], taken: set[str]) -> str:
        if column.source == "document":
            return _json(data)
        if column.source == "rest":
            return _json({k: v for k, v in data.items() if k not in taken})
        _, value = _lookup(data, column.fields)
        if value is None:
            return "{}"
        if not isinstance(value, dict):
            raise BadValue(f"{column.name}: expected a map, got {type(value).__name__}")
        return _json(value)


def load_mapping(path: Path | None, tenant_exists: Callable[[str], bool], fixed_tenant: str | None = None,
                 tenant_from: list[str] | None = None) -> Mapping:
    """The mapping in ``path``, or the shipped defaults (``mappings.toml``) when None."""
    try:
        text = path.read_text() if path else resources.files(__package__).joinpath("mappings.toml").read_text()
        document = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise MappingError(f"cannot read the mapping {path or 'mappings.toml'}: {error}") from None
    return Mapping(document, tenant_exists, fixed_tenant, tenant_from)
