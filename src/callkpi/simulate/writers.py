"""The files a simulation writes, and how they are written.

Phone-system records (exactly as Asterisk writes them)
------------------------------------------------------
``queue_log``
    Plain Asterisk queue log, ``epoch|callid|queue|agent|EVENT|data...``, in time order. ``callid``
    is the uniqueid of the caller's channel (``1772430000.123``); the agent column is the member
    interface ``Local/1001@from-queue/n`` (``NONE`` where Asterisk writes NONE). Events:
    QUEUESTART, ADDMEMBER, REMOVEMEMBER, PAUSE/UNPAUSE (reason Lunch, Training or ACW),
    ENTERQUEUE(url|callerid|position), RINGNOANSWER(ms), RINGCANCELED(ms),
    CONNECT(holdtime|member channel uniqueid|ringtime), COMPLETEAGENT/COMPLETECALLER
    (holdtime|calltime|origposition), BLINDTRANSFER(extension|context|holdtime|calltime|origposition),
    ATTENDEDTRANSFER(BRIDGE|bridge id|holdtime|calltime|origposition),
    ABANDON/EXITWITHTIMEOUT(position|origposition|waittime). An overflowing call leaves queue 1
    with EXITWITHTIMEOUT and enters queue 2 with the same callid.
``Master.csv``
    cdr-csv output without header, 21 columns: accountcode, src, dst, dcontext, clid, channel,
    dstchannel, lastapp, lastdata, start, answer, end, duration, billsec, disposition, amaflags,
    uniqueid, userfield, peeraccount, linkedid, sequence. Text fields are double-quoted, the
    numbers (duration, billsec, sequence) and an empty answer time are not, exactly like
    cdr_csv.c. Times are local (scenario time zone) ``YYYY-MM-DD HH:MM:SS``. Rows are in the
    order Asterisk dispatches them (when the caller's channel hangs up). Inbound queue calls:
    one row per member rung (dstchannel ``Local/1001@from-queue-0000002a;1``, lastapp Queue,
    NO ANSWER or ANSWERED), the member side of the answered ring (``Local/...;2`` dialling
    ``PJSIP/1001-...``), a row for the transfer target, and, for calls no agent answered, the
    caller's own row (answered by the IVR, so ANSWERED; lastapp Queue or VoiceMail). All rows of
    an inbound call carry ``linkedid`` = the queue_log callid. Outbound campaign dials and
    callbacks: one row, dcontext ``from-internal``, channel ``PJSIP/1001-...``, dstchannel
    ``PJSIP/trunk-...``, disposition ANSWERED, NO ANSWER or BUSY.

Business records (UTF-8, comma-separated, header line; times ISO 8601 local with UTC offset)
---------------------------------------------------------------------------------------------
``deals.csv``
    deal_id, created_at, closed_at (empty while open), status (won|lost|open), amount,
    currency (RUB), customer_phone (as typed into a CRM: ``+7 (495) 123-45-67``, ``8 495 ...``),
    owner_agent (extension), call_id (queue_log callid / CDR uniqueid of the call, empty when the
    CRM did not record it), product, campaign (empty for inbound).
``surveys.csv``
    call_id, phone, answered_at, survey_type (csat|nps), score (1-5 for csat, 0-10 for nps).
``qa_reviews.csv``
    review_id, call_id, agent, reviewer, reviewed_at, call_type (the scorecard), criterion,
    weight, fatal (0|1), score (0, 0.5, 1 or NA). One row per criterion of a review.
``costs.csv``
    cost_type (agent_hourly|telecom_per_minute|fixed_monthly), agent (extension for
    agent_hourly), amount, currency, description.
``staff.csv``
    agent (extension), name, team, hired (date), left (date, empty if still employed),
    leave_reason.
``training.csv``
    agent, programme, date.
``schedules.csv``
    agent, date, shift_start, shift_end (planned, not the actual login).

Ground truth (what really happened; gzip CSV with header, epochs in seconds)
----------------------------------------------------------------------------
``truth_queue_legs.csv.gz``
    call_id, leg_no, queue, enter_epoch, outcome (answered|abandoned|flowed_out), wait_s,
    agent, ring_no_answer_count, talk_s (empty unless answered), transferred (0|1),
    caller_number (normalised, ``7XXXXXXXXXX``). The integers equal those in queue_log.
``truth_calls.csv.gz``
    call_id, direction (inbound|outbound), start_epoch, answer_epoch, end_epoch, caller, callee
    (normalised numbers or extensions), agent, queue (first leg), campaign, answered (0|1),
    talk_s (agent talk; for transferred calls the part before the transfer), disposition
    (inbound: answered|abandoned|voicemail; outbound: answered|no_answer|busy), callback_of
    (call_id of the missed call an outbound callback returns).
``truth_agent_states.csv.gz``
    agent, state (logged_in|paused), reason (Lunch|Training|ACW for pauses), start_epoch,
    end_epoch. Queue members only (the outbound team never appears in queue_log).
``truth_ring_attempts.csv.gz``
    call_id, agent, epoch (ring start), ring_ms, answered (0|1).
``truth_summary.json``
    the scenario, the seed, totals, and the true effect of the training programme.

With ``[transcripts] enabled``: ``transcripts-YYYY-MM-DD.json`` and ``truth_transcripts.csv.gz``
(see :mod:`callkpi.simulate.speech`).
"""

from __future__ import annotations

import gzip
import queue
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from callkpi.simulate.text import as_bytes, csv_lines

TRUTH_COLUMNS = {
    "truth_queue_legs.csv.gz": ("call_id", "leg_no", "queue", "enter_epoch", "outcome", "wait_s", "agent",
                                "ring_no_answer_count", "talk_s", "transferred", "caller_number"),
    "truth_calls.csv.gz": ("call_id", "direction", "start_epoch", "answer_epoch", "end_epoch", "caller", "callee",
                           "agent", "queue", "campaign", "answered", "talk_s", "disposition", "callback_of"),
    "truth_agent_states.csv.gz": ("agent", "state", "reason", "start_epoch", "end_epoch"),
    "truth_ring_attempts.csv.gz": ("call_id", "agent", "epoch", "ring_ms", "answered"),
}
BUSINESS_COLUMNS = {
    "deals.csv": ("deal_id", "created_at", "closed_at", "status", "amount", "currency", "customer_phone",
                  "owner_agent", "call_id", "product", "campaign"),
    "surveys.csv": ("call_id", "phone", "answered_at", "survey_type", "score"),
    "qa_reviews.csv": ("review_id", "call_id", "agent", "reviewer", "reviewed_at", "call_type", "criterion",
                       "weight", "fatal", "score"),
    "costs.csv": ("cost_type", "agent", "amount", "currency", "description"),
    "staff.csv": ("agent", "name", "team", "hired", "left", "leave_reason"),
    "training.csv": ("agent", "programme", "date"),
    "schedules.csv": ("agent", "date", "shift_start", "shift_end"),
}
_STOP = object()


class _Sink:
    """A file written by a background thread (compression and disk writes release the GIL, so
    they overlap with the simulation on a second core). Chunks keep their order."""

    def __init__(self, path: Path, compress: bool) -> None:
        self.path = path
        raw = path.open("wb")
        # mtime=0 and no file name in the header: the same seed gives the same bytes
        self._handle: BinaryIO = gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0) \
            if compress else raw
        self._raw = raw
        self._queue: queue.Queue[object] = queue.Queue(maxsize=8)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name=f"write {path.name}", daemon=True)
        self._thread.start()

    def write(self, chunk: bytes | memoryview) -> None:
        if self._error is not None:
            raise self._error
        if len(chunk):
            self._queue.put(chunk)

    def _work(self) -> None:
        while True:
            chunk = self._queue.get()
            if chunk is _STOP:
                return
            try:
                self._handle.write(chunk)  # type: ignore[arg-type]
            except BaseException as exc:  # surfaced on the next write or on close
                self._error = exc
            del chunk  # a chunk may view a whole day of text: do not keep it until the next one

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()
        self._handle.close()
        if self._raw is not self._handle:
            self._raw.close()
        if self._error is not None:
            raise self._error


class OrderedFile:
    """Lines that must come out in key order although they are produced day by day: what a day
    produces after the next day's start (calls running past midnight) waits for the next flush."""

    def __init__(self, path: Path) -> None:
        self._sink = _Sink(path, compress=False)
        self._keys = np.empty(0, dtype=np.int64)
        self._lines: pa.StringArray = pa.array([], pa.string())
        self.lines_written = 0

    def add(self, keys: np.ndarray, lines: pa.StringArray) -> None:
        if len(keys):
            self._keys = np.concatenate([self._keys, keys])
            self._lines = pa.concat_arrays([self._lines, lines])

    def flush(self, below_key: int | None = None) -> None:
        """Write every line whose key is below `below_key` (all of them when None)."""
        order = np.argsort(self._keys, kind="stable")
        keys = self._keys[order]
        lines = self._lines.take(pa.array(order))
        cut = len(keys) if below_key is None else int(np.searchsorted(keys, below_key))
        self._sink.write(as_bytes(lines.slice(0, cut)))
        self.lines_written += cut
        # copy what waits for the next flush: a slice would keep the whole day's text alive
        self._keys, self._lines = keys[cut:], lines.take(pa.array(np.arange(cut, len(keys))))

    def close(self) -> None:
        self.flush()
        self._sink.close()


class CsvFile:
    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self._sink = _Sink(path, compress=path.suffix == ".gz")
        self._sink.write((",".join(columns) + "\n").encode())
        self.columns = tuple(columns)
        self.rows_written = 0

    def write_columns(self, columns: Sequence[pa.StringArray], quote: Sequence[bool] | None = None) -> None:
        if len(columns) != len(self.columns):
            raise ValueError(f"{self._sink.path.name}: {len(columns)} columns, expected {len(self.columns)}")
        if len(columns[0]):
            self._sink.write(as_bytes(csv_lines(columns, quote)))
            self.rows_written += len(columns[0])

    def close(self) -> None:
        self._sink.close()


class OutputSet:
    """Every file of one simulation run, opened together and closed together."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.queue_log = OrderedFile(directory / "queue_log")
        self.cdr = OrderedFile(directory / "Master.csv")
        self.csv = {name: CsvFile(directory / name, columns)
                    for name, columns in {**BUSINESS_COLUMNS, **TRUTH_COLUMNS}.items()}

    def flush(self, below_key: int) -> None:
        self.queue_log.flush(below_key)
        self.cdr.flush(below_key)

    def close(self) -> None:
        self.queue_log.close()
        self.cdr.close()
        for file in self.csv.values():
            file.close()

    @staticmethod
    def names() -> set[str]:
        return {"queue_log", "Master.csv", "truth_summary.json", *BUSINESS_COLUMNS, *TRUTH_COLUMNS}
