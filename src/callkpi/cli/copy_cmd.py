"""`callkpi copy`: move a store to another engine (a DuckDB file to ClickHouse, and back)."""

from __future__ import annotations

import typer

from callkpi.cli.app import app
from callkpi.cli.common import console, err_console, fail, resolve_store


@app.command()
def copy(
    to: str = typer.Option(..., "--to", help="the store to fill: chdb:///path/to/dir, "
                           "clickhouse://user:password@host:8123/db, or a DuckDB file"),
    source: str | None = typer.Option(None, "--from", help="the store to read (a DuckDB file or a ClickHouse URL; "
                                      "default: $CALLKPI_DB or ./callkpi.duckdb)"),
    replace: bool = typer.Option(False, "--replace", help="empty the tables the destination already fills"),
    batch_rows: int = typer.Option(100_000, "--batch-rows", help="rows per Arrow batch (bounds the memory used)"),
) -> None:
    """Copy every table of a store to another (DuckDB <-> ClickHouse), in Arrow batches of bounded size.

    `callkpi kpi --db` the copy then gives the same numbers (docs/engines.md says what runs where)."""
    from callkpi.storage import open_store
    from callkpi.storage.copy import CopyRefused, copy_store

    origin = resolve_store(source)
    destination_url = resolve_store(to, must_exist=False)
    if origin == destination_url:
        fail("--from and --to name the same store")
    if batch_rows < 1:
        fail("--batch-rows must be at least 1")
    with open_store(origin, read_only=True) as reader, open_store(destination_url) as writer:
        try:
            report = copy_store(reader, writer, replace=replace, batch_rows=batch_rows)
        except CopyRefused as exc:
            fail(str(exc))
            raise
    for name, rows in report.tables.items():
        if rows:
            err_console.print(f"  {name}: {rows} rows")
    console.print(f"copied {report.rows} rows in {len(report.tables)} tables from {origin} to {destination_url}")
