"""FreeSWITCH CDR: ``mod_cdr_csv`` files (the stock templates of ``cdr_csv.conf.xml`` or a column
list of your own, ``[cdr] freeswitch_template`` / ``freeswitch_columns``) and ``mod_json_cdr``
documents (one per leg: a pretty-printed file per leg, a JSON array, or one document per line).

A leg is known by its ``uuid``: a uuid seen twice is one leg (a differing repeat is reported). A
b-leg joins the call of the a-leg that names it in ``bleg_uuid`` / ``bridge_uuid``. The
``cc_queue*`` variables of mod_callcenter give the queue and the wait in it; the hangup cause and
whether the leg was answered give the outcome.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from callkpi.config import Settings
from callkpi.ingest.base import FileChunk, ImportError_, ImportReport
from callkpi.ingest.cdr.driver import Progress, chunk_batches, csv_error, csv_records, load_records
from callkpi.ingest.cdr.staging import Batch, StagedRows, clean, json_extra
from callkpi.ingest.source_format import SourceFormat
from callkpi.storage import Store

FORMAT_CSV = "freeswitch-cdr-csv"
FORMAT_JSON = "freeswitch-json-cdr"
SOURCE = "freeswitch_cdr"

# The templates of the stock cdr_csv.conf.xml (FreeSWITCH, MPL-1.1): the variables, in order.
STOCK_TEMPLATES: dict[str, str] = {
    "example": '"${caller_id_name}","${caller_id_number}","${destination_number}","${context}",'
    '"${start_stamp}","${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}",'
    '"${uuid}","${bleg_uuid}","${accountcode}","${read_codec}","${write_codec}"',
    "sql": 'INSERT INTO cdr VALUES ("${caller_id_name}","${caller_id_number}","${destination_number}",'
    '"${context}","${start_stamp}","${answer_stamp}","${end_stamp}","${duration}","${billsec}",'
    '"${hangup_cause}","${uuid}","${bleg_uuid}", "${accountcode}");',
    "snom": '"${caller_id_name}","${caller_id_number}","${destination_number}","${context}","${start_stamp}",'
    '"${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}","${uuid}","${bleg_uuid}",'
    ' "${accountcode}","${read_codec}","${write_codec}","${sip_user_agent}","${call_clientcode}",'
    '"${sip_rtp_rxstat}","${sip_rtp_txstat}","${sofia_record_file}"',
    "linksys": '"${caller_id_name}","${caller_id_number}","${destination_number}","${context}",'
    '"${start_stamp}","${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}",'
    '"${uuid}","${bleg_uuid}","${accountcode}","${read_codec}","${write_codec}","${sip_user_agent}",'
    '"${sip_p_rtp_stat}"',
    "asterisk": '"${accountcode}","${caller_id_number}","${destination_number}","${context}","${caller_id}",'
    '"${channel_name}","${bridge_channel}","${last_app}","${last_arg}","${start_stamp}","${answer_stamp}",'
    '"${end_stamp}","${duration}","${billsec}","${hangup_cause}","${amaflags}","${uuid}","${userfield}"',
    "opencdrrate": '"${uuid}","${signal_bond}","${direction}","${ani}","${destination_number}",'
    '"${answer_stamp}","${end_stamp}","${billsec}","${accountcode}","${userfield}","${network_addr}",'
    '"${regex(\'${original_caller_id_name}\'|^.)}","${sip_gateway_name}"',
}

# staged field <- the FreeSWITCH variables that can give it, first present wins
VARIABLES: dict[str, tuple[str, ...]] = {
    "src": ("caller_id_number", "ani", "effective_caller_id_number"),
    "dst": ("destination_number", "dialed_user", "sip_to_user"),
    "clid": ("caller_id_name", "caller_id", "effective_caller_id_name"),
    "dcontext": ("context", "user_context"),
    "start": ("start_stamp", "start_epoch"),
    "answer": ("answer_stamp", "answer_epoch"),
    "end": ("end_stamp", "end_epoch"),
    "duration": ("duration",),
    "billsec": ("billsec",),
    "disposition": ("hangup_cause",),
    "leg_key": ("uuid",),
    "call_key": ("originating_leg_uuid",),  # on b-legs: the a-leg (add it to a CSV template for ring groups)
    "peer_leg_key": ("bleg_uuid", "signal_bond", "bridge_uuid", "last_bridge_to"),
    "channel": ("channel_name",),
    "dstchannel": ("bridge_channel",),
    "lastapp": ("last_app",),
    "lastdata": ("last_arg",),
    "recording": ("record_file", "recording_file", "sofia_record_file", "record_path"),
    "trunk": ("sip_gateway_name",),
    "queue": ("cc_queue",),
    "agent": ("cc_agent",),
    "hold": ("hold_accum_seconds",),
}
BUSY_CAUSES = frozenset({"USER_BUSY", "CALL_REJECTED"})
NO_ANSWER_CAUSES = frozenset({
    "NO_ANSWER", "NO_USER_RESPONSE", "ORIGINATOR_CANCEL", "ALLOTTED_TIMEOUT", "NORMAL_CLEARING", "LOSE_RACE",
    "PICKED_OFF", "SUBSCRIBER_ABSENT", "ATTENDED_TRANSFER", "BLIND_TRANSFER",
})
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_CAUSE = re.compile(r"^[A-Z]+(_[A-Z0-9]+)+$")
_SQL_LINE = re.compile(r"^\s*INSERT\s+INTO\s+\S+\s+VALUES\s*\((?P<values>.*)\)\s*;?\s*$", re.I)
_KEPT_JSON_VARIABLES = (
    "hangup_cause_q850", "sip_hangup_disposition", "direction", "waitsec", "progresssec", "accountcode",
    "cc_queue_joined_epoch", "cc_queue_answered_epoch", "cc_queue_terminated_epoch", "cc_queue_canceled_epoch",
    "cc_cancel_reason", "cc_cause", "cc_member_uuid", "cc_agent_uuid", "originating_leg_uuid", "call_uuid",
)


def template_columns(settings: Settings) -> tuple[str, ...]:
    """The variables of the configured template, in order."""
    if settings.cdr.freeswitch_columns:
        return tuple(settings.cdr.freeswitch_columns)
    template = STOCK_TEMPLATES.get(settings.cdr.freeswitch_template)
    if template is None:
        raise ImportError_(
            f"unknown mod_cdr_csv template {settings.cdr.freeswitch_template!r}; stock templates: "
            f"{', '.join(STOCK_TEMPLATES)}, or list the variables in [cdr] freeswitch_columns"
        )
    return tuple(re.findall(r"\$\{((?:[^{}]|\{[^{}]*\})*)\}", template))


# -- detection -------------------------------------------------------------------------------


def sniff_csv(head: bytes) -> str | None:
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    line = next((line for line in text.splitlines() if line.strip()), None)
    if line is None:
        return None
    sql = _SQL_LINE.match(line)
    try:
        cells = next(csv.reader([sql["values"] if sql else line], skipinitialspace=True))
    except (csv.Error, StopIteration):
        return None
    values = [cell.strip() for cell in cells]
    if any(_UUID.match(v) for v in values) and any(_CAUSE.match(v) for v in values):
        return FORMAT_CSV
    return None


def sniff_json(head: bytes) -> str | None:
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if text[:1] in ("{", "[") and '"variables"' in text and ('"core-uuid"' in text or '"callflow"' in text
                                                              or '"channel_data"' in text):
        return FORMAT_JSON
    return None


# -- mod_cdr_csv -----------------------------------------------------------------------------


def load_csv(
    store: Store, path: Path, settings: Settings, *, timezone: str, progress: Progress | None = None
) -> ImportReport:
    columns = template_columns(settings)
    sql_lines = settings.cdr.freeswitch_template == "sql" and not settings.cdr.freeswitch_columns

    def read(start_offset: int, first_line: int) -> Iterator[Batch]:
        return chunk_batches(path, start_offset, first_line,
                             lambda chunk: _stage_csv(chunk, columns, sql_lines=sql_lines, settings=settings))

    return load_records(store, path, settings, fmt=FORMAT_CSV, source=SOURCE, timezone=timezone,
                        read_batches=read, progress=progress)


def _stage_csv(chunk: FileChunk, columns: tuple[str, ...], *, sql_lines: bool, settings: Settings) -> StagedRows:
    rows = StagedRows()
    for line_no, raw, parsed in csv_records(_unwrap_sql(chunk) if sql_lines else chunk):
        cells = [cell.lstrip() for cell in parsed]
        issue = csv_error(cells)
        if issue is None and len(cells) != len(columns):
            name = settings.cdr.freeswitch_template if not settings.cdr.freeswitch_columns else "in freeswitch_columns"
            issue = (f"{len(cells)} fields; the template {name} has {len(columns)} "
                     "(set [cdr] freeswitch_template or freeswitch_columns)")
        rows.add(line_no, raw, None if issue else _record(dict(zip(columns, cells, strict=True)), settings), issue)
    return rows


def _unwrap_sql(chunk: FileChunk) -> FileChunk:
    lines = []
    for line in chunk.lines:
        match = _SQL_LINE.match(line)
        lines.append(match["values"] if match else line)
    return FileChunk(lines, chunk.raw_lines, chunk.first_line_no, chunk.end_offset)


# -- mod_json_cdr ----------------------------------------------------------------------------


def load_json(
    store: Store, path: Path, settings: Settings, *, timezone: str, progress: Progress | None = None
) -> ImportReport:
    def read(start_offset: int, first_line: int) -> Iterator[Batch]:
        documents = _whole_documents(path)
        if documents is None:  # one document per line
            return chunk_batches(path, start_offset, first_line, lambda chunk: _stage_json_lines(chunk, settings))
        return iter([_document_batch(path, documents, first_line, settings)])

    return load_records(store, path, settings, fmt=FORMAT_JSON, source=SOURCE, timezone=timezone,
                        read_batches=read, progress=progress)


def _whole_documents(path: Path) -> list[Any] | None:
    """The documents of a file that is one JSON value (a document or an array), else None."""
    text = path.read_bytes().decode("utf-8", errors="replace").lstrip("\ufeff")
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) else [value]


def _document_batch(path: Path, documents: list[Any], first_line: int, settings: Settings) -> Batch:
    rows = StagedRows()
    for number, document in enumerate(documents, 1):
        if number >= first_line:
            _add_document(rows, number, document, json.dumps(document)[:2000], settings)
    return Batch(rows, path.stat().st_size, len(documents), True)


def _stage_json_lines(chunk: FileChunk, settings: Settings) -> StagedRows:
    rows = StagedRows()
    for offset, line in enumerate(chunk.lines):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.add(chunk.first_line_no + offset, line, None, f"not a JSON document: {exc.msg}")
            continue
        _add_document(rows, chunk.first_line_no + offset, document, line, settings)
    return rows


def _add_document(rows: StagedRows, line_no: int, document: Any, raw: str, settings: Settings) -> None:
    if not isinstance(document, dict) or not isinstance(document.get("variables"), dict):
        rows.add(line_no, raw, None, "not a mod_json_cdr document (no \"variables\" object)")
        return
    rows.add(line_no, raw, _json_record(document, settings))


def _json_record(document: dict[str, Any], settings: Settings) -> dict[str, Any]:
    variables: dict[str, Any] = dict(document["variables"])
    flow = document.get("callflow")
    flow = (flow[0] if flow else {}) if isinstance(flow, list) else (flow or {})
    profile = flow.get("caller_profile", {}) if isinstance(flow, dict) else {}
    for key in ("caller_id_number", "caller_id_name", "destination_number", "context", "ani", "uuid"):
        if clean(variables.get(key)) is None and clean(profile.get(key)) is not None:
            variables[key] = profile[key]
    if clean(variables.get("channel_name")) is None:
        variables["channel_name"] = profile.get("chan_name")
    for stamp in ("start_epoch", "answer_epoch", "end_epoch"):
        if str(variables.get(stamp, "")).strip() == "0":
            variables[stamp] = None
    for stamp in ("start_stamp", "answer_stamp", "end_stamp"):
        variables.pop(stamp, None)  # epochs are exact and zone-free; the stamps are local text
    record = _record(variables, settings, keep_extra=False)
    record["queue_wait"], record["queue_exit"] = _queue_wait(variables)
    record["extra"] = json_extra({k: variables.get(k) for k in _KEPT_JSON_VARIABLES} | {
        "switchname": document.get("switchname"), "core-uuid": document.get("core-uuid")})
    return record


def _queue_wait(variables: dict[str, Any]) -> tuple[str | None, str | None]:
    joined = _epoch(variables.get("cc_queue_joined_epoch"))
    if joined is None:
        return None, None
    left = next((e for k in ("cc_queue_answered_epoch", "cc_queue_canceled_epoch", "cc_queue_terminated_epoch")
                 if (e := _epoch(variables.get(k))) is not None), None)
    answered = _epoch(variables.get("cc_queue_answered_epoch")) is not None
    reason = None if answered else clean(variables.get("cc_cancel_reason")) or clean(variables.get("cc_cause"))
    return (str(left - joined) if left is not None else None), reason


def _epoch(value: object) -> float | None:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


# -- one leg ---------------------------------------------------------------------------------


def _record(values: dict[str, Any], settings: Settings, *, keep_extra: bool = True) -> dict[str, Any]:
    record: dict[str, Any] = {}
    used: set[str] = set()
    for field_name, names in VARIABLES.items():
        name = next((n for n in names if clean(values.get(n)) is not None), None)
        if name is not None:
            record[field_name] = values[name]
            used.add(name)
    cause = (clean(record.get("disposition")) or "").upper()
    record["outcome"] = outcome(cause, clean(record.get("answer")), clean(record.get("billsec")))
    if record.get("agent"):
        record["agent"] = str(record["agent"]).split("@")[0]
    uuid = clean(record.get("leg_key"))
    record["call_key"] = clean(record.get("call_key")) or uuid
    record["dedupe_key"] = f"id:{uuid}" if uuid else None
    campaign_field = settings.cdr.campaign_field
    record["campaign"] = values.get(campaign_field) if campaign_field else None
    if keep_extra:
        record["extra"] = json_extra({k: v for k, v in values.items() if k not in used})
    return record


def outcome(cause: str, answer: str | None, billsec: str | None) -> str:
    """answered when the leg was answered, whatever the hangup cause (a call answered and later
    cut by RECOVERY_ON_TIMER_EXPIRE was a conversation); else busy, no answer or failed."""
    if answer is not None or _positive(billsec):
        return "answered"
    if cause in BUSY_CAUSES:
        return "busy"
    if cause in NO_ANSWER_CAUSES or not cause:
        return "no_answer"
    return "failed"


def _positive(value: str | None) -> bool:
    try:
        return float(value or 0) > 0
    except ValueError:
        return False


SOURCE_FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat(
        FORMAT_CSV,
        "FreeSWITCH mod_cdr_csv file ([cdr] freeswitch_template or freeswitch_columns name its columns)",
        sniff_csv,
        load_csv,
    ),
    SourceFormat(
        FORMAT_JSON,
        "FreeSWITCH mod_json_cdr documents (a file per leg, a JSON array, or one document per line)",
        sniff_json,
        load_json,
    ),
)
