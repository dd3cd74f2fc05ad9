"""A callkpi store on ClickHouse: the same canonical tables, the same metric registry.

Two ways in, one SQL: ``chdb:///path/to/dir`` runs the ClickHouse engine in-process (chDB, the
``clickhouse`` extra; ``?database=NAME`` picks a database in it, as chDB opens one directory per
process at a time), ``clickhouse://user:password@host:8123/db`` talks to a server through
clickhouse-connect (the official driver; install it beside the extra). The KPI engine reaches the
store through the engine seam of :class:`callkpi.storage.store.Store`: Ibis expressions compile
for ClickHouse with the exact aggregates DuckDB computes (see :class:`ExactClickHouseCompiler`),
results come back as Arrow with DuckDB's types (naive UTC timestamps, signed integers).

A ClickHouse store is filled by ``callkpi ingest`` (staged in DuckDB, see
:mod:`callkpi.storage.clickhouse_ingest`) or by ``callkpi copy`` from a DuckDB store (and copied
back the same way). Its rollups are AggregatingMergeTree tables that ClickHouse fills itself
(:func:`callkpi.metrics.rollup.build_on_clickhouse`); tenants are not there yet (docs/engines.md).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot.expressions as sge
from ibis.backends.sql.compilers.clickhouse import ClickHouseCompiler

from callkpi.model.business_schema import BUSINESS_TABLES
from callkpi.model.qa_schema import QA_TABLES
from callkpi.model.schema import CANONICAL_TABLES, SCHEMA_VERSION, Table
from callkpi.storage.locations import is_store_url, model_table
from callkpi.storage.store import ParamKind

MODEL_TABLES: tuple[Table, ...] = (*CANONICAL_TABLES, *BUSINESS_TABLES, *QA_TABLES)
# Every query runs with these: outer joins give NULL (not 0 or '') where a side has no row, as in
# SQL and DuckDB; times are UTC whatever the server's zone; a keyed (ReplacingMergeTree) table is
# read as FINAL, one row per key, before its background merges have run.
# max_query_size: a report of every metric by team compiles to more than ClickHouse's default 256 KiB of SQL.
SESSION_SETTINGS = {"join_use_nulls": 1, "session_timezone": "UTC", "final": 1, "max_query_size": 16 * 1024 * 1024}


def is_clickhouse_url(text: object) -> bool:
    """True for ``chdb://...`` and ``clickhouse://...`` (a DuckDB store is a file path)."""
    return is_store_url(text)


# -- SQL: compiling Ibis for ClickHouse with DuckDB's exact aggregates ----------------------------


class ExactClickHouseCompiler(ClickHouseCompiler):
    """Ibis's ClickHouse compiler with exact aggregates: Ibis writes ``uniq`` (an estimate) for a
    distinct count, ``quantile`` (a sample: results differ run to run) for a quantile and
    ``quantileExactExclusive`` for a median; DuckDB computes an exact distinct count and the
    interpolated quantile (``quantile_cont``), which is ClickHouse's ``quantileExactInclusive``."""

    __slots__ = ()

    SIMPLE_OPS: ClassVar[dict] = {
        **ClickHouseCompiler.SIMPLE_OPS,
        ops.CountDistinct: "uniqExact",
        ops.Median: "quantileExactInclusive",
    }

    def visit_Quantile(self, op: ops.Quantile, *, arg: Any, quantile: Any, where: Any) -> sge.Expression:
        return self._visit_quantile("quantileExactInclusive", arg, quantile, where)

    def visit_MultiQuantile(self, op: ops.MultiQuantile, *, arg: Any, quantile: Any, where: Any) -> sge.Expression:
        return self._visit_quantile("quantilesExactInclusive", arg, quantile, where)


COMPILER = ExactClickHouseCompiler()


def compile_clickhouse(expr: ibis.Expr) -> str:
    """The ClickHouse SQL of an Ibis expression (bound or not)."""
    return COMPILER.to_sqlglot(expr.unbind()).sql(dialect=COMPILER.dialect, pretty=True)


# -- types -------------------------------------------------------------------------------------

# String columns with few distinct values (dimensions, states, outcomes): LowCardinality.
LOW_CARDINALITY = frozenset({
    "source", "format", "direction", "queue", "agent", "campaign", "outcome", "state", "reason", "closed_by",
    "event", "exit_event", "ended_by", "disposition", "trunk", "did", "kind", "timezone", "team", "crm",
    "status", "currency", "product", "pipeline", "matched_by", "call_agent", "call_campaign", "call_queue",
    "owner", "call_type", "criterion", "channel_kind", "role", "site", "category", "unit", "lastapp",
})
_DUCK_TO_CH = {
    "VARCHAR": "String", "BIGINT": "Int64", "INTEGER": "Int32", "DOUBLE": "Float64", "BOOLEAN": "Bool",
    "DATE": "Date32", "TIMESTAMP": "DateTime64(6, 'UTC')",
}


def clickhouse_type(column: str, duck_type: str) -> str:
    """The ClickHouse type of a model column (every one nullable, as in DuckDB)."""
    if duck_type.endswith("[]"):
        return f"Array(Nullable({_DUCK_TO_CH[duck_type[:-2]]}))"  # an array is never NULL: empty instead
    base = _DUCK_TO_CH[duck_type]
    nullable = f"Nullable({base})"
    return f"LowCardinality({nullable})" if base == "String" and column in LOW_CARDINALITY else nullable


def _order_by(table: Table) -> tuple[str, ...]:
    """The sort key: the common filter (queue, else agent) and the time slice of a fact, else its key."""
    names = table.column_names
    if table.primary_key:
        return table.primary_key
    slices = [n for n in names if n.endswith("_slice") or n == "slice_id"]
    filters = [n for n in ("queue", "agent") if n in names][:1]
    key = (*filters, *slices[:1])
    if key:
        return key
    times = [n for n, t in table.columns if t == "TIMESTAMP"]
    return tuple(times[:1])


def _partition_by(table: Table) -> str | None:
    """Months of the table's first timestamp (none for keyed tables: ReplacingMergeTree replaces
    rows only within a partition, and those tables are small)."""
    if table.primary_key:
        return None
    times = [n for n, t in table.columns if t in ("TIMESTAMP", "DATE")]
    return f'toYYYYMM("{times[0]}")' if times else None


def clickhouse_ddl(table: Table) -> str:
    """CREATE TABLE of a model table: MergeTree sorted for the common filters, partitioned by month,
    LowCardinality strings; a table with a key is a ReplacingMergeTree on it (the newest row wins)."""
    columns = ",\n  ".join(f'"{name}" {clickhouse_type(name, kind)}' for name, kind in table.columns)
    engine = "ReplacingMergeTree" if table.primary_key else "MergeTree"
    order = ", ".join(f'"{c}"' for c in _order_by(table)) or ""
    partition = _partition_by(table)
    return (f'CREATE TABLE IF NOT EXISTS "{table.name}" (\n  {columns}\n) ENGINE = {engine}'
            + (f"\nPARTITION BY {partition}" if partition else "")
            + f"\nORDER BY ({order})\nSETTINGS allow_nullable_key = 1")


def arrow_ddl(name: str, schema: pa.Schema, *, temporary: bool = False) -> str:
    """CREATE TABLE for a table the model does not name (a rollup, a calendar), from its Arrow schema."""
    columns = ",\n  ".join(f'"{f.name}" {_arrow_to_clickhouse(f.type)}' for f in schema)
    if temporary:
        return f'CREATE TEMPORARY TABLE IF NOT EXISTS "{name}" (\n  {columns}\n) ENGINE = Memory'
    key = '"slice_id"' if "slice_id" in schema.names else ""
    return (f'CREATE TABLE IF NOT EXISTS "{name}" (\n  {columns}\n) ENGINE = MergeTree ORDER BY ({key})'
            "\nSETTINGS allow_nullable_key = 1")


def aggregating_ddl(name: str, schema: pa.Schema, keys: tuple[str, ...], merges: dict[str, str]) -> str:
    """CREATE TABLE of a rollup kept by ClickHouse: an AggregatingMergeTree keyed by ``keys`` (the
    bucket and the grain's dimensions) whose value columns are ``SimpleAggregateFunction(f, ...)``
    (``merges``: column -> sum, max or min), so the rows of one key merge into one by ``f`` and a
    reader that re-aggregates by ``f`` gets the same answer before the merge as after it."""
    columns = []
    for field in schema:
        kind = _arrow_to_clickhouse(field.type)
        if field.name in merges:
            kind = f"SimpleAggregateFunction({merges[field.name]}, {kind})"
        elif kind == "Nullable(String)":
            kind = "LowCardinality(Nullable(String))"
        columns.append(f'"{field.name}" {kind}')
    order = ", ".join(f'"{k}"' for k in keys)
    return (f'CREATE TABLE "{name}" (\n  ' + ",\n  ".join(columns) + f"\n) ENGINE = AggregatingMergeTree"
            f"\nORDER BY ({order})\nSETTINGS allow_nullable_key = 1")


def _arrow_to_clickhouse(kind: pa.DataType) -> str:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return f"Array({_arrow_to_clickhouse(kind.value_type)})"
    simple = [(pa.types.is_boolean, "Bool"), (pa.types.is_int8, "Int8"), (pa.types.is_int16, "Int16"),
              (pa.types.is_int32, "Int32"), (pa.types.is_int64, "Int64"), (pa.types.is_unsigned_integer, "UInt64"),
              (pa.types.is_floating, "Float64"), (pa.types.is_string, "String"),
              (pa.types.is_large_string, "String"), (pa.types.is_date, "Date32"),
              (pa.types.is_timestamp, "DateTime64(6, 'UTC')"), (pa.types.is_decimal, "Float64")]
    for test, name in simple:
        if test(kind):
            return f"Nullable({name})"
    raise TypeError(f"no ClickHouse type for Arrow {kind}")


_CH_TO_IBIS = {
    "String": dt.string, "Int64": dt.int64, "Int32": dt.int32, "Int16": dt.int16, "Int8": dt.int8,
    "UInt64": dt.int64, "UInt32": dt.int64, "UInt16": dt.int32, "UInt8": dt.int16, "Float64": dt.float64,
    "Float32": dt.float32, "Bool": dt.boolean, "Date": dt.date, "Date32": dt.date,
}


def ibis_type(ch_type: str) -> dt.DataType:
    """The Ibis type of a ClickHouse column type (timestamps naive: stored times are UTC)."""
    inner = ch_type
    while (match := re.fullmatch(r"(?:Nullable\(|LowCardinality\(|SimpleAggregateFunction\(\w+,\s*)(.*)\)",
                                 inner)) is not None:
        inner = match.group(1)
    if inner.startswith("Array("):
        return dt.Array(ibis_type(inner[6:-1]))
    if inner.startswith("DateTime"):
        return dt.timestamp
    if inner not in _CH_TO_IBIS:
        raise TypeError(f"no Ibis type for ClickHouse {ch_type}")
    return _CH_TO_IBIS[inner]


def as_duckdb_types(table: pa.Table) -> pa.Table:
    """A ClickHouse result with the types DuckDB gives: naive UTC timestamps, signed integers,
    plain strings (not dictionaries)."""
    for index, field in enumerate(table.schema):
        wanted = _duck_arrow_type(field.type)
        if wanted != field.type:
            table = table.set_column(index, pa.field(field.name, wanted), _cast(table.column(index), wanted))
    return table


def _duck_arrow_type(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(kind):
        return _duck_arrow_type(kind.value_type)
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        return pa.timestamp("us")
    if pa.types.is_unsigned_integer(kind):
        return pa.int64()
    if pa.types.is_list(kind):
        return pa.list_(_duck_arrow_type(kind.value_type))
    return kind


def _cast(column: pa.ChunkedArray, wanted: pa.DataType) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    if pa.types.is_timestamp(column.type) and column.type.tz is not None:
        column = pc.cast(column, pa.timestamp(column.type.unit, "UTC")).cast(pa.timestamp("us", "UTC"))
        return pa.chunked_array([c.view(pa.timestamp("us")) for c in column.chunks], pa.timestamp("us"))
    return column.cast(wanted)


# -- the engines: chDB in-process, a server through clickhouse-connect ---------------------------


class _Chdb:
    """The ClickHouse engine in this process (chDB), over a directory. One session serves every
    thread of the process (the web server's requests, its alert monitor): queries take turns."""

    def __init__(self, url: str) -> None:
        self._lock = threading.RLock()
        try:
            import chdb
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("chdb:// needs chDB: pip install 'callkpi[clickhouse]'") from exc
        parts = urlsplit(url)
        path = unquote(parts.netloc + parts.path)
        # chDB holds one directory per process at a time; databases in it are as many as wanted.
        self._con = chdb.connect(path or ":memory:")
        for name, value in SESSION_SETTINGS.items():
            self._con.query(f"SET {name} = {_setting_literal(value)}")
        database = parse_qs(parts.query).get("database", [""])[0]
        if database:
            if not re.fullmatch(r"\w+", database):
                raise ValueError(f"database name {database!r}: letters, digits and _ only")
            self._con.query(f"CREATE DATABASE IF NOT EXISTS `{database}`")
            self._con.query(f"USE `{database}`")

    def query_arrow(self, sql: str, params: dict[str, object]) -> pa.Table:
        with self._lock:
            return self._con.query(sql, "ArrowTable", params=_chdb_params(params))

    def command(self, sql: str, params: dict[str, object] | None = None) -> None:
        with self._lock:
            self._con.query(sql, "CSV", params=_chdb_params(params or {}))

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        columns = ", ".join(f'"{n}"' for n in data.column_names)
        batch = _zeroed_nulls(data)  # read by name by chDB's Python() table function, below
        with self._lock:
            self._con.query(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM Python(batch)')  # noqa: S608
        del batch

    def stream(self, sql: str, rows: int) -> Iterator[pa.RecordBatch]:
        with self._lock:
            result = self._con.send_query(sql, "Arrow")
            try:
                yield from result.record_batch(rows_per_batch=rows)
            finally:
                result.close()

    def close(self) -> None:
        with self._lock:
            self._con.close()


class _Server:
    """A ClickHouse server through clickhouse-connect (HTTP), one session per store."""

    def __init__(self, url: str) -> None:
        try:
            import clickhouse_connect
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("clickhouse:// needs the driver: pip install clickhouse-connect") from exc
        parts = urlsplit(url)
        self._client = clickhouse_connect.get_client(
            host=parts.hostname or "localhost", port=parts.port or 8123,
            username=unquote(parts.username or "default"), password=unquote(parts.password or ""),
            database=parts.path.strip("/") or "default", secure=parts.scheme == "clickhouses",
            settings=SESSION_SETTINGS)

    def query_arrow(self, sql: str, params: dict[str, object]) -> pa.Table:
        return self._client.query_arrow(sql, parameters=_text_params(params) or None, use_strings=True)

    def command(self, sql: str, params: dict[str, object] | None = None) -> None:
        self._client.command(sql, parameters=_text_params(params or {}) or None)

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        self._client.insert_arrow(table, data)

    def stream(self, sql: str, rows: int) -> Iterator[pa.RecordBatch]:
        with self._client.query_arrow_stream(sql, use_strings=True) as blocks:
            for block in blocks:  # an Arrow table per ClickHouse block
                table = block if isinstance(block, pa.Table) else pa.Table.from_batches([block])
                yield from table.to_batches(max_chunksize=rows)

    def close(self) -> None:
        self._client.close()


def _zeroed_nulls(data: pa.Table) -> pa.Table:
    """The table with 0 under every null date and time: chDB's Python() reads the value slots of nulls
    too and refuses a date out of range there (DuckDB leaves whatever was in memory)."""
    for index, column in enumerate(data.columns):
        if (pa.types.is_date(column.type) or pa.types.is_timestamp(column.type)) and column.null_count:
            chunks = [_zero_under_nulls(chunk) for chunk in column.chunks]
            data = data.set_column(index, data.field(index), pa.chunked_array(chunks, column.type))
    return data


def _zero_under_nulls(chunk: pa.Array) -> pa.Array:
    if not chunk.null_count:
        return chunk
    valid = pc.is_valid(chunk)
    raw = chunk.view(pa.int32() if pa.types.is_date32(chunk.type) else pa.int64())
    clean = pc.fill_null(pc.if_else(valid, raw, 0), 0)
    return pa.Array.from_buffers(chunk.type, len(chunk), [valid.buffers()[1], clean.buffers()[1]])


def _setting_literal(value: object) -> str:
    return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"


def _chdb_params(params: dict[str, object]) -> dict[str, object] | None:
    """chDB's parameters: text, NULL written as ClickHouse's \\N (chDB would send None as 'NULL')."""
    return {name: "\\N" if value is None else value for name, value in _text_params(params).items()} or None


def _text_params(params: dict[str, object]) -> dict[str, object]:
    """Bound values as ClickHouse parses them (a time as 'YYYY-MM-DD hh:mm:ss.ffffff', UTC)."""
    out: dict[str, object] = {}
    for name, value in params.items():
        if isinstance(value, datetime):
            out[name] = value.strftime("%Y-%m-%d %H:%M:%S.%f")
        elif isinstance(value, date):
            out[name] = value.isoformat()
        else:
            out[name] = value
    return out


# -- the store ---------------------------------------------------------------------------------


@dataclass
class _IbisSide:
    """What the registry and the engine need of an Ibis backend: tables by name, compile, run."""

    store: ClickHouseStore

    def table(self, name: str) -> ibis.Table:
        return self.store.table(name)

    def compile(self, expr: ibis.Expr) -> str:
        return compile_clickhouse(expr)

    def to_pyarrow(self, expr: ibis.Expr) -> pa.Table:
        return self.store.fetch_arrow(expr)


class ClickHouseStore:
    """A callkpi database on ClickHouse (see the module's text); the engine seam of ``Store``."""

    dialect = "clickhouse"

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        if not is_clickhouse_url(url):
            raise ValueError(f"not a ClickHouse URL: {url!r} (chdb:///dir or clickhouse://user@host:8123/db)")
        self.path = url
        self.read_only = read_only
        scheme = url.split("://", 1)[0].lower()
        self._engine: _Chdb | _Server = _Chdb(url) if scheme == "chdb" else _Server(url)
        self._schemas: dict[str, ibis.Schema] = {}
        self._registered: dict[str, ibis.Schema] = {}  # this session's temporary tables (calendars)
        self.ibis = _IbisSide(self)
        if not read_only:
            self.ensure_schema()

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        self._engine.close()

    def __enter__(self) -> ClickHouseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ensure_schema(self, tables: tuple[Table, ...] = MODEL_TABLES) -> None:
        for table in tables:
            self._engine.command(clickhouse_ddl(table))
        self._add_missing_columns(tables)
        self._schemas.clear()
        self.set_meta("schema_version", str(SCHEMA_VERSION))

    def _add_missing_columns(self, tables: tuple[Table, ...]) -> None:
        """A store made by an older callkpi gets the columns added to the model since (null in the
        rows it has), as on DuckDB."""
        have = set(self.fetch_all("SELECT table, name FROM system.columns WHERE database = currentDatabase()"))
        for table in tables:
            for name, kind in table.columns:
                if (table.name, name) not in have:
                    self._engine.command(f'ALTER TABLE "{table.name}" ADD COLUMN IF NOT EXISTS "{name}" '
                                         f"{clickhouse_type(name, kind)}")

    def create_table_for(self, name: str, schema: pa.Schema) -> None:
        """Create a table, if missing: by the model's definition when it has one (the web's users,
        the alerts), else (a rollup) from its Arrow schema."""
        table = model_table(name)
        self._engine.command(clickhouse_ddl(table) if table is not None else arrow_ddl(name, schema))
        self._schemas.pop(name, None)

    def arrow_schema(self, name: str) -> pa.Schema:
        return self.query_arrow(f'SELECT * FROM "{name}" LIMIT 0').schema  # noqa: S608

    def create_working_table(self, table: Table, *, empty: bool = False) -> None:
        """One of the model's working tables as a temporary table of this session (``empty``: made
        anew, without rows)."""
        if empty:
            self._engine.command(f'DROP TEMPORARY TABLE IF EXISTS "{table.name}"')
            self._registered.pop(table.name, None)
        if table.name in self._registered:
            return
        columns = ", ".join(f'"{n}" {clickhouse_type(n, k)}' for n, k in table.columns)
        self._engine.command(f'CREATE TEMPORARY TABLE IF NOT EXISTS "{table.name}" ({columns}) ENGINE = Memory')
        self._registered[table.name] = ibis.schema({n: ibis_type(clickhouse_type(n, k)) for n, k in table.columns})

    def replace_aggregating_table(self, name: str, select: str, keys: tuple[str, ...],
                                  merges: dict[str, str]) -> None:
        """(Re)build a rollup from a query, in ClickHouse: the rows of ``select`` inserted into a new
        AggregatingMergeTree (:func:`aggregating_ddl`) beside the live table, then swapped in by
        ``EXCHANGE TABLES`` (readers see the old rollup or the new one, never a part of it)."""
        staged = f"_staged_{name}"
        schema = self.query_arrow(f"SELECT * FROM ({select}) LIMIT 0").schema  # noqa: S608 - our compiled SQL
        self._engine.command(f'DROP TABLE IF EXISTS "{staged}"')
        self._engine.command(aggregating_ddl(staged, schema, keys, merges))
        self._engine.command(f'INSERT INTO "{staged}" SELECT * FROM ({select})')  # noqa: S608
        if self.has_table(name):
            self._engine.command(f'EXCHANGE TABLES "{staged}" AND "{name}"')
            self._engine.command(f'DROP TABLE "{staged}"')
        else:
            self._engine.command(f'RENAME TABLE "{staged}" TO "{name}"')
        self._schemas.pop(name, None)

    def table_engine(self, name: str) -> str | None:
        """The ClickHouse engine of a stored table (``MergeTree``, ``AggregatingMergeTree``...), or None."""
        rows = self.fetch_all("SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = ?",
                              [name])
        return str(rows[0][0]) if rows else None

    def truncate(self, name: str) -> None:
        self._engine.command(f'TRUNCATE TABLE IF EXISTS "{name}"')

    def command(self, sql: str) -> None:
        """Run a statement of callkpi's own (DDL with table names of the store, no user input)."""
        self._engine.command(sql)
        self._schemas.clear()

    @property
    def connection(self) -> Any:
        raise NotImplementedError(
            "this command runs on a DuckDB store only; a ClickHouse store serves `callkpi kpi` and "
            "`callkpi copy` (docs/engines.md)")

    def transaction(self) -> Any:
        raise NotImplementedError(
            "an import into ClickHouse is staged in DuckDB first (callkpi.storage.clickhouse_ingest)")

    # -- writing ---------------------------------------------------------------------------
    def append_arrow(self, table: str, data: pa.Table) -> None:
        if data.num_rows:
            self._engine.insert_arrow(table, data)

    def set_meta(self, key: str, value: str) -> None:
        self._engine.command("INSERT INTO meta VALUES ({key:String}, {value:String})", {"key": key, "value": value})

    # -- reading ---------------------------------------------------------------------------
    def table(self, name: str) -> ibis.Table:
        schema = self._registered.get(name) or self._schemas.get(name)
        if schema is None:
            rows = self.fetch_all("SELECT name, type FROM system.columns WHERE database = currentDatabase() "
                                  "AND table = ? ORDER BY position", [name])
            if not rows:
                raise KeyError(f"no table {name!r} in {self.path}")
            schema = ibis.schema({str(n): ibis_type(str(t)) for n, t in rows})
            self._schemas[name] = schema
        return ibis.table(schema, name=name)

    def get_meta(self, key: str) -> str | None:
        rows = self.fetch_all("SELECT value FROM meta FINAL WHERE key = ?", [key])
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    def row_count(self, table: str) -> int:
        return int(self.fetch_all(f'SELECT count() FROM "{table}"')[0][0])  # noqa: S608 - our table names

    def has_table(self, table: str) -> bool:
        return bool(self.fetch_all("SELECT count() FROM system.tables WHERE database = currentDatabase() "
                                   "AND name = ?", [table])[0][0]) or table in self._registered

    def has_rows(self, table: str) -> bool:
        if not self.has_table(table):
            return False
        return bool(self.fetch_all(f'SELECT count() > 0 FROM (SELECT 1 FROM "{table}" LIMIT 1)')[0][0])  # noqa: S608

    def column_bounds(self, table: str, column: str) -> tuple[object, object]:
        rows = self.fetch_all(f'SELECT min("{column}"), max("{column}") FROM "{table}"')  # noqa: S608
        return rows[0][0], rows[0][1]

    def fetch_arrow(self, expr: ibis.Expr) -> pa.Table:
        return self.query_arrow(compile_clickhouse(expr))

    def stream_table(self, name: str, rows: int) -> Iterator[pa.RecordBatch]:
        """The rows of a table as Arrow batches of at most ``rows`` rows (bounded memory)."""
        for batch in self._engine.stream(f'SELECT * FROM "{name}"', rows):  # noqa: S608
            yield from as_duckdb_types(pa.Table.from_batches([batch])).to_batches()

    # -- the engine seam -------------------------------------------------------------------
    def compile(self, expr: ibis.Expr) -> str:
        return compile_clickhouse(expr)

    def parameter(self, name: str, kind: ParamKind) -> str:
        return "{" + name + ":" + {"string": "String", "int": "Int64", "timestamp": "DateTime64(6, 'UTC')"}[kind] + "}"

    def query_arrow(self, sql: str, params: dict[str, object] | None = None) -> pa.Table:
        return as_duckdb_types(self._engine.query_arrow(sql, params or {}))

    def register_arrow(self, name: str, data: pa.Table) -> None:
        """A temporary table of this session (a calendar: its name says its content, so once is enough)."""
        if name in self._registered:
            return
        self._engine.command(arrow_ddl(name, data.schema, temporary=True))
        self._engine.insert_arrow(name, data)
        self._registered[name] = ibis.Schema.from_pyarrow(data.schema)

    def fetch_all(self, sql: str, params: list[object] | None = None) -> list[tuple]:
        """Rows of a query; ``?`` stands for each of ``params`` in turn."""
        table = self.query_arrow(*bind_positional(sql, params))
        return list(zip(*(c.to_pylist() for c in table.columns), strict=True)) if table.num_columns else []

    def fetch_records(self, sql: str, params: list[object] | None = None) -> list[dict[str, Any]]:
        """Like :meth:`fetch_all`, each row as a dict by column name."""
        return self.query_arrow(*bind_positional(sql, params)).to_pylist()

    def execute(self, sql: str, params: list[object] | None = None) -> None:
        """A statement of callkpi's portable SQL (see ``Store.execute``), written for ClickHouse:
        ``INSERT OR REPLACE`` is a plain INSERT (keyed tables are ReplacingMergeTree: the newest row
        wins), ``UPDATE`` a mutation that ends before the call returns, ``DELETE`` a lightweight delete."""
        self._engine.command(*bind_positional(clickhouse_statement(sql), params))

    def table_sizes(self) -> dict[str, int]:
        rows = self.fetch_all("SELECT name, total_rows FROM system.tables WHERE database = currentDatabase() "
                              "AND NOT is_temporary AND NOT startsWith(name, '_staged_') ORDER BY name")
        return {str(name): int(size or 0) for name, size in rows}


_UPDATE = re.compile(r"\s*UPDATE\s+(\S+)\s+SET\s+(.*)", re.DOTALL | re.IGNORECASE)
_INSERT_OR_REPLACE = re.compile(r"^\s*INSERT\s+OR\s+REPLACE\s+INTO\b", re.IGNORECASE)


def clickhouse_statement(sql: str) -> str:
    """A statement of callkpi's portable SQL in ClickHouse's terms (see ``ClickHouseStore.execute``)."""
    update = _UPDATE.fullmatch(sql)
    if update:
        return f"ALTER TABLE {update.group(1)} UPDATE {update.group(2)} SETTINGS mutations_sync = 2"
    if re.match(r"^\s*INSERT\s+OR\s+IGNORE\b", sql, re.IGNORECASE):
        raise ValueError("INSERT OR IGNORE has no ClickHouse form: read first, then insert")
    return _INSERT_OR_REPLACE.sub("INSERT INTO", sql)


def bind_positional(sql: str, params: list[object] | None) -> tuple[str, dict[str, object]]:
    """SQL with ``?`` parameters as ClickHouse's typed ``{pN:Type}`` ones, and their values."""
    bound: dict[str, object] = {}
    if not params:
        return sql, bound
    pieces = sql.split("?")
    if len(pieces) != len(params) + 1:
        raise ValueError("as many ? as parameters")
    sql = pieces[0]
    for n, (value, piece) in enumerate(zip(params, pieces[1:], strict=True)):
        bound[f"p{n}"] = value
        sql += "{p" + str(n) + ":" + _param_type(value) + "}" + piece
    return sql, bound


def _param_type(value: object) -> str:
    if value is None:
        return "Nullable(String)"
    if isinstance(value, bool):
        return "Bool"
    if isinstance(value, int):
        return "Int64"
    if isinstance(value, float):
        return "Float64"
    if isinstance(value, datetime):
        return "DateTime64(6, 'UTC')"
    if isinstance(value, date):
        return "Date32"
    return "String"
