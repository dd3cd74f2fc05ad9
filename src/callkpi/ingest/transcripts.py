"""Call transcripts: JSON (callkpi's layout, Yandex SpeechKit, Tinkoff VoiceKit), WebVTT and SRT
(:mod:`callkpi.speech.transcript` reads them), matched to their calls and checked against the script
of the call type (:mod:`callkpi.speech.match`).

A transcript names its call by ``call_id`` (uniqueid/linkedid), by its recording's file name
(``recording``; a WebVTT/SRT file's own name is taken as the recording's), or by the customer's
``phone`` and the time it ``started``: the call with that number that started nearest, within
``[transcripts] match_window_s``. A transcript loaded before its calls is matched when they are
loaded (every call import re-matches), so the load order never changes a KPI.

Each transcript of a file is one "line" of the accounting: a transcript with one bad utterance goes
to the quarantine whole (a missing utterance would change its speaking time), the rest load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from callkpi.config import Settings
from callkpi.ingest.base import (
    ImportReport,
    LineIssue,
    local_iso_time,
    quarantine_rows,
    record_source,
    start_import,
)
from callkpi.ingest.source_format import SourceFormat
from callkpi.model.schema import SLICE_SECONDS
from callkpi.phone import normalise
from callkpi.speech.match import check_script
from callkpi.speech.scripts import Script, script_for, scripts_in_force
from callkpi.speech.stats import speech_stats
from callkpi.speech.transcript import (
    Transcript,
    TranscriptError,
    Utterance,
    looks_like_transcript,
    parse_json,
    parse_text,
)
from callkpi.storage import Store

FORMAT = "transcripts"
MAX_FILE_BYTES = 200 * 1024 * 1024


def sniff(head: bytes) -> str | None:
    return FORMAT if looks_like_transcript(head) else None


@dataclass
class _Parsed:
    good: list[tuple[int, Transcript]]
    issues: list[LineIssue]
    count: int


def _parse_file(path: Path, settings: Settings) -> _Parsed:
    if path.stat().st_size > MAX_FILE_BYTES:
        return _Parsed([], [LineIssue(1, "", f"file over {MAX_FILE_BYTES // 2**20} MB: not one call's transcripts")],
                       1)
    text = path.read_bytes().decode("utf-8", errors="replace")
    channel = settings.transcripts.agent_channel
    try:
        found = parse_text(text, channel)
    except TranscriptError as exc:
        if text.lstrip("\ufeff").lstrip().startswith(("{", "[")):
            found = _one_by_one(text, channel)
            if found is None:
                return _Parsed([], [LineIssue(1, text[:2000], str(exc))], 1)
            return found
        return _Parsed([], [LineIssue(1, text[:2000], str(exc))], 1)
    if not text.lstrip("\ufeff").lstrip().startswith(("{", "[")) and found:
        found[0].recording = found[0].recording or _recording_of(path)
    return _Parsed(list(enumerate(found, start=1)), [], len(found))


def _one_by_one(text: str, channel: str) -> _Parsed | None:
    """A JSON list of transcripts with bad ones among them: the good load, each bad one is quarantined."""
    import json

    try:
        document = json.loads(text.lstrip("\ufeff"))
    except (ValueError, RecursionError):
        return None
    items = document.get("transcripts") if isinstance(document, dict) else document
    if not isinstance(items, list):
        return None
    good, issues = [], []
    for n, item in enumerate(items, start=1):
        try:
            good.append((n, parse_json([item], channel)[0]))
        except TranscriptError as exc:
            issues.append(LineIssue(n, json.dumps(item, ensure_ascii=False)[:2000], f"transcript {n}: {exc}"))
    return _Parsed(good, issues, len(items))


def _recording_of(path: Path) -> str:
    """``1772442000.15.wav.vtt`` -> ``1772442000.15.wav``: a subtitle file named after its recording."""
    return path.name.rsplit(".", 1)[0]



def _record(transcript: Transcript, source_id: int, n: int, settings: Settings, zone: ZoneInfo) -> dict[str, Any]:
    stats = speech_stats(transcript.utterances)
    started = local_iso_time(transcript.started or "", zone, "started", TranscriptError)
    return {
        "transcript_id": f"t{source_id}-{n}", "source_id": source_id, "line_no": n,
        "call_id_given": transcript.call_id, "recording": transcript.recording,
        "phone_norm": normalise(transcript.phone, settings.phone) if transcript.phone else None,
        "started_utc": started, "call_type_given": transcript.call_type, "lang": transcript.lang,
        "call_id": None, "matched_by": None, "agent": None, "queue": None, "campaign": None, "direction": None,
        "slice_id": int(started.replace(tzinfo=UTC).timestamp()) // SLICE_SECONDS if started else None,
        "utterances": len(transcript.utterances), "span_s": stats.span_s, "agent_speech_s": stats.agent_speech_s,
        "customer_speech_s": stats.customer_speech_s, "silence_s": stats.silence_s,
        "agent_longest_monologue_s": stats.agent_longest_monologue_s,
        "agent_interruptions": stats.agent_interruptions, "customer_interruptions": stats.customer_interruptions,
        "call_type": None, "script_version": None, "required_stages": None, "required_done": None,
        "stages_in_order": None, "forbidden_said": None,
    }


def load(store: Store, path: Path, settings: Settings, *, timezone: str,
         progress: Callable[[int], None] | None = None) -> ImportReport:
    """Load one transcript file in one transaction (see the module docstring)."""
    report = ImportReport(path=str(path), format=FORMAT)
    start = start_import(store, path, report)
    if start is None:
        return report
    source_id, zone = start.source_id, ZoneInfo(timezone)
    parsed = _parse_file(path, settings)
    records, utterances, issues = [], [], list(parsed.issues)
    for n, transcript in parsed.good:
        try:
            record = _record(transcript, source_id, n, settings, zone)
        except TranscriptError as exc:
            issues.append(LineIssue(n, "", f"transcript {n}: {exc}"))
            continue
        records.append(record)
        utterances += [[record["transcript_id"], i, u.speaker, u.start_s, u.end_s, u.text]
                       for i, u in enumerate(transcript.utterances)]
    if start.known is not None:
        report.status = "appended"
        report.messages.append("the file changed since the last load; its transcripts are replaced")
    with store.transaction():
        _forget(store, source_id)
        records = _new_only(store, records, report)
        _insert(store, records, utterances)
        quarantine_rows(store, source_id, path, issues)
        relink(store, settings)
        report.lines_read = parsed.count
        report.lines_loaded = len(records)
        report.duplicates = parsed.count - len(records) - len(issues)
        report.quarantined = len(issues)
        report.issues = issues
        report.messages.insert(0, f"{len(records)} transcript(s) read")
        times = [r["started_utc"] for r in records if r["started_utc"] is not None]
        if times:
            report.first_utc, report.last_utc = min(times), max(times)
        record_source(store, path=path, fmt=FORMAT, source_id=source_id, known=start.known,
                      bytes_loaded=path.stat().st_size, lines_read=parsed.count, lines_loaded=len(records),
                      report=report, timezone=timezone)
    if progress:
        progress(path.stat().st_size)
    return report


def _forget(store: Store, source_id: int) -> None:
    con = store.connection
    for table in ("utterances", "script_stages"):
        con.execute(f"DELETE FROM {table} WHERE transcript_id IN "  # noqa: S608 - fixed names
                    "(SELECT transcript_id FROM transcripts WHERE source_id = ?)", [source_id])
    con.execute("DELETE FROM transcripts WHERE source_id = ?", [source_id])
    con.execute("DELETE FROM quarantine WHERE source_id = ?", [source_id])


def forget_source(store: Store, source_id: int) -> None:
    """``callkpi sources forget``: the source's transcripts, utterances and stage checks."""
    _forget(store, source_id)


def _new_only(store: Store, records: list[dict[str, Any]], report: ImportReport) -> list[dict[str, Any]]:
    """A transcript of a call or recording already loaded from another file counts once."""
    known = {(r[0], r[1]) for r in store.connection.execute(
        "SELECT call_id_given, recording FROM transcripts").fetchall()}
    fresh = [r for r in records if (r["call_id_given"] is None and r["recording"] is None)
             or (r["call_id_given"], r["recording"]) not in known]
    if len(fresh) < len(records):
        report.messages.append(f"{len(records) - len(fresh)} transcript(s) were already loaded from another file; "
                               "counted once")
    return fresh


def _insert(store: Store, records: list[dict[str, Any]], utterances: list[list[Any]]) -> None:
    from callkpi.model.speech_schema import TRANSCRIPTS, UTTERANCES

    if records:
        _append(store, TRANSCRIPTS, records)
    if utterances:
        names = UTTERANCES.column_names
        _append(store, UTTERANCES, [dict(zip(names, u, strict=True)) for u in utterances])


def _append(store: Store, table: Any, records: list[dict[str, Any]]) -> None:
    """Insert records into a model table in one statement (through Arrow: a row-by-row executemany
    took seconds for a file's ten thousand utterances)."""
    from callkpi.model.business_schema import arrow_records

    view = f"{table.name}_new_arrow"
    columns = ", ".join(f'"{c}"' for c in table.column_names)
    con = store.connection
    con.register(view, arrow_records(table, records))
    try:
        con.execute(f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM "{view}"')  # noqa: S608 - our names
    finally:
        con.unregister(view)


# -- matching to calls and checking the script ---------------------------------------------

_LINK = """
    WITH t AS (SELECT transcript_id, call_id_given, recording, phone_norm, started_utc FROM transcripts),
    by_id AS (
        SELECT t.transcript_id, c.call_id, 'call_id' AS matched_by, 1 AS rank FROM t JOIN calls c
        ON c.call_id = t.call_id_given
    ), by_recording AS (
        SELECT t.transcript_id, c.call_id, 'recording' AS matched_by, 2 AS rank FROM t JOIN calls c
        ON t.recording IS NOT NULL AND (c.call_id = regexp_replace(t.recording, '\\.[A-Za-z0-9]+$', '')
            OR regexp_extract(c.recording, '[^/\\\\]+$') = t.recording
            OR regexp_replace(regexp_extract(c.recording, '[^/\\\\]+$'), '\\.[A-Za-z0-9]+$', '')
               = regexp_replace(t.recording, '\\.[A-Za-z0-9]+$', ''))
    ), by_number AS (
        SELECT t.transcript_id, c.call_id, 'number' AS matched_by, 3 AS rank,
               abs(epoch(c.start_utc) - epoch(t.started_utc)) AS gap
        FROM t JOIN calls c ON t.phone_norm IS NOT NULL AND t.started_utc IS NOT NULL
            AND (c.caller_norm = t.phone_norm OR c.callee_norm = t.phone_norm)
            AND abs(epoch(c.start_utc) - epoch(t.started_utc)) <= ?
    ), candidates AS (
        SELECT transcript_id, call_id, matched_by, rank, 0 AS gap FROM by_id
        UNION ALL SELECT transcript_id, call_id, matched_by, rank, 0 FROM by_recording
        UNION ALL SELECT transcript_id, call_id, matched_by, rank, gap FROM by_number
    )
    SELECT x.transcript_id, x.call_id, x.matched_by, c.agent, c.queue, c.campaign, c.direction, c.start_slice
    FROM candidates x JOIN calls c USING (call_id)
    QUALIFY row_number() OVER (PARTITION BY x.transcript_id ORDER BY x.rank, x.gap, x.call_id) = 1
"""


# What relinking sets on a transcript: its call and the script check (one UPDATE for all of them).
_RELINKED = ("transcript_id", "call_id", "matched_by", "agent", "queue", "campaign", "direction", "slice_id",
             "call_type", "script_version", "required_stages", "required_done", "stages_in_order", "forbidden_said")


@dataclass(frozen=True)
class _Link:
    transcript_id: str
    script: Script | None
    values: dict[str, Any]  # call_id, matched_by, agent, queue, campaign, direction, slice_id


def relink(store: Store, settings: Settings, *, recheck_all: bool = False) -> None:
    """Match every transcript to its call and check the script of the call type where either changed
    (``recheck_all``: every transcript, after the scripts changed)."""
    con = store.connection
    if not store.has_rows("transcripts"):
        return
    links = {r[0]: r[1:] for r in con.execute(_LINK, [settings.transcripts.match_window_s]).fetchall()}
    rows = con.execute(
        "SELECT transcript_id, call_id, call_type_given, call_type, script_version, slice_id, started_utc "
        "FROM transcripts").fetchall()
    scripts = scripts_in_force(store)
    changed: list[_Link] = []
    for transcript_id, old_call, type_given, old_type, old_version, _, started in rows:
        call_id, matched_by, agent, queue, campaign, direction, call_slice = links.get(
            transcript_id, (None, None, None, None, None, None, None))
        script = script_for(scripts, type_given, queue, campaign, direction)
        same = (call_id == old_call and (script.call_type if script else None) == old_type
                and (script.version if script else None) == old_version and old_type is not None)
        if same and not recheck_all:
            continue
        slice_id = call_slice if call_slice is not None else (
            int(started.replace(tzinfo=UTC).timestamp()) // SLICE_SECONDS if started else None)
        changed.append(_Link(transcript_id, script, {
            "call_id": call_id, "matched_by": matched_by, "agent": agent, "queue": queue, "campaign": campaign,
            "direction": direction, "slice_id": slice_id}))
    if changed:
        _check(store, changed, settings)


def _check(store: Store, changed: list[_Link], settings: Settings) -> None:
    """Check the scripts of the relinked transcripts and write their links, checks and stages
    (set-based: a statement per table for the whole batch, not per transcript)."""
    from callkpi.model.business_schema import arrow_records
    from callkpi.model.schema import Table
    from callkpi.model.speech_schema import SCRIPT_STAGES, TRANSCRIPTS

    said = _utterances(store, [link.transcript_id for link in changed if link.script is not None])
    updates, stages = [], []
    for link in changed:
        row = {"transcript_id": link.transcript_id, **link.values}
        script = link.script
        if script is not None:
            result = check_script(script, said.get(link.transcript_id, []), settings.transcripts.match_threshold)
            row |= {"call_type": script.call_type, "script_version": script.version,
                    "required_stages": result.required, "required_done": result.required_done,
                    "stages_in_order": result.in_order, "forbidden_said": len(result.forbidden)}
            where = {k: link.values[k] for k in ("agent", "queue", "campaign", "slice_id")}
            stages += [{"transcript_id": link.transcript_id, "call_type": script.call_type, "stage": s.stage,
                        "position": s.position, "required": s.required, "done": s.done,
                        "utterance_seq": s.utterance, "in_order": s.in_order, **where} for s in result.stages]
        updates.append(row)  # no script: call_type ... forbidden_said stay missing, written as NULL
    types = dict(TRANSCRIPTS.columns)
    relinked = Table("transcript_relinked", "", tuple((c, types[c]) for c in _RELINKED))
    con = store.connection
    con.register("transcript_relinked_arrow", arrow_records(relinked, updates))
    try:
        sets = ", ".join(f'"{c}" = u."{c}"' for c in _RELINKED[1:])
        con.execute(f"UPDATE transcripts SET {sets} FROM transcript_relinked_arrow u "  # noqa: S608 - fixed names
                    "WHERE transcripts.transcript_id = u.transcript_id")
        con.execute("DELETE FROM script_stages WHERE transcript_id IN "
                    "(SELECT transcript_id FROM transcript_relinked_arrow)")
    finally:
        con.unregister("transcript_relinked_arrow")
    if stages:
        _append(store, SCRIPT_STAGES, stages)


def _utterances(store: Store, transcript_ids: list[str]) -> dict[str, list[Utterance]]:
    """What was said in each of the transcripts, in order (one query for all of them)."""
    if not transcript_ids:
        return {}
    from callkpi.storage.lazy import pa

    said: dict[str, list[Utterance]] = {}
    con = store.connection
    con.register("transcript_ids_arrow", pa.table({"transcript_id": pa.array(transcript_ids, pa.string())}))
    try:
        rows = con.execute("SELECT u.transcript_id, u.speaker, u.start_s, u.end_s, u.text FROM utterances u "
                           "SEMI JOIN transcript_ids_arrow i ON i.transcript_id = u.transcript_id "
                           "ORDER BY u.transcript_id, u.seq").fetchall()
    finally:
        con.unregister("transcript_ids_arrow")
    for transcript_id, *utterance in rows:
        said.setdefault(transcript_id, []).append(Utterance(*utterance))
    return said


SOURCE_FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat(FORMAT, "call transcripts: callkpi JSON, Yandex SpeechKit or Tinkoff VoiceKit JSON results, "
                         "WebVTT, SRT (see docs/speech.md)", sniff, load),
)
