"""Agent offers, handling and agent time KPIs."""

from __future__ import annotations

from collections.abc import Mapping

from callkpi.config import MetricParams
from callkpi.metrics.catalogue._build import count, measure, metric, total
from callkpi.metrics.registry import Context, Ratio, Value, ratio, when_recorded, zero_if_missing
from callkpi.storage.lazy import ibis

HANDLING = "handling"


def _answered(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return (t.outcome == "answered") & t.agent.notnull()


def _offered_to_agent(t: ibis.Table) -> ibis.Value:
    """Legs that rang an agent; an outbound dial rings the customer, so its no-answer is not the agent's."""
    return t.direction.isnull() | (t.direction != "outbound")


al_rna = count("al_ring_no_answer", "agent_legs", lambda t, p: _offered_to_agent(t) & (t.outcome == "no_answer"),
    text="count(agent offers with outcome no_answer)")
al_rung = count("al_offers_rung", "agent_legs",
                 lambda t, p: _offered_to_agent(t) & t.outcome.isin(["answered", "no_answer"]),
    text="(answered + ring-no-answer offers)")
al_handled = count("al_handled", "agent_legs", _answered, text="count(answered agent legs)")
al_offers_answered = count("al_offers_answered", "agent_legs", lambda t, p: _offered_to_agent(t) & _answered(t, p),
    text="count(answered agent offers)")
al_talk_n = count("al_talk_n", "agent_legs", lambda t, p: _answered(t, p) & t.talk_s.notnull(), text="calls_handled")
al_talk = total("al_talk_s", "agent_legs", "talk_s", _answered, text="sum(talk)")
al_hold = total("al_hold_s", "agent_legs", "hold_s", _answered, empty="null", text="sum(hold)")
al_short = count("al_short_calls", "agent_legs", lambda t, p: _answered(t, p) & (t.talk_s < p.short_call_s),
    text="handled calls with talk < short_call_s")
al_long = count("al_long_calls", "agent_legs", lambda t, p: _answered(t, p) & (t.talk_s > p.long_call_s),
    text="handled calls with talk > long_call_s")
al_transfers = count("al_transfers", "agent_legs", lambda t, p: _answered(t, p) & t.transferred,
    text="count(handled legs ended by transfer)")

metric(
    "ring_no_answer", HANDLING, "count", "lower_is_better",
    ("Ring, no answer", "Не ответил оператор"),
    ("Offers that rang an agent and were not answered (queue_log RINGNOANSWER).",
     "Вызовы, поступившие оператору и не принятые им: звонок на аппарате оператора без ответа (RINGNOANSWER)."),
    kind=Value(al_rna),
)
metric(
    "agent_answer_rate", HANDLING, "ratio", "higher_is_better",
    ("Agent answer rate", "Доля ответов оператора"),
    ("Offers the agent answered over offers that rang the agent (rings the caller cut short "
     "are not counted; the agent's own outbound dials are neither offers nor answers).",
     "Отвеченные оператором предложения к прозвонившим ему (сброшенные абонентом не считаются; "
     "собственные исходящие наборы оператора не входят ни в одну из частей)."),
    kind=Ratio((al_offers_answered,), (al_rung,)),
)
metric(
    "calls_handled", HANDLING, "count", "higher_is_better",
    ("Calls handled", "Обработано вызовов"),
    ("Answered calls an agent talked on, inbound and outbound; a transferred call counts for "
     "each agent who talked.",
     "Отвеченные вызовы, в которых оператор разговаривал (входящие и исходящие); переведённый "
     "вызов засчитывается каждому участвовавшему оператору."),
    kind=Value(al_handled),
)
metric(
    "att_s", HANDLING, "seconds", "neutral",
    ("Average talk time", "Среднее время разговора"),
    ("Talk time over handled calls whose talk time is known.",
     "Время разговора на обработанный вызов с известной длительностью."),
    kind=Ratio((al_talk,), (al_talk_n,)),
)
metric(
    "avg_hold_s", HANDLING, "seconds", "lower_is_better",
    ("Average hold", "Среднее удержание"),
    ("Customer hold per handled call; null when the source does not record hold (queue_log).",
     "Удержание клиента на обработанный вызов; пусто, если источник его не пишет (queue_log)."),
    kind=Ratio((al_hold,), (al_talk_n,)),
    missing_note=("hold time is not recorded by the loaded sources", "источники не содержат время удержания"),
)
metric(
    "short_call_share", HANDLING, "ratio", "lower_is_better",
    ("Too-short calls", "Слишком короткие разговоры"),
    ("Handled calls with talk shorter than short_call_s.",
     "Обработанные вызовы с разговором короче порога короткого разговора."),
    kind=Ratio((al_short,), (al_talk_n,)), params=("short_call_s",),
)
metric(
    "long_call_share", HANDLING, "ratio", "lower_is_better",
    ("Too-long calls", "Слишком длинные разговоры"),
    ("Handled calls with talk longer than long_call_s.",
     "Обработанные вызовы с разговором длиннее порога длинного разговора."),
    kind=Ratio((al_long,), (al_talk_n,)), params=("long_call_s",),
)
metric(
    "transfers", HANDLING, "count", "neutral",
    ("Transfers", "Переводы"),
    ("Handled legs that ended in a transfer.", "Обработанные вызовы, завершённые переводом."),
    kind=Value(al_transfers),
)
metric(
    "transfer_rate", HANDLING, "ratio", "neutral",
    ("Transfer rate", "Доля переводов"),
    ("Transfers over handled calls.", "Переводы к обработанным вызовам."),
    kind=Ratio((al_transfers,), (al_handled,)),
)

# -- agent time ------------------------------------------------------------------------------

AGENT_TIME = "agent_time"


def _acw(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return t.reason.isin(list(p.acw_pause_reasons))


PRESENCE_EN = "Null where the sources record no presence (no logged-in sessions: a CDR alone)."
PRESENCE_RU = "Пусто, если источники не пишут присутствие (нет сессий входа: только CDR)."
PAUSES_EN = "Null where the sources record no pauses (no PAUSE events, a CDR alone): not recorded, not 0."
PAUSES_RU = "Пусто, если источники не пишут паузы (нет событий PAUSE, только CDR): не записано, а не 0."

# What the sources record in a scope: presence (logged-in sessions: queue_log, not a CDR) and pauses
# (PAUSE events; after-call work is a pause with an ACW reason). Null or 0 rows = "not recorded".
at_presence = count("at_presence_rows", "agent_time", lambda t, p: t.logged_in > 0, empty="null",
                    text="agent slices with logged-in time")
at_pause_rows = count("at_pause_rows", "agent_pauses", lambda t, p: t.seconds > 0, empty="null",
                      text="agent slices with pauses")
at_logged = total("at_logged_in_s", "agent_time", "logged_in", text="sum(logged-in seconds)", recorded_by=at_presence)
at_paused = total("at_paused_s", "agent_pauses", "seconds", text="sum(paused seconds)", recorded_by=at_pause_rows)
at_acw = total("at_acw_s", "agent_pauses", "seconds", _acw, text="sum(ACW)", recorded_by=at_pause_rows)
at_talk = total("at_talk_s", "agent_time", "talk")
at_hold = total("at_hold_s", "agent_time", "hold", empty="null")


def _idle(t: ibis.Table, p: MetricParams, c: Context) -> ibis.Value:
    # Per agent and slice: logged-in time not paused and not on a call, never below zero
    # (an agent can talk without a logged-in session, e.g. a static queue member).
    busy = t.paused.fill_null(0) + t.talk.fill_null(0) + t.hold.fill_null(0)
    return ibis.greatest(t.logged_in.fill_null(0) - busy, 0)


at_idle = measure("at_idle_s", "agent_time", "sum", _idle, text="logged_in - paused(non-ACW) - handle")


def _handle(m: Mapping[str, ibis.Value]) -> ibis.Value:
    return m[at_talk] + zero_if_missing(m[at_hold]) + zero_if_missing(m[at_acw])


metric(
    "logged_in_s", AGENT_TIME, "seconds", "neutral",
    ("Logged-in time", "Время в системе"),
    ("Time agents were logged in (member of at least one queue), split across intervals pro rata. " + PRESENCE_EN,
     "Время, когда оператор был в системе (в составе хотя бы одной очереди), с разбиением по интервалам. "
     + PRESENCE_RU),
    kind=Value(at_logged, recorded=(at_presence,)),
)
metric(
    "paused_s", AGENT_TIME, "seconds", "neutral",
    ("Paused time", "Время на паузе"),
    ("Time in pause, any reason (group by pause_reason for the split). " + PAUSES_EN,
     "Время на паузе по любой причине (группировка по причине паузы даёт разбивку). " + PAUSES_RU),
    kind=Value(at_paused, recorded=(at_pause_rows,)),
)
metric(
    "handle_s", AGENT_TIME, "seconds", "neutral",
    ("Handle time", "Время обработки"),
    ("Talk + hold + after-call work; a component the sources do not record in the scope is left out, "
     "and the result says so.",
     "Разговор + удержание + постобработка; незаписанная источниками составляющая не учитывается, "
     "и результат об этом говорит."),
    "talk + hold + ACW", (at_talk,), lambda m, p: _handle(m), params=("acw_pause_reasons",),
    optional=(at_hold, at_acw),
)
metric(
    "idle_s", AGENT_TIME, "seconds", "neutral",
    ("Idle time", "Время простоя"),
    ("Logged-in time neither paused nor on a call (ACW pauses are handle time). " + PRESENCE_EN,
     "Время в системе без пауз и разговоров (паузы постобработки — часть обработки). " + PRESENCE_RU),
    kind=Value(at_idle, recorded=(at_presence,)),
)
metric(
    "utilization", AGENT_TIME, "ratio", "higher_is_better",
    ("Utilization", "Утилизация"),
    ("Share of logged-in time spent on calls and after-call work. " + PRESENCE_EN,
     "Доля времени в системе, занятая вызовами и постобработкой. " + PRESENCE_RU),
    "handle_s / logged_in_s", (at_talk, at_logged),
    lambda m, p: when_recorded(ratio(_handle(m), m[at_logged]), m, (at_presence,)),
    params=("acw_pause_reasons",), optional=(at_hold, at_acw), recorded=(at_presence,),
)
metric(
    "occupancy", AGENT_TIME, "ratio", "neutral",
    ("Occupancy", "Занятость"),
    ("Handle time over handle time plus idle time. " + PRESENCE_EN,
     "Время обработки к сумме обработки и простоя. " + PRESENCE_RU),
    "handle_s / (handle_s + idle_s)", (at_talk, at_idle),
    lambda m, p: when_recorded(ratio(_handle(m), _handle(m) + m[at_idle]), m, (at_presence,)),
    params=("acw_pause_reasons",), optional=(at_hold, at_acw), recorded=(at_presence,),
)
metric(
    "acw_s", HANDLING, "seconds", "lower_is_better",
    ("Average after-call work", "Средняя постобработка"),
    ("After-call work (pauses whose reason is in acw_pause_reasons) per handled call. " + PAUSES_EN,
     "Постобработка (паузы с причинами, которые считаются постобработкой) на обработанный вызов. " + PAUSES_RU),
    kind=Ratio((at_acw,), (al_handled,), recorded=(at_pause_rows,)),
    params=("acw_pause_reasons",),
)
metric(
    "aht_s", HANDLING, "seconds", "lower_is_better",
    ("Average handle time", "Среднее время обработки (AHT)"),
    ("(talk + hold + after-call work) per handled call. Null where the sources record no after-call "
     "work (no pauses: a CDR alone, a queue_log without PAUSE events; by queue, pauses belong to no queue): "
     "see aht_without_acw_s. Hold a source does not record is left out, and the result says so.",
     "(разговор + удержание + постобработка) на обработанный вызов. Пусто, если источники не пишут "
     "постобработку (нет пауз: только CDR, queue_log без PAUSE; по очередям паузы не относятся к очереди): "
     "см. «AHT без постобработки». Незаписанное удержание не учитывается, и результат об этом говорит."),
    kind=Ratio((al_talk, al_hold, at_acw), (al_talk_n,), optional=(al_hold, at_acw), recorded=(at_pause_rows,)),
    params=("acw_pause_reasons",),
    missing_note=(
        "left out what the sources lack: hold",
        "не учтено отсутствующее: удержание",
    ),
)
metric(
    "aht_without_acw_s", HANDLING, "seconds", "lower_is_better",
    ("AHT without ACW", "AHT без постобработки"),
    ("(talk + hold) per handled call: the handle time any source gives, after-call work not included "
     "(aht_s includes it where it is recorded). Hold a source does not record is left out, and the result says so.",
     "(разговор + удержание) на обработанный вызов: время обработки из любого источника, без постобработки "
     "(aht_s включает её, где она записана). Незаписанное удержание не учитывается, и результат об этом говорит."),
    kind=Ratio((al_talk, al_hold), (al_talk_n,), optional=(al_hold,)),
    missing_note=("left out what the sources lack: hold", "не учтено отсутствующее: удержание"),
)
metric(
    "calls_per_hour", HANDLING, "per_hour", "higher_is_better",
    ("Calls per hour", "Вызовов в час"),
    ("Handled calls per logged-in hour. " + PRESENCE_EN, "Обработанные вызовы на час в системе. " + PRESENCE_RU),
    kind=Ratio((al_handled,), (at_logged,), scale=3600, recorded=(at_presence,)),
)
