"""Catalog snapshot: a plain, JSON-serialisable, deterministic description of everything in the schema's schemas.

``snapshot(conn)`` reads pg_catalog and returns nested dicts and sorted lists of strings, booleans and integers:
schemas, tables (columns with types, nullability, defaults, identity; constraints with their definition and FK
actions; indexes; triggers and whether they are enabled; RLS and its policies), views, sequences, functions
(signature, return type, language, volatility, SECURITY DEFINER, ``SET`` configuration, a hash of the body), grants
and comments, event triggers whose function lives in those schemas, plus the attributes of the roles the grants
name. No OIDs, no timestamps, no server-specific names:
the role that owns the schema is written ``<owner>``, so snapshots taken on different servers compare equal.

Used by the contract tests (a second apply and apply → rollback → apply leave the snapshot unchanged) and by
``verify`` (``diff(expected, snapshot(conn))`` against the committed ``contract.json``).
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

SCHEMAS: tuple[str, ...] = ("iam", "finanzas", "stock", "gobernanza", "sys", "events", "migration")
OWNER = "<owner>"
CONTRACT_PATH = Path(__file__).resolve().parent / "contract.json"

_ACL_KINDS = {"r": "r", "v": "r", "m": "r", "p": "r", "f": "r", "S": "s"}
_FK_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
_CONSTRAINT_TYPES = {"c": "CHECK", "f": "FOREIGN KEY", "p": "PRIMARY KEY", "u": "UNIQUE", "x": "EXCLUDE"}
_TRIGGER_ENABLED = {"O": "ORIGIN", "A": "ALWAYS", "R": "REPLICA", "D": "DISABLED"}
_VOLATILITY = {"i": "IMMUTABLE", "s": "STABLE", "v": "VOLATILE"}
_PARALLEL = {"s": "SAFE", "r": "RESTRICTED", "u": "UNSAFE"}
_KINDS = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window"}
_QUALIFIER = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\.(?=[A-Za-z_\"])")
_POLICY_COMMANDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}


def snapshot(conn: psycopg.Connection, schemas: tuple[str, ...] = SCHEMAS) -> dict[str, Any]:
    """Everything in ``schemas`` as one deterministic, JSON-serialisable dict (see the module docstring)."""
    reader = _Reader(conn, list(schemas))
    result = {
        "schemas": reader.schemas(),
        "tables": reader.relations("r", "p"),
        "views": reader.relations("v", "m"),
        "sequences": reader.relations("S"),
        "functions": reader.functions(),
        "event_triggers": reader.event_triggers(),
    }
    result["roles"] = reader.roles(_named_roles(result))
    return result


def diff(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Readable differences between two snapshots, one line per differing leaf (``a.b[key]: expected → actual``)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        lines: list[str] = []
        for key in sorted(set(expected) | set(actual)):
            where = f"{path}.{key}" if path else key
            if key not in actual:
                lines.append(f"{where}: missing")
            elif key not in expected:
                lines.append(f"{where}: unexpected")
            else:
                lines.extend(diff(expected[key], actual[key], where))
        return lines
    if expected != actual:
        return [f"{path}: expected {json.dumps(expected)}, got {json.dumps(actual)}"]
    return []


def write_contract(conn: psycopg.Connection, path: Path = CONTRACT_PATH) -> Path:
    """Write the snapshot of a freshly migrated database as the expected contract (run after a schema change)."""
    path.write_text(json.dumps(snapshot(conn), indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load_contract(path: Path = CONTRACT_PATH) -> dict[str, Any]:
    """The committed expected snapshot."""
    return json.loads(path.read_text(encoding="utf-8"))


def _unqualified(sql: str) -> str:
    """A view's deparsed text without ``alias.`` / ``schema.`` prefixes: PostgreSQL 16+ leaves out the alias of a
    query's only relation where 15 writes it, so only the unqualified text compares equal across majors."""
    return _QUALIFIER.sub("", sql)


def _named_roles(snap: dict[str, Any]) -> set[str]:
    """Every role a grant or policy in the snapshot names, except PUBLIC and the owner placeholder."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "grants":
                    names.update(grant.split(":", 1)[0] for grant in value)
                elif key == "roles" and isinstance(value, list):
                    names.update(value)
                else:
                    walk(value)

    walk(snap)
    return names - {"PUBLIC", OWNER}


class _Reader:
    """The catalog queries behind ``snapshot``; one instance per snapshot."""

    def __init__(self, conn: psycopg.Connection, schemas: list[str]) -> None:
        self.conn = conn
        self.schemas_wanted = schemas
        row = self._rows("SELECT coalesce((SELECT nspowner FROM pg_namespace WHERE nspname = %s),"
                         " (SELECT oid FROM pg_roles WHERE rolname = current_user)) AS owner", [schemas[0]])
        self.owner_oid: int = row[0]["owner"]

    def _rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def _role(self, oid: int, name: str | None) -> str:
        if oid == 0:
            return "PUBLIC"
        return OWNER if oid == self.owner_oid else str(name)

    def _grants(self, rows: list[dict[str, Any]]) -> list[str]:
        """``grantee:PRIVILEGE`` (``*`` suffix when grantable), sorted. Grantors and the owner's own privileges
        are left out: the owner holds them all anyway, and their list grows with the server (MAINTAIN, 17+)."""
        return sorted({f"{self._role(r['grantee'], r['grantee_name'])}:{r['privilege']}{'*' if r['grantable'] else ''}"
                       for r in rows if r["privilege"] is not None and r["grantee"] != self.owner_oid})

    def _acl_rows(self, acl_sql: str, key_sql: str, from_sql: str, where_sql: str,
                  params: list[Any]) -> dict[Any, list[str]]:
        rows = self._rows(
            f"SELECT {key_sql} AS key, a.grantee, g.rolname AS grantee_name, a.privilege_type AS privilege,"
            f" a.is_grantable AS grantable"
            f" FROM {from_sql} CROSS JOIN LATERAL aclexplode({acl_sql}) AS a"
            f" LEFT JOIN pg_roles AS g ON g.oid = a.grantee WHERE {where_sql}", params)
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            grouped.setdefault(row["key"], []).append(row)
        return {key: self._grants(value) for key, value in grouped.items()}

    def schemas(self) -> dict[str, Any]:
        rows = self._rows("SELECT n.nspname AS name, n.nspowner AS owner, o.rolname AS owner_name,"
                          " obj_description(n.oid, 'pg_namespace') AS comment"
                          " FROM pg_namespace AS n JOIN pg_roles AS o ON o.oid = n.nspowner"
                          " WHERE n.nspname = ANY(%s)", [self.schemas_wanted])
        grants = self._acl_rows("coalesce(n.nspacl, acldefault('n', n.nspowner))", "n.nspname",
                                "pg_namespace AS n", "n.nspname = ANY(%s)", [self.schemas_wanted])
        return {r["name"]: {"owner": self._role(r["owner"], r["owner_name"]), "comment": r["comment"],
                            "grants": grants.get(r["name"], [])} for r in rows}

    def relations(self, *kinds: str) -> dict[str, Any]:
        rows = self._rows(
            "SELECT c.oid, n.nspname || '.' || c.relname AS name, c.relkind AS kind, c.relowner AS owner,"
            " o.rolname AS owner_name, c.relrowsecurity AS rls, c.relforcerowsecurity AS force_rls,"
            " coalesce(c.reloptions, '{}') AS options, obj_description(c.oid, 'pg_class') AS comment,"
            " CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS view_definition"
            " FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
            " JOIN pg_roles AS o ON o.oid = c.relowner"
            " WHERE n.nspname = ANY(%s) AND c.relkind = ANY(%s)", [self.schemas_wanted, list(kinds)])
        if not rows:
            return {}
        oids = [r["oid"] for r in rows]
        acl_kind = _ACL_KINDS[kinds[0]]
        grants = self._acl_rows(f"coalesce(c.relacl, acldefault('{acl_kind}', c.relowner))", "c.oid::bigint",
                                "pg_class AS c", "c.oid = ANY(%s)", [oids])
        columns = self._columns(oids)
        result: dict[str, Any] = {}
        for r in rows:
            entry: dict[str, Any] = {
                "owner": self._role(r["owner"], r["owner_name"]),
                "comment": r["comment"],
                "grants": grants.get(r["oid"], []),
            }
            if r["kind"] != "S":
                entry["columns"] = columns.get(r["oid"], [])
            if r["kind"] in ("r", "p"):
                entry["row_level_security"] = r["rls"]
                entry["force_row_level_security"] = r["force_rls"]
                entry["options"] = sorted(r["options"])
            if r["kind"] in ("v", "m"):
                entry["definition"] = _unqualified(r["view_definition"].strip())
                entry["options"] = sorted(r["options"])
            result[r["name"]] = entry
        if kinds[0] in ("r", "p"):
            self._add_table_details(result, {r["oid"]: r["name"] for r in rows})
        return result

    def _columns(self, oids: list[int]) -> dict[int, list[dict[str, Any]]]:
        rows = self._rows(
            "SELECT a.attrelid AS rel, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,"
            " a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default,"
            " a.attidentity AS identity, a.attgenerated AS generated,"
            " col_description(a.attrelid, a.attnum) AS comment"
            " FROM pg_attribute AS a LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
            " WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped"
            " ORDER BY a.attrelid, a.attnum", [oids])
        result: dict[int, list[dict[str, Any]]] = {}
        for r in rows:
            result.setdefault(r["rel"], []).append({
                "name": r["name"], "type": r["type"], "not_null": r["not_null"], "default": r["default"],
                "identity": {"a": "ALWAYS", "d": "BY DEFAULT"}.get(r["identity"]),
                "generated": r["generated"] == "s", "comment": r["comment"],
            })
        return result

    def _add_table_details(self, tables: dict[str, Any], names: dict[int, str]) -> None:
        oids = list(names)
        for name in tables:
            tables[name].update(constraints={}, indexes={}, triggers={}, policies={})
        for r in self._rows(
                "SELECT c.conrelid AS rel, c.conname AS name, c.contype AS type, pg_get_constraintdef(c.oid) AS def,"
                " c.condeferrable AS deferrable, c.condeferred AS deferred, c.confdeltype AS on_delete,"
                " c.confupdtype AS on_update, fn.nspname || '.' || f.relname AS references,"
                " obj_description(c.oid, 'pg_constraint') AS comment"
                " FROM pg_constraint AS c LEFT JOIN pg_class AS f ON f.oid = c.confrelid"
                " LEFT JOIN pg_namespace AS fn ON fn.oid = f.relnamespace"
                " WHERE c.conrelid = ANY(%s) AND c.contype IN ('c', 'f', 'p', 'u', 'x')", [oids]):
            entry: dict[str, Any] = {"type": _CONSTRAINT_TYPES[r["type"]], "definition": r["def"],
                                     "deferrable": r["deferrable"], "deferred": r["deferred"], "comment": r["comment"]}
            if r["type"] == "f":
                entry.update(references=r["references"], on_delete=_FK_ACTIONS[r["on_delete"]],
                             on_update=_FK_ACTIONS[r["on_update"]])
            tables[names[r["rel"]]]["constraints"][r["name"]] = entry
        for r in self._rows(
                "SELECT i.indrelid AS rel, x.relname AS name, pg_get_indexdef(i.indexrelid) AS def,"
                " i.indisunique AS is_unique, i.indisprimary AS is_primary,"
                " obj_description(i.indexrelid, 'pg_class') AS comment"
                " FROM pg_index AS i JOIN pg_class AS x ON x.oid = i.indexrelid WHERE i.indrelid = ANY(%s)", [oids]):
            tables[names[r["rel"]]]["indexes"][r["name"]] = {
                "definition": r["def"], "unique": r["is_unique"], "primary": r["is_primary"], "comment": r["comment"]}
        for r in self._rows(
                "SELECT t.tgrelid AS rel, t.tgname AS name, pg_get_triggerdef(t.oid) AS def, t.tgenabled AS enabled,"
                " obj_description(t.oid, 'pg_trigger') AS comment"
                " FROM pg_trigger AS t WHERE t.tgrelid = ANY(%s) AND NOT t.tgisinternal", [oids]):
            tables[names[r["rel"]]]["triggers"][r["name"]] = {
                "definition": r["def"], "enabled": _TRIGGER_ENABLED[r["enabled"]], "comment": r["comment"]}
        for r in self._rows(
                "SELECT p.polrelid AS rel, p.polname AS name, p.polcmd AS command, p.polpermissive AS permissive,"
                " array(SELECT CASE WHEN role_oid = 0 THEN 'PUBLIC' ELSE (SELECT rolname FROM pg_roles"
                " WHERE oid = role_oid) END FROM unnest(p.polroles) AS role_oid) AS roles,"
                " pg_get_expr(p.polqual, p.polrelid) AS using, pg_get_expr(p.polwithcheck, p.polrelid) AS with_check,"
                " obj_description(p.oid, 'pg_policy') AS comment"
                " FROM pg_policy AS p WHERE p.polrelid = ANY(%s)", [oids]):
            tables[names[r["rel"]]]["policies"][r["name"]] = {
                "command": _POLICY_COMMANDS[r["command"]], "permissive": r["permissive"],
                "roles": sorted(r["roles"]), "using": r["using"], "with_check": r["with_check"],
                "comment": r["comment"]}

    def event_triggers(self) -> dict[str, Any]:
        """Event triggers (database-wide objects) that run a function of the wanted schemas."""
        rows = self._rows(
            "SELECT e.evtname AS name, e.evtevent AS event, coalesce(e.evttags, '{}') AS tags,"
            " e.evtfoid::regprocedure::text AS function, e.evtenabled AS enabled,"
            " obj_description(e.oid, 'pg_event_trigger') AS comment"
            " FROM pg_event_trigger AS e JOIN pg_proc AS p ON p.oid = e.evtfoid"
            " JOIN pg_namespace AS n ON n.oid = p.pronamespace WHERE n.nspname = ANY(%s)", [self.schemas_wanted])
        return {r["name"]: {"event": r["event"], "tags": sorted(r["tags"]), "function": r["function"],
                            "enabled": _TRIGGER_ENABLED[r["enabled"]], "comment": r["comment"]} for r in rows}

    def functions(self) -> dict[str, Any]:
        rows = self._rows(
            "SELECT p.oid, n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'"
            " AS signature, pg_get_function_arguments(p.oid) AS arguments,"
            " pg_get_function_result(p.oid) AS result, l.lanname AS language, p.prokind AS kind,"
            " p.provolatile AS volatility, p.proisstrict AS strict, p.prosecdef AS security_definer,"
            " p.proleakproof AS leakproof, p.proparallel AS parallel, coalesce(p.proconfig, '{}') AS config,"
            " p.prosrc AS body, p.proowner AS owner, o.rolname AS owner_name,"
            " obj_description(p.oid, 'pg_proc') AS comment"
            " FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace"
            " JOIN pg_language AS l ON l.oid = p.prolang JOIN pg_roles AS o ON o.oid = p.proowner"
            " WHERE n.nspname = ANY(%s)", [self.schemas_wanted])
        grants = self._acl_rows("coalesce(p.proacl, acldefault('f', p.proowner))", "p.oid::bigint",
                                "pg_proc AS p", "p.oid = ANY(%s)", [[r["oid"] for r in rows]])
        return {r["signature"]: {
            "arguments": r["arguments"], "result": r["result"], "language": r["language"],
            "kind": _KINDS[r["kind"]], "volatility": _VOLATILITY[r["volatility"]], "strict": r["strict"],
            "security_definer": r["security_definer"], "leakproof": r["leakproof"],
            "parallel": _PARALLEL[r["parallel"]], "config": sorted(r["config"]),
            "body_sha256": hashlib.sha256(r["body"].encode("utf-8")).hexdigest(),
            "owner": self._role(r["owner"], r["owner_name"]), "comment": r["comment"],
            "grants": grants.get(r["oid"], []),
        } for r in rows}

    def roles(self, names: set[str]) -> dict[str, Any]:
        rows = self._rows(
            "SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolinherit AS inherit,"
            " r.rolcreaterole AS createrole, r.rolcreatedb AS createdb, r.rolcanlogin AS login,"
            " r.rolreplication AS replication, r.rolbypassrls AS bypassrls,"
            " array(SELECT g.rolname FROM pg_auth_members AS m JOIN pg_roles AS g ON g.oid = m.roleid"
            " WHERE m.member = r.oid ORDER BY 1) AS member_of"
            " FROM pg_roles AS r WHERE r.rolname = ANY(%s)", [sorted(names)])
        return {r.pop("name"): r for r in rows}
