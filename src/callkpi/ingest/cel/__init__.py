"""Asterisk CEL (Channel Event Logging): the cel table as CSV and cel_custom's Master.csv.

``reader`` splits files into rows, ``staging`` checks them and keeps them in ``cel_events``,
``building`` turns the events of each linkedid into a call with its legs, ``reconcile`` lets the CDR
calls of the same PBX give way, ``loader`` runs one file in one transaction.
"""

from __future__ import annotations

from callkpi.ingest.cel import loader, reader
from callkpi.ingest.source_format import SourceFormat

SOURCE_FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat(
        reader.FORMAT_TABLE,
        "Asterisk CEL: CSV of the cel table with a header (eventtype, eventtime, uniqueid, linkedid, ...)",
        reader.sniff_table,
        lambda store, path, settings, **kw: loader.load(store, path, settings, fmt=reader.FORMAT_TABLE, **kw),
    ),
    SourceFormat(
        reader.FORMAT_CSV,
        "Asterisk CEL: cel_custom / cel-csv Master.csv (no header; the sample mapping's 20, 19 or 17 fields)",
        reader.sniff_csv,
        lambda store, path, settings, **kw: loader.load(store, path, settings, fmt=reader.FORMAT_CSV, **kw),
    ),
)
