"""Compiled KPI queries kept between processes, so that a command's repeat query skips Ibis.

Building a query's expression and compiling it to SQL takes Ibis (most of a second to import)
and about as long again to run; the engine keeps the SQL of a query *shape* in memory
(:func:`callkpi.metrics.engine.compute`), and this module keeps it in a cache directory too, so
that `callkpi kpi` run again in a fresh process reads its SQL from a file and binds the values.

A kept template is used only under the same key: callkpi's code (the size and time of every
module file), the engine and the compiler (DuckDB's version, Ibis's and sqlglot's files), the
store's data version as the engine reads it (its tables, the rollups present and their
parameters and data end, the slice spans rounded to calendar blocks), every column of every
table, and the query's metrics, rollup use and shape (dimensions, filters and dates given or
not, all parameters). Anything that changes the SQL changes one of these, so a stale template is
never found; a file that does not read back is ignored.

The directory is ``$CALLKPI_CACHE_DIR``, else ``$XDG_CACHE_HOME/callkpi``, else
``~/.cache/callkpi``; ``CALLKPI_CACHE_DIR=off`` (or empty) keeps nothing. Writing never fails a
query: a read-only or full disk only means the next process compiles again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from callkpi.storage import Store

CACHE_ENV = "CALLKPI_CACHE_DIR"
FORMAT = 1  # of the kept files; a new layout gets a new number (and new keys)
KEEP = 500  # files kept; the oldest go first when a save makes more
_OFF = ("", "off", "none", "0", "false", "no")


def cache_dir() -> Path | None:
    """Where templates are kept, or None when keeping them is switched off."""
    given = os.environ.get(CACHE_ENV)
    if given is not None:
        return None if given.strip().lower() in _OFF else Path(given).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "callkpi"


def key(store: Store, version: tuple, rollups: bool, metric_ids: tuple[str, ...] | list[str],
        shape: tuple) -> str | None:
    """The key of a query's template in this store as it is now; None when none is kept (switched
    off, a store in memory, or another engine's store: the key holds DuckDB's catalogue)."""
    if not keeps(store):
        return None
    parts = [FORMAT, code_fingerprint(), "duckdb", _duckdb_version(), repr(version), columns_digest(store),
             rollups, list(metric_ids), repr(shape)]
    return json.dumps(parts, ensure_ascii=False, default=str)


def keeps(store: Store) -> bool:
    """Whether templates of this store are kept (a store file of DuckDB's, keeping switched on)."""
    return store.path != ":memory:" and getattr(store, "dialect", "duckdb") == "duckdb" and cache_dir() is not None


def load(key_text: str | None) -> dict[str, Any] | None:
    """The template kept under the key, or None."""
    path = _file(key_text)
    if path is None:
        return None
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("key") != key_text or not isinstance(kept.get("template"), dict):
        return None  # another key with the same hash, or not one of ours
    return kept["template"]


def exists(key_text: str | None) -> bool:
    """Whether a template is kept under the key (a file of that key's name; :func:`load` checks it)."""
    path = _file(key_text)
    return path is not None and path.is_file()


def save(key_text: str | None, template: dict[str, Any]) -> None:
    """Keep a template under the key (atomically: a reader sees the old file or the whole new one)."""
    path = _file(key_text)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, suffix=".tmp",
                                         delete=False) as handle:
            json.dump({"key": key_text, "template": template}, handle, ensure_ascii=False)
        os.replace(handle.name, path)
        _prune(path.parent)
    except OSError:
        return


def _file(key_text: str | None) -> Path | None:
    folder = cache_dir()
    if key_text is None or folder is None:
        return None
    return folder / "templates" / f"{hashlib.sha256(key_text.encode()).hexdigest()}.json"


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
    for old in files[:max(0, len(files) - KEEP)]:
        old.unlink(missing_ok=True)
    for stray in folder.glob("*.tmp"):  # left by a process killed while writing
        if stray.stat().st_mtime < os.path.getmtime(folder) - 3600:
            stray.unlink(missing_ok=True)


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """callkpi's code and the compiler's, as files on disk: an edit or an upgrade changes it."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for folder, names in sorted(_code_folders(str(package))):
        for name in names:
            _add_file(digest, Path(folder, name))
    for name in ("ibis", "sqlglot"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            _add_file(digest, Path(spec.origin))
    return digest.hexdigest()


def _code_folders(top: str) -> list[tuple[str, list[str]]]:
    """Each folder of the package and its ``.py`` files, sorted (os.walk: quicker than Path.rglob)."""
    return [(folder, sorted(name for name in files if name.endswith(".py")))
            for folder, _, files in os.walk(top) if not folder.endswith("__pycache__")]


def _add_file(digest: Any, path: Path) -> None:
    try:
        info = path.stat()
    except OSError:
        return
    digest.update(f"{path}|{info.st_size}|{info.st_mtime_ns}\n".encode())


def _duckdb_version() -> str:
    import _duckdb  # the engine (the `duckdb` package around it is slower to import)

    return str(_duckdb.__version__)


def columns_digest(store: Store) -> str:
    """Every column of the store's tables with its type (a writable open adds those a newer model has)."""
    rows = store.fetch_all(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main' ORDER BY table_name, column_index"
    )
    return hashlib.sha256(repr(rows).encode()).hexdigest()
