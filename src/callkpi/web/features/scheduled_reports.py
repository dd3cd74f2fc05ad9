"""Scheduled reports: the report a schedule names, made by the producers the pages use (the
overview PDF, the XLSX exports, the agent scorecard), e-mailed with the headline KPIs against their
targets, and the log of what was sent, failed and will be tried again.

``callkpi serve`` runs :class:`ScheduleRunner` in a thread; ``callkpi schedule run-due`` (cron) and
``run-now`` call :func:`run_due` and :func:`run_now` once.
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from callkpi.analyses.agent_scorecard import SCORECARD_COLUMNS, export_rows
from callkpi.config import MailSettings
from callkpi.metrics.catalogue import REGISTRY
from callkpi.metrics.describe import describe
from callkpi.queries.schedules import (
    RunRecord,
    Schedule,
    ensure_schedule_schema,
    get_schedule,
    list_schedules,
    mark_slot,
    retries_due,
    save_run,
)
from callkpi.queries.targets import load_targets
from callkpi.report import mail
from callkpi.report.render import write_xlsx
from callkpi.report.schedule_time import (
    MAX_ATTEMPTS,
    PERIODS,
    BadSchedule,
    due_slot,
    parse_every,
    period_for,
    retry_delay_s,
    slot_text,
)
from callkpi.web import kpi
from callkpi.web.auth import User
from callkpi.web.db import Database
from callkpi.web.features import business_tables as bv
from callkpi.web.features.agents import agents_table
from callkpi.web.features.files import XLSX_MEDIA_TYPE
from callkpi.web.features.overview import overview_results
from callkpi.web.features.overview_pdf import overview_pdf, table_pdf
from callkpi.web.features.qa import QA_METRICS
from callkpi.web.i18n import Locale
from callkpi.web.kpi import Period
from callkpi.web.scope import Principal
from callkpi.web.tables import KpiTable, by_table

log = logging.getLogger("callkpi.web.schedules")

REPORTS = ("overview", "agents", "sales", "qa", "scorecard")
FORMATS_OF = {report: ("pdf", "xlsx") for report in REPORTS}
TITLES = {"en": {"overview": "Overview", "agents": "Agents", "sales": "Sales & money", "qa": "Call quality",
                 "scorecard": "Scorecard"},
          "ru": {"overview": "Обзор", "agents": "Операторы", "sales": "Продажи и деньги", "qa": "Качество звонков",
                 "scorecard": "Карточка оператора"}}
HEADLINE_METRICS = ("calls_inbound", "answer_rate", "service_level", "asa_s", "abandon_rate")
STATUS_WORDS = {"en": {"good": "on target", "warn": "near target", "bad": "off target"},
                "ru": {"good": "в цели", "warn": "близко к цели", "bad": "вне цели"}}
WORDS = {"en": ("callkpi report", "Period", "Queues", "all", "target", "Attached", "no target"),
         "ru": ("Отчёт callkpi", "Период", "Очереди", "все", "цель", "Во вложении", "цели нет")}
ADDRESS = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"']+$")
Sender = Callable[[MailSettings, EmailMessage], None]


def check_schedule(schedule: Schedule) -> None:
    """:class:`BadSchedule` when the schedule cannot run as given."""
    parse_every(schedule.every)
    if schedule.report not in REPORTS:
        raise BadSchedule(f"report must be one of {', '.join(REPORTS)}")
    if schedule.period not in PERIODS:
        raise BadSchedule(f"period must be one of {', '.join(PERIODS)}")
    if schedule.format not in FORMATS_OF[schedule.report]:
        raise BadSchedule(f"the {schedule.report} report comes as {' or '.join(FORMATS_OF[schedule.report])}")
    if not schedule.recipients:
        raise BadSchedule("give at least one e-mail address (--to a@b.c)")
    wrong = [to for to in schedule.recipients if not ADDRESS.fullmatch(to)]
    if wrong:
        raise BadSchedule(f"not an e-mail address: {', '.join(wrong)}")
    if schedule.report == "scorecard" and not schedule.agent:
        raise BadSchedule("the scorecard report needs --agent")
    if schedule.lang not in WORDS:
        raise BadSchedule(f"lang must be one of {', '.join(WORDS)}")


# -- making the report -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Produced:
    attachment: mail.Attachment
    subject: str
    body: str


def _principal(schedule: Schedule) -> Principal:
    return Principal(User(f"schedule-{schedule.schedule_id}", "admin", lang=schedule.lang), "internal")


def _filters(schedule: Schedule) -> dict[str, tuple[str, ...]]:
    return {"queue": schedule.queues} if schedule.queues else {}


def _xlsx(table_rows: Sequence[dict[str, Any]], columns: Sequence[str], definitions: Sequence[dict[str, Any]],
          parameters: dict[str, Any], sheet: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="callkpi-mail-") as folder:
        path = Path(folder) / "report.xlsx"
        write_xlsx(path, table_rows, columns, definitions=definitions, parameters=parameters, sheet=sheet)
        return path.read_bytes()


def _table_file(table: KpiTable, schedule: Schedule, period: Period, loc: Locale) -> bytes:
    if schedule.format == "pdf":
        labels = [*table.dimensions, *table.labels]
        return table_pdf(loc, TITLES[loc.lang][schedule.report], period, schedule.queues, table.rows, labels,
                         table.metrics)
    return _xlsx(table.rows, table.columns, table.definitions(loc.lang), table.parameters(), table.name[:31])


def _report_content(db: Database, schedule: Schedule, period: Period, loc: Locale) -> bytes:
    me, filters = _principal(schedule), _filters(schedule)
    if schedule.report == "overview" and schedule.format == "pdf":
        metrics, current, previous, _daily, by_queue = overview_results(db, me, period, filters)
        return overview_pdf(loc, period, schedule.queues, metrics, current.rows[0] if current.rows else {},
                            previous.rows[0] if previous.rows else {}, by_queue, load_targets(db.store()),
                            current.notes)
    if schedule.report == "scorecard":
        return _scorecard_file(db, schedule, period, loc)
    return _table_file(_table_of(db, schedule, me, period, filters), schedule, period, loc)


def _table_of(db: Database, schedule: Schedule, me: Principal, period: Period,
              filters: dict[str, tuple[str, ...]]) -> KpiTable:
    if schedule.report == "overview":
        return by_table(db, me, "overview", period, (), kpi.OVERVIEW_METRICS, filters)
    if schedule.report == "agents":
        return agents_table(db, me, period, filters)
    if schedule.report == "sales":
        table = bv.sales_table(db, me, period, "agent", filters)
        if table is None:
            raise BadSchedule("no sales data is loaded (callkpi business ingest)")
        return table
    return by_table(db, me, "qa", period, ("agent",), QA_METRICS, filters)


def _scorecard_file(db: Database, schedule: Schedule, period: Period, loc: Locale) -> bytes:
    params = db.params()
    card = bv.scorecard(db, schedule.agent or "", params, period.date_from, period.date_to)
    rows = export_rows(card)
    if schedule.format == "pdf":
        titled = [{**row, "title": loc.metric_title(row["metric"])} for row in rows]
        return table_pdf(loc, f"{TITLES[loc.lang]['scorecard']}: {schedule.agent}", period, schedule.queues,
                         titled, ("section", "title"), ("agent", "team"), value_metric="metric")
    definitions = [describe(REGISTRY.metrics[row["metric"]], params, loc.lang) for row in card["rows"]]
    return _xlsx(rows, SCORECARD_COLUMNS, definitions,
                 {**period.query(), "agent": schedule.agent, **params.model_dump()}, "scorecard")


def headline(db: Database, schedule: Schedule, period: Period, loc: Locale) -> list[str]:
    """One line per headline KPI: its value, and its target with the traffic-light word."""
    metrics = kpi.present(db, HEADLINE_METRICS)
    result = kpi.run_period(db, _principal(schedule), period, filters=_filters(schedule), metrics=metrics)
    row = result.rows[0] if result.rows else {}
    targets = load_targets(db.store())
    queue = schedule.queues[0] if len(schedule.queues) == 1 else None
    words, statuses = WORDS[loc.lang], STATUS_WORDS[loc.lang]
    lines = []
    for metric_id in metrics:
        value = row.get(metric_id)
        target = targets.find(metric_id, queue=queue)
        if target is None:
            lines.append(f"- {loc.metric_title(metric_id)}: {loc.metric(metric_id, value)} ({words[6]})")
            continue
        status = statuses.get(targets.status(metric_id, value, queue=queue), "—")
        lines.append(f"- {loc.metric_title(metric_id)}: {loc.metric(metric_id, value)} "
                     f"({words[4]} {loc.metric(metric_id, target.target)}: {status})")
    return lines


def produce(db: Database, schedule: Schedule, period: Period) -> Produced:
    loc = Locale(schedule.lang, db.params().timezone)
    content = _report_content(db, schedule, period, loc)
    words = WORDS[loc.lang]
    extension = schedule.format
    name = f"callkpi-{schedule.report}-{period.date_from.isoformat()}-{period.date_to.isoformat()}.{extension}"
    mime = "application/pdf" if extension == "pdf" else XLSX_MEDIA_TYPE
    span = f"{loc.date(period.date_from)} – {loc.date(period.date_to)}"
    subject = f"{words[0]}: {schedule.report} {span}"
    body = "\n".join([
        f"{words[0]}: {schedule.report}" + (f" ({schedule.agent})" if schedule.agent else ""),
        f"{words[1]}: {span} ({loc.timezone})",
        f"{words[2]}: {', '.join(schedule.queues) or words[3]}",
        "",
        *headline(db, schedule, period, loc),
        "",
        f"{words[5]}: {name}",
    ])
    return Produced(mail.Attachment(name, content, mime), subject, body)


# -- sending and the log ---------------------------------------------------------------------------


def attempt(db: Database, schedule: Schedule, slot: str, period: Period, *, attempts: int, first_utc: datetime,
            now_utc: datetime, send: Sender = mail.send) -> RunRecord:
    """Make and send the report once; the log entry (saved) of this try."""
    size: int | None = None
    try:
        produced = produce(db, schedule, period)
        size = len(produced.attachment.content)
        message = mail.build_message(db.settings.mail, schedule.recipients, produced.subject, produced.body,
                                     produced.attachment)
        send(db.settings.mail, message)
    except Exception as exc:  # the log says why; a later check tries again
        log.warning("scheduled report %s (%s) failed: %s", schedule.schedule_id, slot, exc)
        tries = attempts + 1
        gave_up = tries >= MAX_ATTEMPTS
        retry = None if gave_up else now_utc + timedelta(seconds=retry_delay_s(tries))
        record = RunRecord(schedule.schedule_id, slot, "gave_up" if gave_up else "failed", tries,
                           f"{type(exc).__name__}: {exc}"[:500], first_utc, now_utc, retry, period.date_from,
                           period.date_to, size)
    else:
        record = RunRecord(schedule.schedule_id, slot, "sent", attempts + 1, None, first_utc, now_utc, None,
                           period.date_from, period.date_to, size)
    save_run(db.store(), record)
    return record


def _now(now_utc: datetime | None) -> datetime:
    return (now_utc or datetime.now(UTC)).astimezone(UTC)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)  # TIMESTAMP columns hold UTC without a zone


def run_due(db: Database, now_utc: datetime | None = None, send: Sender = mail.send) -> list[RunRecord]:
    """Retry the failed sends that are due, then run every schedule whose newest slot has not run."""
    now = _now(now_utc)
    store = db.store()
    ensure_schedule_schema(store)
    done = []
    for failed in retries_due(store, _naive(now)):
        schedule = get_schedule(store, failed.schedule_id)
        if schedule is not None:
            done.append(attempt(db, schedule, failed.slot, Period(failed.date_from, failed.date_to),
                                attempts=failed.attempts, first_utc=failed.first_utc, now_utc=_naive(now), send=send))
    zone = ZoneInfo(db.params().timezone)
    for schedule in list_schedules(store):
        slot = _slot_of(schedule, now, zone)
        if slot is None:
            continue
        start, end = period_for(schedule.period, slot.date())
        done.append(attempt(db, schedule, slot_text(slot), Period(start, end), attempts=0,
                            first_utc=_naive(now), now_utc=_naive(now), send=send))
        mark_slot(store, schedule.schedule_id, slot_text(slot))
    return done


def _slot_of(schedule: Schedule, now: datetime, zone: ZoneInfo) -> datetime | None:
    try:
        every = parse_every(schedule.every)
    except BadSchedule:
        log.warning("schedule %s: %r cannot be read", schedule.schedule_id, schedule.every)
        return None
    return due_slot(every, now, zone, schedule.last_slot, schedule.created_utc or datetime(1970, 1, 1))


def run_now(db: Database, schedule: Schedule, now_utc: datetime | None = None, send: Sender = mail.send) -> RunRecord:
    """Send the schedule's report now, for its period as of today (logged, retried like the others)."""
    now = _now(now_utc)
    today: date = now.astimezone(ZoneInfo(db.params().timezone)).date()
    start, end = period_for(schedule.period, today)
    return attempt(db, schedule, f"now:{_naive(now).isoformat(timespec='seconds')}", Period(start, end),
                   attempts=0, first_utc=_naive(now), now_utc=_naive(now), send=send)


class ScheduleRunner:
    """``run_due`` every ``mail.check_every_s`` seconds in a thread of its own (``callkpi serve``)."""

    def __init__(self, db: Database, every_s: float | None = None) -> None:
        self.db = db
        self.every_s = every_s or db.settings.mail.check_every_s
        ensure_schedule_schema(db.store())  # now, not while a load may be writing
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self.checked_utc: datetime | None = None  # the end of the last check

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="callkpi-schedules", daemon=True)
            self._thread.start()

    def stop(self, wait_s: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(wait_s)

    def _loop(self) -> None:
        while not self._stop.is_set():  # the first check at start: a slot missed while down runs now
            try:
                run_due(self.db)
                self.last_error = None
                self.checked_utc = datetime.now(UTC)
            except Exception as exc:  # the server must keep serving; the next check tries again
                log.exception("running the scheduled reports failed")
                self.last_error = f"{type(exc).__name__}: {exc}"
            self._stop.wait(self.every_s)
