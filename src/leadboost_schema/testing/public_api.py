"""The public SQL functions as data: which they are (read from the catalog contract and schema/README.md), their
parameters, valid arguments for a tenant made by ``tenant_rows``, and a call of one as SQL.

A call names every argument and casts it to the parameter's declared type, so any Python value can be sent:
a ``str`` is sent as text and parsed by PostgreSQL (malformed input gets PostgreSQL's own error, as a client that
sends everything as text would), ``None`` is SQL NULL, and for ``jsonb`` parameters any non-``str`` value is sent
as JSON (a ``str`` is raw JSON text, which may be malformed on purpose).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from psycopg import sql

from leadboost_schema.catalog.snapshot import load_contract
from leadboost_schema.paths import schema_dir
from leadboost_schema.testing.tenant_rows import LEGS, PAYLOAD, TenantRows

APP_ROLE = "leadboost_app"


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: str | None  # the default's SQL text, None when the parameter has no default

    @property
    def accepts_null(self) -> bool:
        """True when its documented default is NULL: leaving it out and passing NULL mean the same."""
        return self.default is not None and self.default.upper().startswith("NULL")


@dataclass(frozen=True)
class Function:
    name: str  # schema.function
    parameters: tuple[Parameter, ...]
    security_definer: bool

    @property
    def takes_tenant(self) -> bool:
        return any(p.name == "p_tenant_id" for p in self.parameters)

    def parameter(self, name: str) -> Parameter:
        return next(p for p in self.parameters if p.name == name)


_PARAMETER = re.compile(r"(\w+) (.+?)(?: DEFAULT (.+))?$")


def parse_parameters(arguments: str) -> tuple[Parameter, ...]:
    """``"p_a uuid, p_b text DEFAULT 'x'::text"`` (pg_get_function_arguments) as Parameters."""
    if not arguments.strip():
        return ()
    parts = re.split(r",\s*(?=p_\w+ )", arguments)
    return tuple(Parameter(*_PARAMETER.match(part.strip()).groups()) for part in parts)


def _functions(contract: dict[str, Any]) -> dict[str, Function]:
    found = {}
    for signature, spec in contract["functions"].items():
        if spec["result"] == "trigger":
            continue
        name = signature.split("(", 1)[0]
        found[name] = Function(name, parse_parameters(spec["arguments"]), spec["security_definer"])
    return found


def app_functions(contract: dict[str, Any] | None = None) -> list[Function]:
    """Every function ``leadboost_app`` may EXECUTE, by name."""
    contract = contract or load_contract()
    granted = {s.split("(", 1)[0] for s, spec in contract["functions"].items()
               if f"{APP_ROLE}:EXECUTE" in spec["grants"]}
    return [f for name, f in sorted(_functions(contract).items()) if name in granted]


def documented_functions(readme: Path | None = None) -> set[str]:
    """The functions schema/README.md lists in its "Public functions" tables."""
    text = (readme or schema_dir() / "README.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `(\w+\.\w+)\(", text, flags=re.MULTILINE))


def public_functions(contract: dict[str, Any] | None = None, readme: Path | None = None) -> list[Function]:
    """The application's functions and the documented maintenance ones (cleanups, the migration report)."""
    contract = contract or load_contract()
    every = _functions(contract)
    names = {f.name for f in app_functions(contract)} | (documented_functions(readme) & set(every))
    return [every[name] for name in sorted(names)]


def all_functions(contract: dict[str, Any] | None = None) -> list[Function]:
    """Every function of the seven schemas but the trigger functions, by name."""
    return [f for _, f in sorted(_functions(contract or load_contract()).items())]


# A valid value for each (parameter, type) the public functions take, for the tenant of ``rows``. Only parameters
# without a default need one; a function whose parameter is missing here makes ``valid_arguments`` fail loudly.
VALUES: dict[tuple[str, str], Callable[[TenantRows], Any]] = {
    ("p_tenant_id", "uuid"): lambda r: r.tenant_id,
    ("p_legs", "jsonb"): lambda r: LEGS,
    ("p_transaction_id", "uuid"): lambda r: r.posting,
    ("p_sku", "text"): lambda r: r.sku,
    ("p_quantity", "integer"): lambda r: 1,
    ("p_expected_version", "integer"): lambda r: 1,   # inventory items start at version 1
    ("p_expected_version", "bigint"): lambda r: 2,    # the stream has 2 events
    ("p_action", "text"): lambda r: "ads.spend",
    ("p_succeeded", "boolean"): lambda r: True,
    ("p_idempotency_key", "text"): lambda r: r.key_processing,
    ("p_payload", "jsonb"): lambda r: PAYLOAD,
    ("p_lock_token", "uuid"): lambda r: r.processing_token,
    ("p_response", "jsonb"): lambda r: {"ok": True},
    ("p_saga_type", "text"): lambda r: "order.place",
    ("p_steps", "jsonb"): lambda r: ["one"],
    ("p_saga_id", "uuid"): lambda r: r.saga_running,
    ("p_step_index", "integer"): lambda r: 2,
    ("p_stream_id", "text"): lambda r: r.stream_id,
    ("p_stream_type", "text"): lambda r: "ACCOUNT",
    ("p_event_type", "text"): lambda r: "Credited",
    ("p_state", "jsonb"): lambda r: {},
}
# Where one function needs another row than the parameter's usual one.
OVERRIDES: dict[str, dict[str, Callable[[TenantRows], Any]]] = {
    "sys.record_compensation_done": {"p_saga_id": lambda r: r.saga_compensating},
}


class MissingArgument(LookupError):
    """A public function takes a parameter VALUES has no valid value for."""


def valid_arguments(function: Function, rows: TenantRows, required_only: bool = True) -> dict[str, Any]:
    """Arguments with which ``function`` succeeds for the tenant of ``rows`` (parameters without a default;
    with ``required_only=False`` also those with one, when VALUES knows them)."""
    chosen = {}
    for p in function.parameters:
        override = OVERRIDES.get(function.name, {}).get(p.name)
        make = override or VALUES.get((p.name, p.type))
        if make is None:
            if p.default is None:
                raise MissingArgument(f"{function.name}: no valid value for {p.name} {p.type}: add one to "
                                      "leadboost_schema.testing.public_api.VALUES")
            continue
        if p.default is None or not required_only:
            chosen[p.name] = make(rows)
    return chosen


_EXACT = re.compile(r'"@@exact:([^"@]*)@@"')


def json_text(value: Any) -> str:
    """``value`` as JSON text, Decimals written exactly as JSON numbers (json.dumps cannot)."""
    return _EXACT.sub(r"\1", json.dumps(value, default=lambda d: f"@@exact:{d}@@" if isinstance(d, Decimal) else
                                          _refuse(d)))


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def call(function: Function, arguments: dict[str, Any]) -> tuple[sql.Composed, list[Any]]:
    """``SELECT * FROM f(p_a => %s::type, …)`` and its parameters (see the module docstring for the values)."""
    parts, params = [], []
    for name, value in arguments.items():
        declared = function.parameter(name).type
        parts.append(sql.SQL("{} => %s::{}").format(sql.Identifier(name), sql.SQL(declared)))
        params.append(json_text(value) if declared == "jsonb" and value is not None and not isinstance(value, str)
                      else value)
    schema, name = function.name.split(".")
    statement = sql.SQL("SELECT * FROM {}({})").format(sql.Identifier(schema, name), sql.SQL(", ").join(parts))
    return statement, params
