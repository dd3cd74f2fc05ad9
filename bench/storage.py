"""Storage benchmark: bytes per million calls of a DuckDB store, table by table, beside the limit.

    python bench/storage.py --db bench-data/load-1000000/load.base.duckdb
    python bench/storage.py --db STORE --compact        # also a compacted copy (the store is not touched)
    python bench/storage.py --calls 100000              # simulate and load a centre first
    python bench/storage.py --db STORE --parquet        # and each table as Parquet/zstd (the yardstick)

The size of a table is the bytes of its column segments in the file (``pragma_storage_info``: the
distance from a segment to the next one in its block, plus the blocks a long segment continues
in), so the figures of the tables add up to the file's used blocks; the columns that take most are
printed under each table. Per million calls means per million rows of ``calls``. The limit is issue
17's: 150 MB per million calls (MB = 10^6 bytes). Not a test: the figures depend on the data.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import duckdb

LIMIT_MB_PER_M_CALLS = 150.0
BLOCK = 262_144
COLUMNS_SHOWN = 6
SMALL_TABLE_BYTES = 1_000_000  # summed as one line (their last, part-filled block counts whole)


def segment_bytes(db: Path) -> dict[tuple[str, str], int]:
    """(table, column) -> bytes of its persistent segments."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [row[0] for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND NOT temporary").fetchall()]
        by_block: dict[int, list[tuple[int, str, str, int]]] = defaultdict(list)
        for table in tables:
            rows = con.execute(
                "SELECT column_name, block_id, block_offset, len(coalesce(additional_block_ids, [])) "
                "FROM pragma_storage_info(?) WHERE persistent AND block_id >= 0", [table]).fetchall()
            for column, block, offset, more in rows:
                by_block[block].append((offset, table, column, more))
    finally:
        con.close()
    sizes: dict[tuple[str, str], int] = defaultdict(int)
    for segments in by_block.values():
        segments.sort()
        for n, (offset, table, column, more) in enumerate(segments):
            end = segments[n + 1][0] if n + 1 < len(segments) else BLOCK
            sizes[(table, column)] += end - offset + more * BLOCK
    return dict(sizes)


def calls_in(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM calls").fetchall()[0][0])


def parquet_bytes(db: Path, tables: list[str]) -> dict[str, int]:
    """Each table written alone as Parquet with zstd (DuckDB's writer, default level)."""
    out: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp, duckdb.connect(str(db), read_only=True) as con:
        for table in tables:
            target = Path(tmp) / f"{table}.parquet"
            con.execute(f"COPY \"{table}\" TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
            out[table] = target.stat().st_size
    return out


def report(db: Path, label: str, *, parquet: bool) -> dict[str, float]:
    """Print the figures of one store; per table MB per million calls."""
    calls = calls_in(db)
    per_m = 1e6 / max(calls, 1)
    sizes = segment_bytes(db)
    tables: dict[str, int] = defaultdict(int)
    for (table, _column), size in sizes.items():
        tables[table] += size
    shown = sorted(tables, key=lambda t: -tables[t])
    pq = parquet_bytes(db, shown) if parquet else {}
    file_mb = db.stat().st_size / 1e6 * per_m
    print(f"\n{label}: {db} ({calls:,} calls; file {db.stat().st_size / 1e6:.1f} MB)")
    print(f"{'table':28s} {'MB':>8s} {'MB per M calls':>15s}" + (f" {'Parquet/zstd':>13s}" if pq else ""))
    figures: dict[str, float] = {}
    for table in shown:
        if tables[table] < SMALL_TABLE_BYTES:
            continue
        figures[table] = tables[table] / 1e6 * per_m
        extra = f" {pq[table] / 1e6 * per_m:13.1f}" if pq else ""
        print(f"{table:28s} {tables[table] / 1e6:8.1f} {figures[table]:15.1f}{extra}")
        columns = sorted(((size, c) for (t, c), size in sizes.items() if t == table), reverse=True)
        for size, column in columns[:COLUMNS_SHOWN]:
            print(f"    {column:24s} {size / 1e6:8.1f} {size / 1e6 * per_m:15.1f}")
    rest = sum(size for table, size in tables.items() if table not in figures) / 1e6 * per_m
    used = sum(tables.values()) / 1e6 * per_m
    print(f"{'(smaller tables)':28s} {'':8s} {rest:15.1f}")
    print(f"{'column segments':28s} {'':8s} {used:15.1f}")
    verdict = "under" if file_mb < LIMIT_MB_PER_M_CALLS else "OVER"
    print(f"{'file':28s} {'':8s} {file_mb:15.1f}   limit {LIMIT_MB_PER_M_CALLS:.0f}: {verdict} "
          f"({file_mb / LIMIT_MB_PER_M_CALLS:.2f}x)")
    return figures


def simulate_store(calls: int, workdir: Path) -> Path:
    data = workdir / f"storage-{calls}"
    db = data / "store.duckdb"
    if db.exists():
        return db
    data.mkdir(parents=True, exist_ok=True)
    run = [sys.executable, "-m", "callkpi"]
    subprocess.run([*run, "simulate", "--out", str(data / "sim"), "--days", "30", "--calls-per-day",
                    str(calls // 30), "--seed", "1", "--start", "2026-03-02"], check=True)
    subprocess.run([*run, "ingest", str(data / "sim" / "queue_log"), "--db", str(db), "--tz", "Europe/Moscow"],
                   check=True)
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="the store to measure (read only)")
    parser.add_argument("--calls", type=int, default=100_000, help="without --db: simulate this many calls")
    parser.add_argument("--workdir", type=Path, default=Path("bench-data"))
    parser.add_argument("--compact", action="store_true", help="also measure a compacted copy")
    parser.add_argument("--parquet", action="store_true", help="also write each table as Parquet/zstd")
    args = parser.parse_args()
    db = args.db or simulate_store(args.calls, args.workdir)
    before = report(db, "as stored", parquet=args.parquet)
    if not args.compact:
        return
    from callkpi.storage.compact import compact_store

    with tempfile.TemporaryDirectory(dir=db.parent) as tmp:
        copy = Path(tmp) / db.name
        shutil.copyfile(db, copy)
        compact_store(copy)
        after = report(copy, "after callkpi compact", parquet=args.parquet)
    print(f"\n{'table':28s} {'before':>8s} {'after':>8s}   (MB per M calls)")
    for table in sorted(set(before) | set(after), key=lambda t: -before.get(t, 0.0)):
        print(f"{table:28s} {before.get(table, 0.0):8.1f} {after.get(table, 0.0):8.1f}")


if __name__ == "__main__":
    main()
