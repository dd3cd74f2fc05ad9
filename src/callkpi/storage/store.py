"""Storage behind one interface.

The default store is one DuckDB file (embedded: nothing to install). Ingestion writes through
``Store.connection`` inside ``Store.transaction()``; KPI code reads only through
``Store.table()``, which returns Ibis tables, so the same metric definitions compile for another
engine (ClickHouse, Spark) that holds the same canonical tables.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

# DuckDB's engine itself: the `duckdb` package around it (its relation API: `.sql()`, `.table()`,
# Arrow readers) takes three times as long to import, so it is imported where those are used
# (:func:`_relations`); a store that only runs SQL, as a repeated `callkpi kpi`, never does.
import _duckdb

from callkpi.model.business_schema import BUSINESS_TABLES
from callkpi.model.qa_schema import QA_TABLES
from callkpi.model.schema import CANONICAL_TABLES, SCHEMA_VERSION, Table
from callkpi.model.speech_schema import SPEECH_TABLES
from callkpi.storage.locations import model_table

if TYPE_CHECKING:  # Ibis and pyarrow are imported where they are used (see callkpi.storage.lazy)
    import duckdb
    import ibis
    import pyarrow as pa


def _relations() -> None:
    """Give DuckDB's connections their relation methods (the `duckdb` package adds them on import)."""
    import duckdb  # noqa: F401


class StoreLocked(_duckdb.IOException):
    """The file is held by another process (DuckDB lets one process write a file and none read beside it).
    ``holder_pid``/``holder_program``: what DuckDB reports of that process, when it does."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        pid = re.search(r"\(PID (\d+)\)", message)
        program = re.search(r"lock is held in (.+?) \(PID", message)
        self.holder_pid = int(pid.group(1)) if pid else None
        self.holder_program = program.group(1) if program else None


# Files this process already holds and lends to the commands it runs in-process (``callkpi serve``
# running a CLI command for a client, see callkpi.cli.served): path -> the holder's connection.
_lent: dict[str, duckdb.DuckDBPyConnection] = {}


@contextmanager
def lend_connection(path: Path | str, connection: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """While inside, ``Store(path)`` in this process opens a cursor of ``connection`` instead of the
    file (which DuckDB would refuse read-only beside the read-write holder); such a store does no
    schema work."""
    key = os.path.realpath(path)
    _lent[key] = connection
    try:
        yield
    finally:
        _lent.pop(key, None)


def _connect(path: str, read_only: bool) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """A connection to the file and whether it is a lent cursor; a lock held elsewhere is StoreLocked."""
    lent = _lent.get(os.path.realpath(path)) if _lent and path != ":memory:" else None
    if lent is not None:
        return lent.cursor(), True
    try:
        return _duckdb.connect(path, read_only=read_only), False
    except _duckdb.IOException as exc:
        if "could not set lock" in str(exc).lower():
            raise StoreLocked(path, str(exc)) from None
        raise


ParamKind = Literal["string", "int", "timestamp"]


class Store:
    """A callkpi database: the canonical tables in one DuckDB file (or in memory).

    The KPI engine talks to a store only through its *engine seam* (:attr:`dialect`,
    :meth:`compile`, :meth:`parameter`, :meth:`query_arrow`, :meth:`register_arrow`,
    :meth:`table_sizes`, :meth:`fetch_all`), so another engine's store
    (:class:`callkpi.storage.clickhouse.ClickHouseStore`) runs the same registry."""

    dialect = "duckdb"

    # Committed transactions of this process (any store): cached facts about the data are kept
    # only while it stays the same.
    commits = 0

    def __init__(self, path: Path | str = ":memory:", *, read_only: bool = False) -> None:
        self.path = str(path)
        self.read_only = read_only
        self._con, lent = _connect(self.path, read_only)
        self._con.execute("SET TimeZone = 'UTC'")  # stored times are UTC; zones are applied in reports
        self._con.execute("SET enable_progress_bar = false")
        # DuckDB's default (80 % of RAM) leaves too little for the importer's Python side: a large
        # import transaction then grows until the kernel kills it; with less, DuckDB spills to disk.
        self._con.execute("SET memory_limit = ?", [memory_limit()])
        self._ibis: Any = None
        if not read_only and not lent:
            self.ensure_schema()

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ensure_schema(
        self, tables: tuple[Table, ...] = (*CANONICAL_TABLES, *BUSINESS_TABLES, *QA_TABLES, *SPEECH_TABLES)
    ) -> None:
        for table in tables:
            self._con.execute(table.ddl())
        migrate_generated_columns(self._con, tables)
        drop_retired_columns(self._con, tables)
        self._add_missing_columns(tables)
        self._con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
        )

    def _add_missing_columns(self, tables: tuple[Table, ...]) -> None:
        """A store made by an older callkpi gets the columns added to its tables since (at their end,
        where the model appends them; null in the rows it has)."""
        have = set(self._con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = 'main'").fetchall())
        for table in tables:
            computed = dict(table.generated)
            for name, sql_type in table.columns:
                if (table.name, name) not in have and name not in computed:
                    self._con.execute(f'ALTER TABLE "{table.name}" ADD COLUMN "{name}" {sql_type}')

    def create_working_table(self, table: Table, *, empty: bool = False) -> None:
        """Create one of the model's working (TEMP) tables if this connection lacks it; ``empty``
        replaces it by an empty one."""
        self._con.execute(table.ddl(replace=empty))

    def replace_table_as(self, name: str, select: str) -> None:
        """(Re)create a derived table from a query (the KPI rollups, whose columns the registry gives)."""
        self._con.execute(f'CREATE OR REPLACE TABLE "{name}" AS {select}')

    # -- writing ---------------------------------------------------------------------------
    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        _relations()  # whoever asks for the connection may use any of its methods
        return self._con

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: an interrupted import leaves no partial state."""
        _relations()
        self._con.execute("BEGIN TRANSACTION")
        try:
            yield self._con
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")
        Store.commits += 1

    def append_arrow(self, table: str, data: pa.Table) -> None:
        """Insert an Arrow table whose columns are named like the target table's."""
        if data.num_rows == 0:
            return
        model = model_table(table)
        # Columns of a copy from another store (a ClickHouse store holds leg_id; an older one the
        # caller of each queue leg) that this one computes or no longer keeps.
        left_out = (generated_columns(self._con, table) | set(model.dropped if model else ())) & set(data.column_names)
        if left_out:
            data = data.drop_columns(sorted(left_out))
        view = f"_append_{table}"
        _relations()  # Arrow sources need the duckdb package
        self._con.register(view, data)
        try:
            columns = ", ".join(f'"{name}"' for name in data.column_names)
            self._con.execute(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{view}"')  # noqa: S608 - names come from our schema
        finally:
            self._con.unregister(view)

    # -- reading ---------------------------------------------------------------------------
    @property
    def ibis(self) -> Any:
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self._con)
        return self._ibis

    def table(self, name: str) -> ibis.Table:
        return self.ibis.table(name)

    def get_meta(self, key: str) -> str | None:
        row = first_row(self._con.execute("SELECT value FROM meta WHERE key = ?", [key]))
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def row_count(self, table: str) -> int:
        return int(self.table(table).count().to_pyarrow().as_py())

    def has_table(self, table: str) -> bool:
        return bool(first_row(self._con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]))[0])

    def has_rows(self, table: str) -> bool:
        """False for an empty table and for one this store does not have (an older schema opened read-only)."""
        if not self.has_table(table):
            return False
        return bool(self._con.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}")').fetchall()[0][0])  # noqa: S608

    def tables_with_rows(self, tables: set[str] | frozenset[str]) -> set[str]:
        """Those of ``tables`` that exist and have a row: :meth:`has_rows` of each, in two queries."""
        present = sorted(name for (name,) in self._con.execute(
            "SELECT table_name FROM duckdb_tables()").fetchall() if name in tables)
        if not present:
            return set()
        probes = " UNION ALL ".join(f'SELECT {n} AS n FROM (SELECT 1 FROM "{name}" LIMIT 1)'  # noqa: S608
                                    for n, name in enumerate(present))
        return {present[n] for (n,) in self._con.execute(probes).fetchall()}

    def column_bounds(self, table: str, column: str) -> tuple[object, object]:
        """min and max of a column (cheap on DuckDB's zone maps)."""
        row = self._con.execute(f'SELECT min("{column}"), max("{column}") FROM "{table}"').fetchall()[0]  # noqa: S608
        return row[0], row[1]

    def fetch_arrow(self, expr: ibis.Expr) -> pa.Table:
        return self.ibis.to_pyarrow(expr)

    def stream_table(self, name: str, rows: int) -> Iterator[pa.RecordBatch]:
        """The rows of a table as Arrow batches of at most ``rows`` rows (bounded memory)."""
        _relations()
        reader = self._con.cursor().sql(f'SELECT * FROM "{name}"').to_arrow_reader(rows)  # noqa: S608
        yield from reader

    # -- copying between engines (callkpi.storage.copy) ------------------------------------
    def create_table_for(self, name: str, schema: pa.Schema) -> None:
        """Create a table, if missing: by the model's definition (keys included) when it has one, else
        (a rollup) from its Arrow schema."""
        table = model_table(name)
        if table is not None:
            self._con.execute(table.ddl())
            return
        empty = schema.empty_table()
        _relations()  # Arrow sources need the duckdb package
        self._con.register("_callkpi_new_table", empty)
        try:
            self._con.execute(f'CREATE TABLE IF NOT EXISTS "{name}" AS SELECT * FROM _callkpi_new_table')  # noqa: S608
        finally:
            self._con.unregister("_callkpi_new_table")

    def arrow_schema(self, name: str) -> pa.Schema:
        _relations()
        return self._con.sql(f'SELECT * FROM "{name}" LIMIT 0').to_arrow_table().schema  # noqa: S608

    def truncate(self, name: str) -> None:
        self._con.execute(f'DELETE FROM "{name}"')  # noqa: S608 - a table name of the store

    # -- the engine seam -------------------------------------------------------------------
    def compile(self, expr: ibis.Expr) -> str:
        """The SQL of an Ibis expression in this store's dialect."""
        return str(self.ibis.compile(expr))

    def parameter(self, name: str, kind: ParamKind) -> str:
        """How a bound parameter is written in this store's SQL (DuckDB: ``$name``, any type)."""
        return f"${name}"

    def query_arrow(self, sql: str, params: dict[str, object] | None = None) -> pa.Table:
        """Run SQL (with the parameters :meth:`parameter` wrote) and return the result as Arrow."""
        _relations()
        return self._con.sql(sql, params=params).to_arrow_table()

    def query_rows(self, sql: str, params: dict[str, object] | None = None) -> tuple[list[str], list[str],
                                                                                    list[tuple]]:
        """Like :meth:`query_arrow`, as column names, DuckDB type names and Python rows (no Arrow)."""
        cursor = self._con.execute(sql, params or {})
        rows = cursor.fetchall()
        return [d[0] for d in cursor.description], [str(d[1]) for d in cursor.description], rows

    def register_arrow(self, name: str, data: pa.Table) -> None:
        """Make an Arrow table readable by name for this connection's queries (a calendar; its name
        says its content, so a name this connection can already read is not made again)."""
        if self._readable(name):
            return
        _relations()  # Arrow sources need the duckdb package
        self._con.register(name, data)
        self._registered().add(name)

    def register_query(self, name: str, sql: str) -> None:
        """Make the rows of a query readable by name for this connection's queries, as a temporary
        table made once (a calendar: its name says its content). No Arrow: a report by day of a few
        rows need not import pyarrow and NumPy."""
        if not self._readable(name):
            self._con.execute(f'CREATE TEMP TABLE "{name}" AS {sql}')
            self._registered().add(name)

    def _readable(self, name: str) -> bool:
        """True when this connection reads ``name`` already: made through this store, or through
        another store over the same connection (as an Arrow view or a temporary table)."""
        if name in self._registered():
            return True
        found = self._con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE temporary AND table_name = ? "
            "UNION ALL SELECT 1 FROM duckdb_views() WHERE temporary AND view_name = ?", [name, name]).fetchall()
        if found:
            self._registered().add(name)
        return bool(found)

    def _registered(self) -> set[str]:
        """Names this connection can read its own tables by (calendars), made on first use (a
        store over a cursor of another connection starts without any)."""
        return self.__dict__.setdefault("_registered_names", set())

    def fetch_all(self, sql: str, params: list[object] | None = None) -> list[tuple]:
        """Rows of a query of the store's own (portable) SQL, with positional ``?`` parameters."""
        return self._con.execute(sql, params or []).fetchall()

    def fetch_records(self, sql: str, params: list[object] | None = None) -> list[dict[str, Any]]:
        """Like :meth:`fetch_all`, each row as a dict by column name."""
        cursor = self._con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def execute(self, sql: str, params: list[object] | None = None) -> None:
        """A statement of the store's own (portable) SQL with positional ``?`` parameters: INSERT
        [OR REPLACE] INTO a keyed table, UPDATE ... SET ... WHERE, DELETE FROM ... WHERE (a ClickHouse
        store writes each in its own terms)."""
        self._con.execute(sql, params or [])

    def table_sizes(self) -> dict[str, int]:
        """Every stored (non-temporary) table and its estimated number of rows."""
        rows = self._con.execute(
            "SELECT table_name, estimated_size FROM duckdb_tables() WHERE NOT temporary ORDER BY table_name"
        ).fetchall()
        return {str(name): int(size or 0) for name, size in rows}


def generated_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The columns of a table of this database that DuckDB computes (not written by an insert)."""
    return {name for (name,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = ? AND is_generated", [table]).fetchall()}


# What a migrated table's new stored columns are filled with from the old rows (else NULL).
_MIGRATION_FILL = {
    ("agent_legs", "leg_no"): "TRY_CAST(regexp_extract(\"leg_id\", '#([0-9]+)$', 1) AS INTEGER)",
}


def drop_retired_columns(con: duckdb.DuckDBPyConnection, tables: tuple[Table, ...]) -> None:
    """A store made by an older callkpi loses the columns the model no longer keeps (``Table.dropped``)."""
    retired = {(table.name, name) for table in tables for name in table.dropped}
    if not retired:
        return
    have = set(con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main'").fetchall())
    for table, name in sorted(retired & have):
        con.execute(f'ALTER TABLE "{table}" DROP COLUMN "{name}"')


def migrate_generated_columns(con: duckdb.DuckDBPyConnection, tables: tuple[Table, ...]) -> None:
    """A store made before a column became generated (``Table.generated``: ``leg_id``) holds it as
    stored values: the table is rebuilt in the model's form (its rows kept, the new stored columns
    filled from the old ones), in one transaction."""
    for table in tables:
        if not table.generated or table.temporary:
            continue
        have = dict(con.execute(
            "SELECT column_name, is_generated FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND table_name = ?", [table.name]).fetchall())
        if all(have.get(name) for name, _ in table.generated):
            continue
        _rebuild(con, table, set(have))


def _rebuild(con: duckdb.DuckDBPyConnection, table: Table, have: set[str]) -> None:
    old = f"{table.name}__before_migration"
    values = ", ".join(f'"{name}"' if name in have else _MIGRATION_FILL.get((table.name, name), "NULL")
                       for name in table.stored_columns)
    columns = ", ".join(f'"{name}"' for name in table.stored_columns)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f'ALTER TABLE "{table.name}" RENAME TO "{old}"')
        con.execute(table.ddl())
        con.execute(f'INSERT INTO "{table.name}" ({columns}) SELECT {values} FROM "{old}"')  # noqa: S608
        con.execute(f'DROP TABLE "{old}"')
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def memory_limit() -> str:
    """What DuckDB may use: ``CALLKPI_MEMORY_LIMIT`` (any DuckDB size), else half of the machine's memory."""
    return os.environ.get("CALLKPI_MEMORY_LIMIT", _default_memory_limit())


def _default_memory_limit() -> str:
    """Half of the machine's memory, as DuckDB writes sizes."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "4GB"
    return f"{max(total // 2 // 2**20, 512)}MB"


def first_row(cursor: duckdb.DuckDBPyConnection | list[tuple]) -> tuple | None:
    """The first row of an executed query (or of the rows of ``Store.fetch_all``); reads all rows
    (DuckDB 2 refuses half-read results)."""
    rows = cursor if isinstance(cursor, list) else cursor.fetchall()
    return rows[0] if rows else None
