"""The declarative mapping (``mappings.toml``) as SQL: one statement that maps a transaction's raw JSON Lines
records, already in ``pg_temp.backfill_lines``, into one temp table per target (``pg_temp.backfill_mapped_<table>``),
and returns the positions it did not take.

The SQL takes a document only when it is sure ``Mapping.map`` would make the same row of it; everything else (a bad
document, and the forms this SQL does not attempt: typed values other than timestamps or below the top level, a
tenant uuid not in canonical form, text that needs Unicode case rules, timestamps outside the plain
``YYYY-MM-DDTHH:MM:SS[.f](Z|±HH:MM)`` form, documents with 100 brackets or more) comes back by position and is mapped
by Python, which quarantines it with its reason or maps it after all. So the predicates only need to be
conservative, never complete, and the quarantine reasons stay Python's.

Differences that remain, by design: jsonb keeps a number's digits as written (``1.50`` stays ``1.50``) where the
Python path reads numbers as doubles (``1.5``); the values are equal.
"""
from __future__ import annotations

from collections.abc import Callable

import psycopg

from leadboost_schema.backfill.mapping import MAX_FIREBASE_ID, Column, Mapping, TableMapping

LINES = "pg_temp.backfill_lines"
CANONICAL_UUID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
PRINTABLE_ASCII = "^[ -~]*$"
# What datetime.fromisoformat (Python 3.11) and timestamptz's input both read the same way; other forms go to Python.
PLAIN_ISO = ("^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
             "([.][0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")
# Keys that make a map a typed value for typed_values.plain; searched in jsonb's own text, where a quote inside a
# string is always escaped, so '"name": ' only occurs as a key.
MARKERS = ('"__datatype__": ', '"_seconds": ')
MAX_BRACKETS = 100  # fewer brackets than typed_values.MAX_DEPTH: the document cannot be nested that deep
LOWER, UPPER = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
COLUMN_TYPES = {"text": "text", "timestamptz": "timestamptz", "numeric": "numeric", "jsonb": "jsonb"}


def mapped_table(table: str) -> str:
    return f"pg_temp.backfill_mapped_{table}"


def create_temp_tables(conn: psycopg.Connection, mapping: Mapping) -> None:
    """The raw lines (parsed by COPY into jsonb), the mapped rows per target and the transaction's batch rows, all
    emptied at each commit."""
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {LINES.split('.')[1]} (n bigint GENERATED ALWAYS AS IDENTITY,"
                 " doc jsonb NOT NULL) ON COMMIT DELETE ROWS")
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS backfill_batches (id uuid NOT NULL, tenant_id uuid NOT NULL,"
                 " collection text NOT NULL) ON COMMIT DELETE ROWS")
    for table, target in mapping.tables.items():
        columns = ", ".join(f'"{c.name}" {COLUMN_TYPES[c.kind]}' for c in target.columns)
        conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {mapped_table(table).split('.')[1]} (position bigint NOT NULL,"
                     f" tenant_id uuid NOT NULL, firebase_id text NOT NULL{', ' if columns else ''}{columns})"
                     " ON COMMIT DELETE ROWS")


class SqlMapping:
    """The generated statements for one mapping; ``literal`` quotes a value for the connection."""

    def __init__(self, mapping: Mapping, literal: Callable[[object], str]) -> None:
        self.mapping, self.lit = mapping, literal

    # -- values ---------------------------------------------------------------------------------------------------
    def _timestamp_text(self, seconds: str, nanos: str) -> str:
        """ISO text of a Firestore timestamp (typed_values._from_seconds), NULL unless both parts are valid."""
        return (f"CASE WHEN jsonb_typeof({seconds}) = 'number' AND jsonb_typeof({nanos}) = 'number'"
                f" AND ({seconds})::text ~ '^-?[0-9]{{1,12}}$' AND ({nanos})::text ~ '^[0-9]{{1,9}}$'"
                f" AND ({seconds})::text::bigint BETWEEN -62135596800 AND 253402300799"
                f" THEN to_char(to_timestamp(({seconds})::text::bigint) AT TIME ZONE 'UTC',"
                f" 'YYYY-MM-DD\"T\"HH24:MI:SS') || '.' || lpad((({nanos})::text::bigint / 1000)::text, 6, '0')"
                " || 'Z' END")

    def _plain_value(self, value: str) -> str:
        """A top-level field as typed_values.plain makes it: a timestamp (either export form) becomes its ISO text,
        any other map with a marker key NULL (Python's business), everything else itself."""
        tagged = self._timestamp_text(f"{value} -> 'value' -> '_seconds'",
                                      f"COALESCE({value} -> 'value' -> '_nanoseconds', '0')")
        bare = self._timestamp_text(f"{value} -> '_seconds'", f"{value} -> '_nanoseconds'")
        return (f"CASE WHEN jsonb_typeof({value}) <> 'object' THEN {value}"
                f" WHEN {value} ? '__datatype__' THEN CASE WHEN {value} ->> '__datatype__' = 'timestamp'"
                f" AND jsonb_typeof({value} -> '__datatype__') = 'string'"
                f" AND jsonb_typeof({value} -> 'value') = 'object' THEN to_jsonb({tagged}) END"
                f" WHEN {value} ? '_seconds' THEN CASE WHEN {value} ? '_nanoseconds'"
                f" AND (SELECT count(*) FROM jsonb_object_keys({value})) = 2 THEN to_jsonb({bare}) END"
                f" ELSE {value} END")

    def plain_data(self) -> str:
        """typed_values.plain of ``data`` (the record's data map, its jsonb text ``data_text``): itself when no key
        marks a typed value; else its top-level fields converted, NULL if a marker is left below the top level
        or a typed value was not one this SQL converts."""
        converted = (f"(SELECT CASE WHEN bool_and(x.v IS NOT NULL) THEN jsonb_object_agg(e.key, x.v) END"
                     f" FROM jsonb_each(d.data) AS e, LATERAL (SELECT {self._plain_value('e.value')} AS v) AS x)")
        return f"CASE WHEN {self.clean()} THEN d.data ELSE {converted} END"

    def clean(self) -> str:
        """Whether no key of ``data`` marks a typed value (then plain(data) is data itself)."""
        return "(" + " AND ".join(f"strpos(d.data_text, {self.lit(m)}) = 0" for m in MARKERS) + ")"

    def _present(self, name: str) -> str:
        """Whether field ``name`` is in the plain data (mapping._lookup: the literal key, then a dotted path)."""
        tests = [f"p.pdata ? {self.lit(name)}"]
        if "." in name:
            parts, node, steps = name.split("."), "p.pdata", []
            for part in parts[:-1]:
                node = f"{node} -> {self.lit(part)}"
                steps.append(f"jsonb_typeof({node}) = 'object'")
            steps.append(f"{node} ? {self.lit(parts[-1])}")
            tests.append("(" + " AND ".join(steps) + ")")
        return " OR ".join(tests)

    def _value(self, name: str) -> str:
        if "." not in name:
            return f"p.pdata -> {self.lit(name)}"
        path = "{" + ",".join('"' + part.replace('"', '\\"') + '"' for part in name.split(".")) + "}"
        return f"CASE WHEN p.pdata ? {self.lit(name)} THEN p.pdata -> {self.lit(name)} ELSE p.pdata #> {self.lit(path)} END"

    def _lookup(self, column: Column) -> tuple[str, str]:
        """(jsonb value of the first present field, NULL for none; the top-level key it took, for "rest")."""
        value = "CASE " + " ".join(f"WHEN {self._present(f)} THEN {self._value(f)}" for f in column.fields) + " END"
        taken = "CASE " + " ".join(f"WHEN {self._present(f)} THEN {self.lit(f.split('.')[0])}"
                                   for f in column.fields) + " END"
        return value, taken

    # -- checks ---------------------------------------------------------------------------------------------------
    def _column(self, spec: dict, column: Column) -> tuple[str, list[str]]:
        """(the column's value expression over ``v.<name>`` (its jsonb), the conditions for the SQL to take it)."""
        v = f'v."{column.name}"'
        missing = f"({v} IS NULL OR {v} = 'null'::jsonb)"
        text = f"({v} #>> '{{}}')"
        if column.kind == "numeric":
            checks = [f"jsonb_typeof({v}) = 'number'"]
            value = f"({text})::numeric"
            if spec.get("min") is not None:
                checks.append(f"{value} >= {self.lit(str(spec['min']))}::numeric")
            if spec.get("max") is not None:
                checks.append(f"{value} <= {self.lit(str(spec['max']))}::numeric")
        elif column.kind == "timestamptz":
            checks = [f"jsonb_typeof({v}) = 'string'", f"{text} ~ {self.lit(PLAIN_ISO)}",
                      f"left({text}, 4) <> '0000'"]
            value = f"({text})::timestamptz"
        else:
            checks = [f"jsonb_typeof({v}) = 'string'"]
            value = text
            if spec.get("case") or spec.get("pattern"):
                checks.append(f"{text} ~ {self.lit(PRINTABLE_ASCII)}")
            # ASCII only (checked above), so translate() is str.upper/str.lower whatever the database's collation
            if spec.get("case") == "upper":
                value = f"translate({text}, {self.lit(LOWER)}, {self.lit(UPPER)})"
            elif spec.get("case") == "lower":
                value = f"translate({text}, {self.lit(UPPER)}, {self.lit(LOWER)})"
            if spec.get("min_length"):
                checks.append(f"char_length({value}) >= {int(spec['min_length'])}")
            if spec.get("max_length") is not None:
                checks.append(f"char_length({value}) <= {int(spec['max_length'])}")
            if spec.get("pattern"):
                checks.append(f"{value} ~ {self.lit('^(?:' + spec['pattern'] + ')$')}")
            if spec.get("choices"):
                checks.append(f"{value} = ANY ({self.lit('{' + ','.join(spec['choices']) + '}')}::text[])")
        taken = " AND ".join(checks)
        if column.required:
            return f"CASE WHEN {taken} THEN {value} END", [f"NOT {missing}", taken]
        return f"CASE WHEN NOT {missing} AND {taken} THEN {value} END", [f"({missing} OR ({taken}))"]

    def _tenant(self) -> str:
        """The tenant's text (mapping._tenant): the fixed one, else the first rule that finds one; NULL when a
        rule finds something that is not a string (Python refuses it) or none does."""
        if self.mapping.fixed_tenant is not None:
            return self.lit(self.mapping.fixed_tenant)
        found = []
        for rule in self.mapping.tenant_from:
            kind, name = rule.split(":", 1)
            if kind == "path":
                found.append(f"to_jsonb(CASE WHEN p.seg[1] = {self.lit(name)} AND cardinality(p.seg) > 2 THEN p.seg[2]"
                             f" ELSE (SELECT p.seg[i + 1] FROM generate_subscripts(p.seg, 1) AS i WHERE i %% 2 = 1"
                             f" AND i <= cardinality(p.seg) - 2 AND p.seg[i] = {self.lit(name)} ORDER BY i LIMIT 1)"
                             " END)")
            else:
                found.append(f"NULLIF(p.pdata -> {self.lit(name)}, 'null'::jsonb)")
        return f"(SELECT CASE WHEN jsonb_typeof(t) = 'string' THEN t #>> '{{}}' END FROM COALESCE({', '.join(found)}) AS t)"

    def _table_insert(self, target: TableMapping, specs: dict[str, dict]) -> str:
        """INSERT INTO the table's mapped temp table the documents of its collections that the SQL takes."""
        lookups, values, conditions, taken = [], [], [], []
        for column in target.columns:
            if column.kind == "jsonb":
                continue
            value, key = self._lookup(column)
            lookups.append(f'{value} AS "{column.name}"')
            taken.append(key)
            expression, checks = self._column(specs.get(column.name, {}), column)
            values.append((column, expression))
            conditions += checks
        by_name = dict(values)
        names = {c.name: c for c in target.columns}
        for column in target.columns:
            if not column.requires or column.kind == "jsonb":
                continue
            other = names.get(column.requires)
            if other is not None and other.kind != "jsonb":
                conditions.append(f"({by_name[column]} IS NULL OR {by_name[other]} IS NOT NULL)")
            else:  # Python finds no value for it: set means refused
                conditions.append(f"{by_name[column]} IS NULL")
        rest = "p.pdata" if not taken else f"p.pdata - ARRAY_REMOVE(ARRAY[{', '.join(taken)}], NULL)"
        outputs = []
        for column in target.columns:
            if column.kind != "jsonb":
                outputs.append(by_name[column])
            elif column.source == "document":
                outputs.append("p.pdata")
            elif column.source == "rest":
                outputs.append(rest)
            else:
                value, _ = self._lookup(column)
                value = f"({value})"
                conditions.append(f"({value} IS NULL OR {value} = 'null'::jsonb OR jsonb_typeof({value}) = 'object')")
                outputs.append(f"CASE WHEN {value} IS NULL OR {value} = 'null'::jsonb THEN '{{}}'::jsonb ELSE {value} END")
        columns = "".join(f', "{c.name}"' for c in target.columns)
        collections = self.lit("{" + ",".join('"' + c + '"' for c in target.collections) + "}")
        lateral = f", LATERAL (SELECT {', '.join(lookups)}) AS v" if lookups else ""
        where = " AND ".join([f"p.collection = ANY ({collections}::text[])", *conditions])
        return (f"INSERT INTO {mapped_table(target.table)} (position, tenant_id, firebase_id{columns})"
                f" SELECT p.position, p.tenant_id, p.firebase_id{''.join(', ' + o for o in outputs)}"
                f" FROM pdocs AS p{lateral} WHERE {where} RETURNING position")

    def map_statement(self, specs: dict[str, dict[str, dict]]) -> str:
        """The statement (parameters: ``base`` = the first line's position, ``count`` = the lines, ``python`` =
        positions left to Python from the start) filling the mapped tables; it returns the positions not taken."""
        inserts = [f"t_{table} AS ({self._table_insert(target, specs.get(table, {}))})"
                   for table, target in self.mapping.tables.items()]
        taken = " UNION ALL ".join(f"SELECT position FROM t_{table}" for table in self.mapping.tables) or \
            "SELECT NULL::bigint AS position WHERE false"
        return (
            "WITH src AS MATERIALIZED ("
            f" SELECT %(base)s::bigint + l.n - (SELECT currval(pg_get_serial_sequence('{LINES}', 'n'))"
            f" - %(count)s::bigint + 1) AS position, l.doc FROM {LINES} AS l),"
            " d AS MATERIALIZED ("
            " SELECT s.position, s.doc -> 'data' AS data, (s.doc -> 'data')::text AS data_text,"
            " string_to_array(s.doc ->> 'path', '/') AS seg FROM src AS s"
            " WHERE jsonb_typeof(s.doc -> 'path') = 'string' AND jsonb_typeof(s.doc -> 'data') = 'object'"
            " AND s.position <> ALL (%(python)s::bigint[])),"
            " p0 AS MATERIALIZED ("
            f" SELECT d.position, d.seg, d.seg[cardinality(d.seg) - 1] AS collection,"
            f" d.seg[cardinality(d.seg)] AS firebase_id, {self.plain_data()} AS pdata, {self.clean()} AS clean FROM d"
            " WHERE cardinality(d.seg) >= 2 AND cardinality(d.seg) %% 2 = 0 AND array_position(d.seg, '') IS NULL"
            f" AND octet_length(d.seg[cardinality(d.seg)]) <= {MAX_FIREBASE_ID}"
            f" AND octet_length(d.data_text) - octet_length(translate(d.data_text, '{{[', '')) < {MAX_BRACKETS}),"
            " p1 AS MATERIALIZED ("
            f" SELECT p.*, {self._tenant()} AS tenant_text FROM p0 AS p"
            " WHERE p.pdata IS NOT NULL"
            f" AND (p.clean OR (strpos(p.pdata::text, {self.lit(MARKERS[0])}) = 0"
            f" AND strpos(p.pdata::text, {self.lit(MARKERS[1])}) = 0))),"
            " pdocs AS MATERIALIZED ("
            " SELECT p.*, t.id AS tenant_id FROM p1 AS p JOIN iam.tenants AS t"
            f" ON t.id = CASE WHEN p.tenant_text ~ {self.lit(CANONICAL_UUID)} THEN p.tenant_text::uuid END),"
            f" {', '.join(inserts)}"
            f" SELECT s.position FROM src AS s WHERE s.position NOT IN ({taken}) ORDER BY 1")


def mapping_specs(document: dict) -> dict[str, dict[str, dict]]:
    """table → column → its options as written in the mapping file (the checks' parameters)."""
    return {table: dict((spec or {}).get("columns") or {}) for table, spec in (document.get("tables") or {}).items()}
