"""Gate check 6, old clients still served (N-1): what base's application may call and read is still there after
the upgrade, read the same way. Functions are probed, not diffed: every call form base's clients can write
(positional and named, each count of trailing defaults left out) is resolved by the server on base and on the
upgraded head (``CREATE TEMP VIEW … AS SELECT * FROM f(NULL::t, …)`` in a rolled-back savepoint: parse analysis
only, nothing runs), so a new overload that makes old calls ambiguous (42725) or a removed signature (42883) shows
as the error an old client would get. A breaking finding is an error unless a new upgrade that names the object
is marked ``breaking: contract — <note>`` (then info with the note)."""
from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from leadboost_schema.catalog.snapshot import snapshot
from leadboost_schema.gate.build import Databases
from leadboost_schema.gate.findings import CheckResult, Finding
from leadboost_schema.gate.plan import GatePlan
from leadboost_schema.gate.upgraded import Upgraded, upgraded_base
from leadboost_schema.gate.widening import reads_the_same
from leadboost_schema.testing.public_api import APP_ROLE, parse_parameters

NAME = "old clients"
_CODE = re.compile(r"^\| (LB\d{3}) \|", re.MULTILINE)
_PROBE = "lb_gate_call_probe"


@dataclass(frozen=True)
class Resolution:
    """What the server made of one call form: the function it resolved to and the columns a client reads, or
    the error an old client would get."""

    function: str = ""
    executable: bool = False
    columns: tuple[tuple[str, str], ...] = ()
    sqlstate: str = ""
    error: str = ""


def check_old_clients(dbs: Databases, plan: GatePlan, upgraded: Upgraded | None = None) -> CheckResult:
    """Check 6: base's application API (from ``dbs.base_catalog``) against the upgraded base (made here when not
    given; a fresh head install when the upgrade itself failed, which check 2 reports)."""
    if upgraded is None:
        with upgraded_base(dbs, plan) as made:
            return check_old_clients(dbs, plan, made)
    result = CheckResult(NAME)
    contract_steps = [u for u in plan.new_upgrades if u.breaking]
    result.findings += [Finding(NAME, "info", u.name, f"{u.name} is the contract step of an expand/contract change: "
                                f"{u.breaking}") for u in contract_steps]
    functions = _app_functions(dbs.base_catalog)
    with dbs.clone("base") as base_dsn, psycopg.connect(base_dsn) as base:
        before = {form: _resolve(base, form) for _, forms in functions for form in forms}
    with _head(dbs, upgraded, result) as head_dsn, psycopg.connect(head_dsn) as head:
        after = {form: _resolve(head, form) for form in before}
        head_catalog = snapshot(head)
    breaking = _function_breaks(functions, before, after)
    breaking += _relation_breaks(dbs.base_catalog, head_catalog)
    breaking += _error_code_breaks(plan.base_dir, plan.head_dir)
    texts = {u.name: u.path.read_text(encoding="utf-8") for u in contract_steps}
    for where, message, fix in breaking:
        result.findings.append(_judge(where, message, fix, contract_steps, texts))
    result.figures.update({"functions": len(functions), "call forms": len(before),
                           "relations read": len(_readable(dbs.base_catalog)), "breaking": len(breaking)})
    return result


@contextlib.contextmanager
def _head(dbs: Databases, upgraded: Upgraded, result: CheckResult) -> Iterator[str]:
    """The upgraded clone, or a fresh head clone when the upgrade failed."""
    if not upgraded.failure:
        yield upgraded.dsn
        return
    result.findings.append(Finding(NAME, "info", "", "the upgrade failed (see 'upgrade = fresh'): old clients were "
                                   "checked against a fresh head install"))
    with dbs.clone("head") as dsn:
        yield dsn


def _app_functions(catalog: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Each function the app role may EXECUTE with every call form of it, as SQL text."""
    found = []
    for signature, spec in sorted(catalog["functions"].items()):
        if spec["result"] == "trigger" or f"{APP_ROLE}:EXECUTE" not in spec["grants"]:
            continue
        found.append((signature, list(_call_forms(signature.split("(", 1)[0], spec["arguments"]))))
    return found


def _call_forms(name: str, arguments: str) -> Iterator[str]:
    """Positional and named calls with every count of trailing defaulted parameters left out."""
    parameters = parse_parameters(arguments)
    required = sum(p.default is None for p in parameters)
    schema, function = name.split(".")
    target = sql.Identifier(schema, function).as_string(None)
    for count in range(required, len(parameters) + 1):
        used = parameters[:count]
        yield f"SELECT * FROM {target}({', '.join(f'NULL::{p.type}' for p in used)})"
        if used:
            yield f"SELECT * FROM {target}({', '.join(f'{p.name} => NULL::{p.type}' for p in used)})"


def _resolve(conn: psycopg.Connection, form: str) -> Resolution:
    """Resolve one call form in a rolled-back savepoint (parse analysis only: no planning, nothing runs)."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(f"CREATE TEMP VIEW {_PROBE} AS {form}")
            called = conn.execute(
                "SELECT d.refobjid::regprocedure::text, has_function_privilege(%s, d.refobjid, 'EXECUTE')"
                " FROM pg_depend AS d JOIN pg_rewrite AS r ON r.oid = d.objid"
                " WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_proc'::regclass"
                " AND r.ev_class = %s::regclass ORDER BY 1", (APP_ROLE, _PROBE)).fetchall()
            columns = conn.execute(
                "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute"
                " WHERE attrelid = %s::regclass AND attnum > 0 ORDER BY attnum", (_PROBE,)).fetchall()
    except psycopg.Error as error:
        return Resolution(sqlstate=error.sqlstate or "", error=(error.diag.message_primary or str(error)))
    wanted = form.split(" FROM ", 1)[1].split("(", 1)[0].replace('"', "")
    function, executable = next(((f, x) for f, x in called if f.startswith(wanted + "(")), called[0])
    return Resolution(function, executable, tuple(map(tuple, columns)))


def _function_breaks(functions: list[tuple[str, list[str]]], before: dict[str, Resolution],
                     after: dict[str, Resolution]) -> list[tuple[str, str, str]]:
    """One break per function and kind of problem (the first call form showing it), for calls base resolved."""
    found: dict[tuple[str, str], tuple[str, str, str]] = {}
    for signature, forms in functions:
        for form in forms:
            old, new = before[form], after[form]
            if old.sqlstate:  # base's own clients cannot write this call either
                continue
            problem = _call_problem(old, new)
            if problem:
                kind, message, fix = problem
                found.setdefault((signature, kind), (signature, f"{message} — old call `{form}`", fix))
    return list(found.values())


def _call_problem(old: Resolution, new: Resolution) -> tuple[str, str, str] | None:
    if new.sqlstate == "42725":
        return ("ambiguous", f"an old call is now ambiguous ({new.sqlstate}: {new.error})",
                "drop the old overload in the same upgrade (a contract step), or give the new function another "
                "name; never a second overload whose defaults cover the old argument list")
    if new.sqlstate:
        return ("gone", f"an old call no longer resolves ({new.sqlstate}: {new.error})",
                "keep the old signature (expand), remove it only in a later contract step")
    if not new.executable:
        return ("privilege", f"{APP_ROLE} may no longer EXECUTE {new.function}", f"GRANT EXECUTE … TO {APP_ROLE}")
    narrowed = _columns_break(old.columns, new.columns)
    if narrowed:
        return ("result", f"{new.function} returns {narrowed}", "keep base's result columns, in order; add new "
                "ones after them")
    return None


def _columns_break(old: tuple[tuple[str, str], ...], new: tuple[tuple[str, str], ...]) -> str:
    """What a reader of ``old`` result columns finds changed in ``new`` ('' when base's come first, each read
    the same way; columns added after them are fine)."""
    for position, (name, kind) in enumerate(old):
        if position >= len(new):
            return f"no column {name} (position {position + 1})"
        new_name, new_kind = new[position]
        if new_name != name:
            return f"{new_name} where base returned {name} (position {position + 1})"
        if not reads_the_same(kind, new_kind):
            return f"{name} as {new_kind}, not {kind}"
    return ""


def _readable(catalog: dict[str, Any]) -> dict[str, dict[str, Any]]:
    relations = {**catalog["tables"], **catalog["views"]}
    return {name: r for name, r in sorted(relations.items()) if f"{APP_ROLE}:SELECT" in r["grants"]}


def _relation_breaks(base: dict[str, Any], head: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Each table or view the app role reads in base: still there, still readable, each column read the same."""
    found = []
    now = {**head["tables"], **head["views"]}
    for name, relation in _readable(base).items():
        if name not in now:
            found.append((name, f"{name}, which {APP_ROLE} reads in base, is gone", "keep it (or a view of that "
                          "name) until base's clients are retired"))
            continue
        if f"{APP_ROLE}:SELECT" not in now[name]["grants"]:
            found.append((name, f"{APP_ROLE} may no longer SELECT {name}", f"GRANT SELECT ON {name} TO {APP_ROLE}"))
        columns = {c["name"]: c["type"] for c in now[name]["columns"]}
        for column in relation["columns"]:
            where = f"{name}.{column['name']}"
            if column["name"] not in columns:
                found.append((where, f"column {where}, which base's clients read, is dropped", "drop it only in a "
                              "contract step, after no client reads it (mark the upgrade `breaking: contract — …`)"))
            elif not reads_the_same(column["type"], columns[column["name"]]):
                found.append((where, f"column {where} is {columns[column['name']]}, base's clients read "
                              f"{column['type']}: narrowed or changed", "widen only (varchar(n) → text, "
                              "int → bigint, more numeric precision), or add a new column"))
    return found


def _codes(schema_dir: Path) -> tuple[set[str], str]:
    readme = schema_dir / "README.md"
    documented = set(_CODE.findall(readme.read_text(encoding="utf-8"))) if readme.is_file() else set()
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(schema_dir.rglob("*.sql")))
    return documented, text


def _error_code_breaks(base_dir: Path, head_dir: Path) -> list[tuple[str, str, str]]:
    """Every LB code base documents and its SQL raises is still in head's SQL (a client may branch on it)."""
    documented, base_sql = _codes(base_dir)
    _, head_sql = _codes(head_dir)
    return [(code, f"error code {code}, documented and raised by base, appears nowhere in head's SQL",
             "keep raising it for the same condition, or retire it in a contract step")
            for code in sorted(documented) if code in base_sql and code not in head_sql]


def _judge(where: str, message: str, fix: str, contract_steps: list, texts: dict[str, str]) -> Finding:
    """Error, unless a new upgrade marked as a contract step names the object (then info with its note)."""
    short = where.split("(", 1)[0].rsplit(".", 1)[-1]
    for upgrade in contract_steps:
        if re.search(rf"\b{re.escape(short)}\b", texts[upgrade.name]):
            return Finding(NAME, "info", where, f"breaking, allowed: {message}; {upgrade.name} is the contract "
                           f"step: {upgrade.breaking}")
    return Finding(NAME, "error", where, f"breaking: {message}", fix)
