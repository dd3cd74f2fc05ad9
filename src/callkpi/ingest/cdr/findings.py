"""File-level data-quality findings of a CDR load (clock problems, legs without an end, ...)."""

from __future__ import annotations

from pathlib import Path

from callkpi.storage import Store, first_row


def file_findings(store: Store, source: str, source_id: int, path: Path, timezone: str) -> float | None:
    """Write the file-level findings; return the clock offset (seconds) of its times when it is one."""
    con = store.connection
    con.execute("DELETE FROM data_quality WHERE source = ? AND call_id IS NULL AND starts_with(detail, ?)",
                [source, f"{path}: "])
    con.execute(
        """
        INSERT INTO data_quality
        SELECT $source, 'cdr_minute_precision', NULL, NULL, min(start_utc),
            $prefix || count(*) || ' row(s) have times without seconds (re-saved by a spreadsheet?); '
            || 'answer and end are taken from duration and billsec'
        FROM cdr_records WHERE source_id = $source_id AND minute_precision HAVING count(*) > 0
        UNION ALL
        SELECT $source, 'cdr_conflicting_duplicate', NULL, NULL, min(start_utc),
            $prefix || count(*) || ' leg id(s) appear more than once with different content; the first '
            || 'row of each is used: ' || string_agg(DISTINCT leg_key, ', ')
        FROM (SELECT leg_key, any_value(start_utc) AS start_utc FROM cdr_records
              WHERE source = $source AND starts_with(dedupe_key, 'id:') AND dedupe_key IN
                  (SELECT dedupe_key FROM cdr_records WHERE source_id = $source_id)
              GROUP BY leg_key
              HAVING count(DISTINCT concat_ws('|', disposition, outcome, start_utc, answer_utc, end_utc,
                                              billsec_s)) > 1)
        HAVING count(*) > 0
        """,
        {"source": source, "source_id": source_id, "prefix": f"{path}: "},
    )
    offset = first_row(con.execute(
        """
        SELECT median(epoch(start_utc) - TRY_CAST(regexp_extract(leg_key, '(\\d{9,11})\\.\\d+$', 1) AS BIGINT)),
            count(*)
        FROM cdr_records WHERE source_id = ? AND regexp_matches(leg_key, '\\d{9,11}\\.\\d+$')
        """,
        [source_id],
    ))
    if offset and offset[0] is not None and abs(float(offset[0])) >= 900:
        hours = float(offset[0]) / 3600
        con.execute(
            "INSERT INTO data_quality VALUES (?, 'cdr_clock_offset', NULL, NULL, NULL, ?)",
            [source, f"{path}: start times read in {timezone} are {hours:+.2f} h from the uniqueid clock of "
             f"{offset[1]} row(s); the file's times are probably in another zone: forget the source "
             f"(callkpi sources forget {source_id}) and load it again with the right --file-tz"],
        )
        return float(offset[0])
    return None
