"""Forgetting a loaded source: its raw rows, quarantine and findings go, and every call, leg,
agent time, rollup and call link they fed is rebuilt from what remains, in one transaction.
A file loaded with the wrong settings (e.g. its time zone) is then loaded again as new, and a
mistake is never fixed by deleting the database."""

from __future__ import annotations

from dataclasses import dataclass

from callkpi.config import Settings
from callkpi.ingest import derive, queue_log, queue_log_model, transcripts
from callkpi.ingest.base import ImportError_
from callkpi.ingest.business.layouts import KINDS as BUSINESS_KINDS
from callkpi.ingest.business.loader import forget_business
from callkpi.ingest.cdr import rebuild as cdr_rebuild
from callkpi.ingest.cel import building as cel_building
from callkpi.ingest.refresh import after_calls_changed
from callkpi.model.working_tables import CDR_AFFECTED, QUEUE_LOG_NEW_CALLIDS
from callkpi.storage import Store, first_row

QUEUE_LOG_FORMATS = queue_log.FORMATS


@dataclass(frozen=True)
class Forgotten:
    source_id: int
    path: str
    format: str
    rows: int  # raw rows (queue_log lines or CDR records) removed
    calls_touched: int


def forget_source(store: Store, settings: Settings, source_id: int) -> Forgotten:
    """Remove source ``source_id`` and everything derived from it; raise ImportError_ when it is
    not a loaded call source."""
    row = first_row(store.connection.execute("SELECT path, format FROM sources WHERE source_id = ?", [source_id]))
    if row is None:
        raise ImportError_(f"no source {source_id}; `callkpi sources` lists them")
    path, fmt = str(row[0]), str(row[1])
    with store.transaction() as con:
        if fmt in QUEUE_LOG_FORMATS:
            rows, calls = _forget_queue_log(store, settings, source_id)
        elif _has_cdr_rows(store, source_id):
            rows, calls = _forget_cdr(store, settings, source_id)
        elif _has_cel_rows(store, source_id):
            rows, calls = _forget_cel(store, settings, source_id)
        elif fmt == transcripts.FORMAT:
            rows = first_row(con.execute("SELECT count(*) FROM transcripts WHERE source_id = ?", [source_id]))[0]
            transcripts.forget_source(store, source_id)
            calls = 0
        elif fmt in BUSINESS_KINDS:
            rows, calls = forget_business(store, settings, fmt, source_id), 0
        elif _holds_nothing(store, source_id):
            rows, calls = 0, 0
        else:
            raise ImportError_(f"source {source_id} ({fmt}) cannot be forgotten; queue_log, CDR, CEL, transcript "
                               f"and business files ({', '.join(sorted(BUSINESS_KINDS))}) can")
        con.execute("DELETE FROM quarantine WHERE source_id = ?", [source_id])
        con.execute("DELETE FROM data_quality WHERE call_id IS NULL AND starts_with(detail, ?)", [f"{path}: "])
        con.execute("DELETE FROM sources WHERE source_id = ?", [source_id])
        con.execute("DELETE FROM meta WHERE key = ?", [f"source_unfinished_tail:{source_id}"])
        after_calls_changed(store, settings)
        derive.suggest_dial_prefixes(store, settings.phone)
    return Forgotten(source_id, path, fmt, rows, calls)


def _has_cdr_rows(store: Store, source_id: int) -> bool:
    return first_row(store.connection.execute(
        "SELECT count(*) FROM cdr_records WHERE source_id = ?", [source_id]))[0] > 0


def _has_cel_rows(store: Store, source_id: int) -> bool:
    return first_row(store.connection.execute(
        "SELECT count(*) FROM cel_events WHERE source_id = ?", [source_id]))[0] > 0


def _forget_cel(store: Store, settings: Settings, source_id: int) -> tuple[int, int]:
    """The CEL calls of the source are rebuilt from the events that remain; where no CEL is left,
    the CDR and queue_log calls of the same ids are rebuilt as they were without it."""
    con = store.connection
    store.create_working_table(CDR_AFFECTED, empty=True)
    con.execute("INSERT INTO cdr_affected SELECT DISTINCT linkedid FROM cel_events WHERE source_id = ?", [source_id])
    keys = [r[0] for r in con.execute("SELECT call_key FROM cdr_affected").fetchall()]
    removed = first_row(con.execute("SELECT count(*) FROM cel_events WHERE source_id = ?", [source_id]))[0]
    con.execute("DELETE FROM cel_events WHERE source_id = ?", [source_id])
    cel_building.rebuild(store, settings)
    for source in _cdr_sources(store):
        store.create_working_table(CDR_AFFECTED, empty=True)
        con.execute("INSERT INTO cdr_affected SELECT DISTINCT call_key FROM cdr_records "
                    "WHERE source = ? AND list_contains(?, call_key)", [source, keys])
        cdr_rebuild.rebuild(store, settings, source)
    _rebuild_queue_log_calls_of(store, settings, keys)
    return int(removed), len(keys)


def _holds_nothing(store: Store, source_id: int) -> bool:
    """A call source whose every line was quarantined."""
    return first_row(store.connection.execute(
        "SELECT count(*) FROM sources WHERE source_id = ? AND lines_loaded = 0", [source_id]))[0] > 0


def _forget_queue_log(store: Store, settings: Settings, source_id: int) -> tuple[int, int]:
    con = store.connection
    store.create_working_table(QUEUE_LOG_NEW_CALLIDS, empty=True)
    con.execute("INSERT INTO ql_new_callids SELECT DISTINCT callid FROM queue_log_events WHERE source_id = ?",
                [source_id])
    removed = first_row(con.execute("SELECT count(*) FROM queue_log_events WHERE source_id = ?", [source_id]))[0]
    con.execute("DELETE FROM queue_log_events WHERE source_id = ?", [source_id])
    calls = _rebuild_queue_log_calls(store, settings)
    # CDR rows of those calls were merged into them: they become CDR calls of their own again.
    for source in _cdr_sources(store):
        store.create_working_table(CDR_AFFECTED, empty=True)
        con.execute("INSERT INTO cdr_affected SELECT DISTINCT call_key FROM cdr_records "
                    "WHERE source = ? AND call_key IN (SELECT callid FROM ql_new_callids)", [source])
        cdr_rebuild.rebuild(store, settings, source)
    return int(removed), calls


def _forget_cdr(store: Store, settings: Settings, source_id: int) -> tuple[int, int]:
    con = store.connection
    source = str(first_row(con.execute("SELECT any_value(source) FROM cdr_records WHERE source_id = ?",
                                       [source_id]))[0])
    store.create_working_table(CDR_AFFECTED, empty=True)
    con.execute("INSERT INTO cdr_affected SELECT DISTINCT call_key FROM cdr_records WHERE source_id = ?",
                [source_id])
    keys = [r[0] for r in con.execute("SELECT call_key FROM cdr_affected").fetchall()]
    removed = first_row(con.execute("SELECT count(*) FROM cdr_records WHERE source_id = ?", [source_id]))[0]
    con.execute("DELETE FROM cdr_records WHERE source_id = ?", [source_id])
    cdr_rebuild.rebuild(store, settings, source)
    # Queue_log calls this CDR filled (DID, trunk, callee...) are rebuilt without it, then merged
    # again with the CDR rows that remain.
    _rebuild_queue_log_calls_of(store, settings, keys)
    return int(removed), len(keys)


def _rebuild_queue_log_calls_of(store: Store, settings: Settings, keys: list[str]) -> None:
    """Rebuild the queue_log calls among ``keys`` (call ids), when the queue_log has any of them."""
    con = store.connection
    store.create_working_table(QUEUE_LOG_NEW_CALLIDS, empty=True)
    con.execute("INSERT INTO ql_new_callids SELECT DISTINCT callid FROM queue_log_events "
                "WHERE list_contains(?, callid)", [keys])
    if first_row(con.execute("SELECT count(*) FROM ql_new_callids"))[0]:
        _rebuild_queue_log_calls(store, settings)


def _rebuild_queue_log_calls(store: Store, settings: Settings) -> int:
    """Rebuild the queue_log calls listed in ``ql_new_callids`` (agent presence replayed from the
    start) and merge them with the CDR rows that share their ids."""
    queue_log_model.register_agent_aliases(store, settings)
    queue_log_model.rebuild(store, settings, None)
    cdr_rebuild.reconcile_with_queue_log(store, settings)
    cel_building.reconcile_with_queue_log(store, settings)
    return int(first_row(store.connection.execute("SELECT count(*) FROM ql_new_callids"))[0])


def _cdr_sources(store: Store) -> list[str]:
    return [r[0] for r in store.connection.execute("SELECT DISTINCT source FROM cdr_records").fetchall()]
