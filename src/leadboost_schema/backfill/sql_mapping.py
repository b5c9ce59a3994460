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
# The keys that make a map a typed value (typed_values.plain). In a line with no \u escape each occurrence of such a
# key is spelled out, so counting them in the raw text tells whether every typed value was converted.
TAGGED, SECONDS = "__datatype__", "_seconds"
# In jsonb's own text a quote inside a string is always escaped, so '"name": ' only occurs as a key.
MARKERS = ('"__datatype__": ', '"_seconds": ')
MAX_BRACKETS = 100  # fewer brackets than typed_values.MAX_DEPTH: the document cannot be nested that deep
LOWER, UPPER = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
COLUMN_TYPES = {"text": "text", "timestamptz": "timestamptz", "numeric": "numeric", "jsonb": "jsonb"}


def mapped_table(table: str) -> str:
    return f"pg_temp.backfill_mapped_{table}"


def create_temp_tables(conn: psycopg.Connection, mapping: Mapping) -> None:
    """The raw lines, the mapped rows per target and the transaction's batch rows, all emptied at each commit."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS backfill_lines (n bigint GENERATED ALWAYS AS IDENTITY,"
                 " line text NOT NULL) ON COMMIT DELETE ROWS")
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS backfill_batches (id uuid NOT NULL, tenant_id uuid NOT NULL,"
                 " collection text NOT NULL) ON COMMIT DELETE ROWS")
    for table, target in mapping.tables.items():
        columns = "".join(f', "{c.name}" {COLUMN_TYPES[c.kind]}' for c in target.columns)
        conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS backfill_mapped_{table} (position bigint NOT NULL,"
                     f" tenant_id uuid NOT NULL, firebase_id text NOT NULL{columns}) ON COMMIT DELETE ROWS")


def mapping_specs(document: dict) -> dict[str, dict[str, dict]]:
    """table → column → its options as written in the mapping file (the checks' parameters)."""
    return {table: dict((spec or {}).get("columns") or {}) for table, spec in (document.get("tables") or {}).items()}


def json_key(key: str) -> str:
    """``key`` as an element of a text[] literal (a path for jsonb_set)."""
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _count(text: str, needle: str) -> str:
    return f"(octet_length({text}) - octet_length(replace({text}, '{needle}', ''))) / {len(needle)}"


class SqlMapping:
    """The generated statement for one mapping; ``lit`` quotes a value as an SQL literal."""

    def __init__(self, mapping: Mapping, lit: Callable[[object], str]) -> None:
        self.mapping, self.lit = mapping, lit
        self.specs = mapping_specs(mapping.document)

    # -- typed values ---------------------------------------------------------------------------------------------
    @staticmethod
    def _iso(seconds: str, nanos: str) -> str:
        """ISO text of a Firestore timestamp from its parts' jsonb (typed_values._from_seconds), NULL unless both
        are integers (written without a fraction: Python reads 1.0 as a float) in range."""
        return (f"CASE WHEN jsonb_typeof({seconds}) = 'number' AND jsonb_typeof({nanos}) = 'number' THEN"
                f" CASE WHEN scale(({seconds})::numeric) = 0 AND scale(({nanos})::numeric) = 0"
                f" AND ({seconds})::numeric BETWEEN -62135596800 AND 253402300799"
                f" AND ({nanos})::numeric BETWEEN 0 AND 999999999"
                f" THEN to_char(to_timestamp(({seconds})::numeric::bigint) AT TIME ZONE 'UTC',"
                f" 'YYYY-MM-DD\"T\"HH24:MI:SS') || '.' || lpad((({nanos})::numeric::bigint / 1000)::text, 6, '0')"
                " || 'Z' END END")

    def _parts(self, value: str) -> tuple[str, str, str]:
        """(seconds, nanoseconds, form) of ``value`` if it is a map shaped as a timestamp in either export form
        (form 1 tagged, 2 bare), else NULLs. Nested CASEs: only a CASE fixes the order of evaluation."""
        tagged = f"{value} ->> '__datatype__' = 'timestamp' AND jsonb_typeof({value} -> 'value') = 'object'"
        bare = (f"NOT {value} ? '__datatype__' AND {value} ? '_seconds' AND {value} ? '_nanoseconds'"
                f" AND {value} - '_seconds' - '_nanoseconds' = '{{}}'::jsonb")
        def pick(when_tagged: str, when_bare: str) -> str:
            return (f"CASE WHEN jsonb_typeof({value}) = 'object' THEN CASE WHEN {tagged} THEN {when_tagged}"
                    f" WHEN {bare} THEN {when_bare} END END")
        return (pick(f"{value} -> 'value' -> '_seconds'", f"{value} -> '_seconds'"),
                pick(f"COALESCE({value} -> 'value' -> '_nanoseconds', '0'::jsonb)", f"{value} -> '_nanoseconds'"),
                pick("1", "2"))

    def _plain_value(self, value: str) -> str:
        """A top-level field as typed_values.plain makes it: a timestamp becomes its ISO text, another map with a
        marker key NULL (Python's business), anything else itself."""
        seconds, nanos, _ = self._parts(value)
        return (f"CASE WHEN jsonb_typeof({value}) <> 'object' THEN {value}"
                f" WHEN {value} ? '__datatype__' OR {value} ? '_seconds' THEN to_jsonb({self._iso(seconds, nanos)})"
                f" ELSE {value} END")

    def _timestamp_keys(self) -> list[str]:
        """Top-level fields that timestamp columns read: where typed timestamps are looked for first."""
        keys = []
        for target in self.mapping.tables.values():
            for column in target.columns:
                if column.kind == "timestamptz":
                    keys += [f for f in column.fields if "." not in f and f not in keys]
        return keys

    def _typed_parts(self) -> str:
        """Columns over ``d`` (each timestamp field's value ``v<n>``): its seconds/nanoseconds ``sec<n>``/``ns<n>``
        (jsonb) and shape ``form<n>`` (1 tagged, 2 bare, NULL neither)."""
        columns = ""
        for n in range(len(self._timestamp_keys())):
            seconds, nanos, form = self._parts(f"d.v{n}")
            columns += f", {seconds} AS sec{n}, {nanos} AS ns{n}, {form} AS form{n}"
        return columns

    def _typed_isos(self) -> str:
        """Columns over ``d`` (with ``_typed_parts``): each timestamp field's ISO text ``iso<n>`` (NULL: none)."""
        return "".join(f", CASE WHEN d.form{n} IS NOT NULL THEN {self._iso(f'd.sec{n}', f'd.ns{n}')} END AS iso{n}"
                       for n in range(len(self._timestamp_keys())))

    def _plain_data(self) -> str:
        """typed_values.plain of the data map ``d.data``: itself when the raw line names no marker key (and has no
        \\u escape that could hide one); else its timestamp fields converted, when they account for every marker
        in the line (``_typed_checks`` then makes sure each became text); else every top-level field converted,
        when no marker is left in the result's text; else NULL (Python's)."""
        keys = self._timestamp_keys()
        cases = ["WHEN d.n_tagged = 0 AND d.n_seconds = 0 AND d.n_escapes = 0 THEN d.data"]
        if keys:
            tagged = " + ".join(f"COALESCE(d.form{n} = 1, false)::int" for n in range(len(keys)))
            typed = " + ".join(f"(d.form{n} IS NOT NULL)::int" for n in range(len(keys)))
            converted = "d.data"
            for n, key in enumerate(keys):  # jsonb_set only where a timestamp was found
                converted = (f"CASE WHEN d.iso{n} IS NULL THEN {converted}"
                             f" ELSE jsonb_set({converted}, {self.lit('{' + json_key(key) + '}')}, to_jsonb(d.iso{n})) END")
            cases.append(f"WHEN d.n_escapes = 0 AND d.n_tagged = {tagged} AND d.n_seconds = {typed} THEN {converted}")
        clean = " AND ".join(f"strpos(d.data::text, {self.lit(m)}) = 0" for m in MARKERS)
        cases.append(f"WHEN {clean} THEN d.data")
        every = (f"(SELECT CASE WHEN bool_and(x.v IS NOT NULL) THEN jsonb_object_agg(e.key, x.v) END"
                 f" FROM jsonb_each(d.data) AS e, LATERAL (SELECT {self._plain_value('e.value')} AS v) AS x)")
        left = " AND ".join(f"strpos(c.v::text, {self.lit(m)}) = 0" for m in MARKERS)
        cases.append(f"ELSE (SELECT CASE WHEN {left} THEN c.v END FROM (SELECT {every} AS v) AS c)")
        return "CASE " + " ".join(cases) + " END"

    def _typed_checks(self) -> str:
        """Over ``p`` (with ``form<n>`` and ``pdata``): every timestamp-shaped field did become its ISO text (one
        that is not a valid timestamp stays a map: Python's)."""
        return "".join(f" AND (p.form{n} IS NULL OR jsonb_typeof(p.pdata -> {self.lit(key)}) = 'string')"
                       for n, key in enumerate(self._timestamp_keys()))

    # -- fields ---------------------------------------------------------------------------------------------------
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
        return (f"CASE WHEN p.pdata ? {self.lit(name)} THEN p.pdata -> {self.lit(name)}"
                f" ELSE p.pdata #> {self.lit(path)} END")

    def _lookup(self, column: Column) -> tuple[str, str]:
        """(jsonb value of the first present field, NULL for none; the top-level key it took, for "rest")."""
        if len(column.fields) == 1 and "." not in column.fields[0]:
            name = self.lit(column.fields[0])
            return f"p.pdata -> {name}", f"CASE WHEN p.pdata ? {name} THEN {name} END"
        value = "CASE " + " ".join(f"WHEN {self._present(f)} THEN {self._value(f)}" for f in column.fields) + " END"
        taken = "CASE " + " ".join(f"WHEN {self._present(f)} THEN {self.lit(f.split('.')[0])}"
                                   for f in column.fields) + " END"
        return value, taken

    # -- checks ---------------------------------------------------------------------------------------------------
    def _column(self, spec: dict, column: Column, n: int) -> tuple[str, str, str | None, list[str]]:
        """For the column's field value ``j<n>`` (jsonb; ``y<n>`` its type, ``s<n>`` its text): (its value as the
        column takes it, over ``w``; whether it is missing; the cased text ``w.c<n>``, over ``u``, if it needs one;
        the conditions for the SQL to take the document)."""
        y, s = f"w.y{n}", f"w.s{n}"
        missing = f"({y} IS NULL OR {y} = 'null')"
        cased = None
        if column.kind == "numeric":
            checks = [f"{y} = 'number'"]
            value = f"{s}::numeric"
            if spec.get("min") is not None:
                checks.append(f"{value} >= {self.lit(str(spec['min']))}::numeric")
            if spec.get("max") is not None:
                checks.append(f"{value} <= {self.lit(str(spec['max']))}::numeric")
        elif column.kind == "timestamptz":
            checks = [f"{y} = 'string'", f"{s} ~ {self.lit(PLAIN_ISO)}", f"left({s}, 4) <> '0000'"]
            value = f"{s}::timestamptz"
        else:
            checks = [f"{y} = 'string'"]
            value = s
            if spec.get("case") or spec.get("pattern"):
                checks.append(f"{s} ~ {self.lit(PRINTABLE_ASCII)}")
            # ASCII only (checked above), so translate() is str.upper/str.lower whatever the database's collation
            if spec.get("case") in ("upper", "lower"):
                source, target = (LOWER, UPPER) if spec["case"] == "upper" else (UPPER, LOWER)
                cased, value = f"translate(u.s{n}, {self.lit(source)}, {self.lit(target)})", f"w.c{n}"
            if spec.get("min_length"):
                checks.append(f"char_length({value}) >= {int(spec['min_length'])}")
            if spec.get("max_length") is not None:
                checks.append(f"char_length({value}) <= {int(spec['max_length'])}")
            if spec.get("pattern"):
                checks.append(f"{value} ~ {self.lit('^(?:' + spec['pattern'] + ')$')}")
            if spec.get("choices"):
                checks.append(f"{value} = ANY ({self.lit('{' + ','.join(spec['choices']) + '}')}::text[])")
        # The type test first, in a CASE: a WHERE clause's conditions may run in any order, and a cast must not
        # see a value of another type.
        taken = f"CASE WHEN {checks[0]} THEN {' AND '.join(checks[1:]) or 'true'} ELSE false END"
        if column.required:
            return value, missing, cased, [f"NOT {missing}", taken]
        return f"CASE WHEN NOT {missing} THEN {value} END", missing, cased, [f"({missing} OR {taken})"]

    def _tenant(self) -> str:
        """The tenant as jsonb (mapping._tenant): the fixed one, else what the first rule that finds one finds
        (Python refuses it unless it is a string)."""
        if self.mapping.fixed_tenant is not None:
            return f"to_jsonb({self.lit(self.mapping.fixed_tenant)}::text)"
        found = []
        for rule in self.mapping.tenant_from:
            kind, name = rule.split(":", 1)
            if kind == "path":
                found.append(f"to_jsonb(CASE WHEN p.seg[1] = {self.lit(name)} AND cardinality(p.seg) > 2"
                             f" THEN p.seg[2] ELSE (SELECT p.seg[i + 1] FROM generate_subscripts(p.seg, 1) AS i"
                             f" WHERE i %% 2 = 1 AND i <= cardinality(p.seg) - 2 AND p.seg[i] = {self.lit(name)}"
                             " ORDER BY i LIMIT 1) END)")
            else:
                found.append(f"NULLIF(p.pdata -> {self.lit(name)}, 'null'::jsonb)")
        return f"COALESCE({', '.join(found)})"

    def _table(self, target: TableMapping) -> str:
        """The CTE that puts the documents of ``target``'s collections that the SQL takes into its mapped table:
        the fields looked up (v), their types and texts (u), cased texts (w), then the checks."""
        t = target.table
        specs = self.specs.get(t, {})
        plain = [c for c in target.columns if c.kind != "jsonb"]
        lookups, takens = "", []
        for n, column in enumerate(plain):
            value, key = self._lookup(column)
            lookups += f", {value} AS j{n}"
            takens.append(key)
        if any(c.kind == "jsonb" and c.source == "rest" for c in target.columns) and takens:
            lookups += f", p.pdata - ARRAY_REMOVE(ARRAY[{', '.join(takens)}]::text[], NULL) AS rest"
        elif any(c.kind == "jsonb" and c.source == "rest" for c in target.columns):
            lookups += ", p.pdata AS rest"
        values, missing, cased, conditions = {}, {}, "", []
        for n, column in enumerate(plain):
            values[column.name], missing[column.name], case, checks = self._column(specs.get(column.name, {}),
                                                                                   column, n)
            cased += f", {case} AS c{n}" if case else ""
            conditions += checks
        names = {c.name: c for c in target.columns}
        for column in plain:
            if column.requires:  # set only with the other set (mapping.Mapping._row)
                other = names.get(column.requires)
                conditions.append(f"({missing[column.name]} OR NOT {missing[other.name]})"
                                  if other is not None and other.kind != "jsonb" else missing[column.name])
        outputs = []
        for column in target.columns:
            if column.kind != "jsonb":
                outputs.append(values[column.name])
            elif column.source == "document":
                outputs.append("w.pdata")
            elif column.source == "rest":
                outputs.append("w.rest")
            else:
                value, _ = self._lookup(column)
                value = f"({value.replace('p.pdata', 'w.pdata')})"
                conditions.append(f"({value} IS NULL OR jsonb_typeof({value}) IN ('null', 'object'))")
                outputs.append(f"CASE WHEN jsonb_typeof({value}) = 'object' THEN {value} ELSE '{{}}'::jsonb END")
        columns = "".join(f', "{c.name}"' for c in target.columns)
        collections = self.lit("{" + ",".join('"' + c + '"' for c in target.collections) + "}")
        typed = "".join(f", jsonb_typeof(v.j{n}) AS y{n}, v.j{n} #>> '{{}}' AS s{n}" for n in range(len(plain)))
        where = " AND ".join(conditions) or "true"
        return (f"t_{t} AS (INSERT INTO {mapped_table(t)} (position, tenant_id, firebase_id{columns})"
                f" SELECT w.position, w.tenant_id, w.firebase_id{''.join(', ' + o for o in outputs)}"
                f" FROM (SELECT u.*{cased} FROM (SELECT v.*{typed} FROM (SELECT p.position, p.tenant_id,"
                f" p.firebase_id, p.pdata{lookups} FROM pdocs AS p WHERE p.collection = ANY ({collections}::text[])"
                f" OFFSET 0) AS v OFFSET 0) AS u OFFSET 0) AS w"
                f" WHERE {where} RETURNING position)")

    def map_statement(self) -> str:
        """The statement (parameters: ``base`` = the first line's position, ``count`` = the lines, ``python`` =
        positions left to Python from the start) filling the mapped tables; it returns the positions not taken.

        One level of subquery per step, each kept whole by OFFSET 0 (else the planner merges them and computes a
        shared expression once per use); only the mapped documents are materialized, once for the three tables."""
        taken = " UNION ALL ".join(f"SELECT position FROM t_{t}" for t in self.mapping.tables) or \
            "SELECT NULL::bigint AS position WHERE false"
        lines = (f"SELECT %(base)s::bigint + l.n - (SELECT currval(pg_get_serial_sequence('{LINES}', 'n'))"
                 f" - %(count)s::bigint + 1) AS position, l.line::jsonb AS doc,"
                 f" {_count('l.line', TAGGED)} AS n_tagged, {_count('l.line', SECONDS)} AS n_seconds,"
                 f" {_count('l.line', chr(92) + 'u')} AS n_escapes,"
                 " octet_length(l.line) - octet_length(replace(replace(l.line, '{', ''), '[', '')) AS brackets"
                 f" FROM {LINES} AS l OFFSET 0")
        values = "".join(f", s.doc -> 'data' -> {self.lit(key)} AS v{n}" for n, key in enumerate(self._timestamp_keys()))
        records = ("SELECT s.position, s.doc -> 'data' AS data, string_to_array(s.doc ->> 'path', '/') AS seg,"
                   f" s.n_tagged, s.n_seconds, s.n_escapes{values} FROM ({lines}) AS s"
                   " WHERE jsonb_typeof(s.doc -> 'path') = 'string' AND jsonb_typeof(s.doc -> 'data') = 'object'"
                   f" AND s.brackets < {MAX_BRACKETS} AND s.position <> ALL (%(python)s::bigint[]) OFFSET 0")
        parts = f"SELECT d.*{self._typed_parts()} FROM ({records}) AS d OFFSET 0"
        typed = f"SELECT d.*{self._typed_isos()} FROM ({parts}) AS d OFFSET 0"
        forms = "".join(f", d.form{n}" for n in range(len(self._timestamp_keys())))
        plain = (f"SELECT d.position, d.seg, d.seg[cardinality(d.seg) - 1] AS collection,"
                 f" d.seg[cardinality(d.seg)] AS firebase_id, {self._plain_data()} AS pdata{forms}"
                 f" FROM ({typed}) AS d WHERE cardinality(d.seg) >= 2 AND cardinality(d.seg) %% 2 = 0"
                 f" AND array_position(d.seg, '') IS NULL AND octet_length(d.seg[cardinality(d.seg)]) <= "
                 f"{MAX_FIREBASE_ID} OFFSET 0")
        tenant = (f"SELECT p.position, p.collection, p.firebase_id, p.pdata, {self._tenant()} AS tenant"
                  f" FROM ({plain}) AS p WHERE p.pdata IS NOT NULL{self._typed_checks()} OFFSET 0")
        named = ("SELECT p.position, p.collection, p.firebase_id, p.pdata, CASE WHEN jsonb_typeof(p.tenant)"
                 f" = 'string' THEN p.tenant #>> '{{}}' END AS tenant_text FROM ({tenant}) AS p OFFSET 0")
        # "IN (SELECT … iam.tenants)" in the select list stays a hashed subplan (in WHERE it becomes a join the
        # planner, which expects one document, makes a nested loop): one hash probe per document.
        known = ("SELECT p.*, p.tenant_text IN (SELECT t.id::text FROM iam.tenants AS t) AS known"
                 f" FROM ({named}) AS p OFFSET 0")
        return (
            "WITH pdocs AS MATERIALIZED ("
            " SELECT p.position, p.collection, p.firebase_id, p.pdata, p.tenant_text::uuid AS tenant_id"
            f" FROM ({known}) AS p WHERE p.known),"
            f" {', '.join(self._table(target) for target in self.mapping.tables.values())}"
            " SELECT g.position FROM generate_series(%(base)s::bigint, %(base)s::bigint + %(count)s - 1) AS g (position)"
            f" WHERE g.position NOT IN ({taken}) ORDER BY 1")
