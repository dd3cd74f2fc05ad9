"""`callkpi copy`: move a store to another engine (a DuckDB file to ClickHouse, and back)."""

from __future__ import annotations

import typer

from callkpi.cli.app import app
from callkpi.cli.command_words import counted, say
from callkpi.cli.common import console, err_console, fail, resolve_store
from callkpi.cli.words import n


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
        fail(say("cli.copy.same_store"))
    if batch_rows < 1:
        fail(say("cli.copy.batch_rows"))
    with open_store(origin, read_only=True) as reader, open_store(destination_url) as writer:
        try:
            report = copy_store(reader, writer, replace=replace, batch_rows=batch_rows)
        except CopyRefused as exc:
            fail(str(exc))
            raise
        if writer.dialect == "clickhouse":  # its rollups: built by ClickHouse from the copied raw tables
            from callkpi.metrics.rollup import build_on_clickhouse

            build_on_clickhouse(writer)
    for name, rows in report.tables.items():
        if rows:
            err_console.print(say("cli.copy.table", name=name, rows=n("cli.n_rows", rows)), markup=False)
    console.print(say("cli.copy.done", rows=n("cli.n_rows", report.rows), tables=counted("cli.n_tables", len(
        report.tables)), origin=origin, destination=destination_url), markup=False)
