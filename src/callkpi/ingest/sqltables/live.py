"""``callkpi ingest mysql://user@host:port/asteriskcdrdb`` (and ``postgresql://``): the PBX's tables
read where they are, incrementally.

Each table (``[sql]`` settings: cdr, cel, queue_log) is read in keyset-paged batches of
``[sql] batch_rows`` rows ordered by its time column and a tie-break (``id``, else ``uniqueid,
sequence``), from its high-water mark minus the overlap window (see marks.py), each batch in its own
read-only REPEATABLE READ transaction (a consistent snapshot: InnoDB and PostgreSQL take no locks
for it). New rows are appended to the table's spool file and loaded by the file importer; then the
mark is saved. A connection lost mid-batch leaves nothing: the batch is appended only once read
whole. A table that vanished (rotated) is skipped; rows it gave stay in the store.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from callkpi.config import Settings
from callkpi.ingest.base import ImportError_, ImportReport
from callkpi.ingest.sqltables import spool
from callkpi.ingest.sqltables.loading import Importers, load_spool, merge
from callkpi.ingest.sqltables.marks import Mark, load_mark, save_mark
from callkpi.storage import Store

FORMAT = "sql-live"
SCHEMES = {"mysql": "mysql", "mariadb": "mysql", "postgresql": "postgresql", "postgres": "postgresql"}
PASSWORD_ENV = "CALLKPI_DB_PASSWORD"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
TIME_COLUMNS = {"cdr": "calldate", "cel": "eventtime", "queue_log": "time"}


def is_url(text: str) -> bool:
    return text.split("://", 1)[0].lower() in SCHEMES and "://" in text


@dataclass(frozen=True)
class Database:
    engine: str  # mysql | postgresql
    user: str
    host: str
    port: int
    name: str

    @property
    def display(self) -> str:
        scheme = "mysql" if self.engine == "mysql" else "postgresql"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.name}"


def parse_url(url: str) -> Database:
    parts = urlsplit(url)
    engine = SCHEMES.get(parts.scheme.lower())
    if engine is None:
        raise ImportError_(f"{url}: not a mysql:// or postgresql:// address")
    if parts.password is not None:
        raise ImportError_(
            f"{parts.scheme}://{parts.username}@{parts.hostname}: a password in the address would stay in the "
            f"shell's history; put it in [sql] password of the settings file or ${PASSWORD_ENV}")
    name = parts.path.lstrip("/")
    if not name or not parts.hostname:
        raise ImportError_(f"{url}: name the host and the database, e.g. mysql://callkpi@pbx/asteriskcdrdb")
    port = parts.port or (3306 if engine == "mysql" else 5432)
    return Database(engine, unquote(parts.username or "callkpi"), parts.hostname, port, name)


def quoted(engine: str, name: str) -> str:
    """A table or column name from the settings, checked and quoted (names cannot be bound)."""
    if not _IDENTIFIER.match(name):
        raise ImportError_(f"{name!r} is not a plain table or column name")
    return f"`{name}`" if engine == "mysql" else f'"{name}"'


def connect(db: Database, settings: Settings) -> Any:
    password = os.environ.get(PASSWORD_ENV) or settings.sql.password or None
    if db.engine == "mysql":
        import pymysql

        options: dict[str, Any] = {}
        cnf = Path("~/.my.cnf").expanduser()
        if password is None and cnf.is_file():
            options["read_default_file"] = str(cnf)
        con = pymysql.connect(host=db.host, port=db.port, user=db.user, password=password or "", database=db.name,
                              charset="utf8mb4", autocommit=False, connect_timeout=15, read_timeout=600, **options)
        with con.cursor() as cur:
            cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return con
    import psycopg

    con = psycopg.connect(host=db.host, port=db.port, user=db.user, dbname=db.name, password=password,
                          connect_timeout=15)  # no password: libpq reads ~/.pgpass
    con.read_only = True
    con.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    return con


def _begin(con: Any, engine: str) -> None:
    if engine == "mysql":
        with con.cursor() as cur:
            cur.execute("START TRANSACTION READ ONLY")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def row_key(columns: Sequence[str], cells: Sequence[str]) -> str:
    """The id of a row where the table has one, else a digest of the whole row."""
    if "id" in columns:
        return "id:" + cells[columns.index("id")]
    return hashlib.sha1("\x1f".join(cells).encode()).hexdigest()[:20]


def _typed(text: str) -> Any:
    """A time read back from a spool cell, in the type the server gives."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return text


def _time(value: Any) -> Any:
    if isinstance(value, datetime | int | float):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, Decimal):
        return float(value)
    return None  # a zero date the driver gives as text: no mark from it


@dataclass
class TableReader:
    store: Store
    con: Any
    db: Database
    settings: Settings
    importers: Importers
    report: ImportReport
    folder: Path
    timezone: str | None
    on_batch: Callable[[int], None] | None = None  # tests: called after each batch is fetched

    def read(self, table: str, kind: str) -> None:
        columns = self._columns(table)
        if columns is None:
            self.report.messages.append(f"table {table}: not found in {self.db.name}, skipped")
            return
        time_col = TIME_COLUMNS[kind]
        if time_col not in columns:
            self.report.messages.append(f"table {table}: has no {time_col} column, skipped")
            return
        tie = ("id",) if "id" in columns else tuple(c for c in ("uniqueid", "sequence") if c in columns)
        order = (time_col, *tie)
        path = self.folder / f"{kind}.csv"
        source = self.db.display
        mark = load_mark(self.store, source, table)
        self._recover(mark, path, columns, time_col)
        self._load(table, kind, path, mark, source)
        overlap = timedelta(minutes=self.settings.sql.overlap_min)
        since, after = mark.since(overlap), None
        while True:
            rows = self._batch(table, columns, order, since, after)
            if self.on_batch:
                self.on_batch(len(rows))
            if not rows:
                break
            cells = [[_cell(v) for v in row] for row in rows]
            fresh = [(row, line) for row, line in zip(rows, cells, strict=True)
                     if row_key(columns, line) not in mark.keys]
            if fresh:
                spool.append(path, columns, [line for _, line in fresh])
            mark.rows_read += len(fresh)
            mark.advance([(_time(row[columns.index(time_col)]), row_key(columns, line)) for row, line in fresh],
                         overlap)
            self._load(table, kind, path, mark, source)
            after = tuple(rows[-1][columns.index(c)] for c in order)
            if len(rows) < self.settings.sql.batch_rows:
                break

    def _load(self, table: str, kind: str, path: Path, mark: Mark, source: str) -> None:
        """Load what the spool holds that the store has not, then save the mark."""
        if not path.is_file():
            return
        part = load_spool(self.store, path, kind, self.settings, self.importers, timezone=self.timezone)
        if part is None:
            if not any(m.startswith(f"table {table}: ") and "not loaded" in m for m in self.report.messages):
                self.report.messages.append(
                    f"table {table}: rows written to {path}, not loaded: this callkpi has no "
                    f"{spool.FORMAT_OF_KIND[kind]} importer")
        else:
            merge(self.report, table, part, None)
            if part.status in ("loaded", "appended"):
                self.report.status = "loaded"
        mark.spool_bytes = path.stat().st_size
        save_mark(self.store, source, table, mark)

    def _recover(self, mark: Mark, path: Path, columns: Sequence[str], time_col: str) -> None:
        """Rows a run appended to the spool but whose mark it did not save: take them into the mark."""
        if not path.is_file() or path.stat().st_size <= mark.spool_bytes:
            return
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), [])
            handle.seek(max(mark.spool_bytes, 0))
            if mark.spool_bytes == 0:
                handle.readline()
            rows = [r for r in csv.reader(handle) if len(r) == len(header)]
        if list(header) != list(columns):
            return
        at = header.index(time_col)
        mark.advance([(_time(_typed(r[at])), row_key(header, r)) for r in rows],
                     timedelta(minutes=self.settings.sql.overlap_min))

    def _columns(self, table: str) -> list[str] | None:
        name = quoted(self.db.engine, table)
        try:
            _begin(self.con, self.db.engine)
            with self.con.cursor() as cur:
                cur.execute(f"SELECT * FROM {name} WHERE 1 = 0")  # noqa: S608 (a checked, quoted name)
                names = [d[0] for d in cur.description]
            self.con.commit()
        except Exception as exc:  # the driver's "no such table"
            self.con.rollback()
            if _missing_table(exc):
                return None
            raise
        return names

    def _batch(self, table: str, columns: Sequence[str], order: Sequence[str], since: Any,
               after: tuple | None) -> list[tuple]:
        engine = self.db.engine
        where, params = [], []
        if since is not None:
            where.append(f"{quoted(engine, order[0])} >= %s")
            params.append(since)
        if after is not None:
            where.append("(" + ", ".join(quoted(engine, c) for c in order) + ") > ("
                         + ", ".join("%s" for _ in order) + ")")
            params.extend(after)
        sql = (f"SELECT {', '.join(quoted(engine, c) for c in columns)} FROM {quoted(engine, table)}"  # noqa: S608
               + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY " + ", ".join(quoted(engine, c) for c in order) + " LIMIT %s")
        params.append(self.settings.sql.batch_rows)
        _begin(self.con, engine)
        try:
            with self.con.cursor() as cur:
                cur.execute(sql, params)
                rows = [tuple(r) for r in cur.fetchall()]
            self.con.commit()
        except Exception:
            _quiet_rollback(self.con)
            raise
        return rows


def _missing_table(exc: Exception) -> bool:
    code = getattr(exc, "args", [None])[0]
    return code == 1146 or getattr(exc, "sqlstate", None) == "42P01"


def _quiet_rollback(con: Any) -> None:
    with contextlib.suppress(Exception):  # the connection is gone; the batch is dropped anyway
        con.rollback()


def tables(settings: Settings) -> list[tuple[str, str]]:
    sql = settings.sql
    return [(sql.cdr_table, "cdr"), (sql.cel_table, "cel"), (sql.queue_log_table, "queue_log")]


def ingest_url(store: Store, url: str, settings: Settings, importers: Importers, *, timezone: str | None = None,
               on_batch: Callable[[int], None] | None = None) -> ImportReport:
    """Read what is new in a live database's tables; ImportError_ when it cannot be reached."""
    db = parse_url(url)
    report = ImportReport(db.display, FORMAT, status="unchanged")
    try:
        con = connect(db, settings)
    except ImportError as exc:
        raise ImportError_(f"{db.display}: the database driver is not installed (pip install 'callkpi[sql]')") from exc
    except Exception as exc:
        raise ImportError_(f"{db.display}: cannot connect: {exc}") from exc
    folder = spool.source_folder(store, f"{db.engine}-{db.host}-{db.port}-{db.name}")
    try:
        reader = TableReader(store, con, db, settings, importers, report, folder, timezone, on_batch)
        for table, kind in tables(settings):
            reader.read(table, kind)
    except ImportError_:
        raise
    except Exception as exc:
        raise ImportError_(f"{db.display}: reading stopped: {exc}; what was read before is kept, "
                           "the next run goes on from there") from exc
    finally:
        _close(con)
    return report


def _close(con: Any) -> None:
    with contextlib.suppress(Exception):
        con.close()
