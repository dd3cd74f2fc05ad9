"""Every KPI callkpi computes, defined once (docs/metrics.md is generated from this module).

Definitions follow the metric dictionary: ids, defaults and variants are those of
``reference/metrics.md``; where the industry disagrees the variant is a named parameter.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis

from callkpi.config import MetricParams
from callkpi.metrics.registry import (
    ComputeFn,
    Context,
    Direction,
    Fact,
    Measure,
    MeasureFn,
    Metric,
    Registry,
    Unit,
    ratio,
    zero_if_missing,
)

REGISTRY = Registry()
_COMMON_DIMS = {"agent": "agent", "queue": "queue", "direction": "direction", "source": "source"}

# -- facts -----------------------------------------------------------------------------------

REGISTRY.add_fact(
    Fact(
        "queue_legs",
        "queue_legs",
        "enter_slice",
        _COMMON_DIMS,
        "one stay of a call in a queue, timed at queue entry",
        prepare=lambda t: t.mutate(direction=ibis.literal("inbound")),
    )
)
REGISTRY.add_fact(
    Fact(
        "calls",
        "calls",
        "start_slice",
        {**_COMMON_DIMS, "campaign": "campaign", "did": "did", "trunk": "trunk"},
        "one customer contact",
    )
)
REGISTRY.add_fact(
    Fact(
        "agent_legs",
        "agent_legs",
        "offer_slice",
        {**_COMMON_DIMS, "campaign": "campaign"},
        "an offer of a call to an agent (ring) and the talk that followed",
    )
)


def _pivot_agent_time(t: ibis.Table) -> ibis.Table:
    return t.group_by("source", "agent", "slice_id").aggregate(
        logged_in=t.seconds.sum(where=t.state == "logged_in"),
        paused=t.seconds.sum(where=t.state == "paused"),
        talk=t.seconds.sum(where=t.state == "talk"),
        hold=t.seconds.sum(where=t.state == "hold"),
    )


REGISTRY.add_fact(
    Fact(
        "agent_time",
        "agent_time",
        "slice_id",
        {"agent": "agent", "source": "source"},
        "agent time per 15-minute slice: logged in, paused, talking, holding",
        prepare=_pivot_agent_time,
    )
)
REGISTRY.add_fact(
    Fact(
        "agent_pauses",
        "agent_time",
        "slice_id",
        {"agent": "agent", "source": "source", "pause_reason": "reason"},
        "paused agent time per 15-minute slice and pause reason",
        prepare=lambda t: t.filter(t.state == "paused"),
    )
)

# -- measure helpers -------------------------------------------------------------------------



def _measure(measure_id: str, fact: str, aggregate: MeasureFn, empty: str = "zero") -> str:
    REGISTRY.add_measure(Measure(measure_id, fact, aggregate, empty))  # type: ignore[arg-type]
    return measure_id


def _count(measure_id: str, fact: str, where=None) -> str:
    if where is None:
        return _measure(measure_id, fact, lambda t, p, c: t.count())
    return _measure(measure_id, fact, lambda t, p, c: t.count(where=where(t, p)))


def _sum(measure_id: str, fact: str, column: str, where=None, empty: str = "zero") -> str:
    if where is None:
        return _measure(measure_id, fact, lambda t, p, c: t[column].sum(), empty)
    return _measure(measure_id, fact, lambda t, p, c: t[column].sum(where=where(t, p)), empty)


def _metric(
    metric_id: str,
    section: str,
    unit: Unit,
    direction: Direction,
    title: tuple[str, str],
    description: tuple[str, str],
    formula: str,
    measures: tuple[str, ...],
    compute: ComputeFn,
    *,
    params: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
    missing_note: tuple[str, str] | None = None,
) -> None:
    REGISTRY.add_metric(
        Metric(
            id=metric_id,
            section=section,
            unit=unit,
            direction=direction,
            title={"en": title[0], "ru": title[1]},
            description={"en": description[0], "ru": description[1]},
            formula=formula,
            measures=measures,
            compute=compute,
            params=params,
            optional=optional,
            missing_note={"en": missing_note[0], "ru": missing_note[1]} if missing_note else {},
        )
    )


def _passthrough(measure_id: str) -> ComputeFn:
    return lambda m, p: m[measure_id]


def _ratio_of(numerator: str, denominator: str) -> ComputeFn:
    return lambda m, p: ratio(m[numerator], m[denominator])


# -- queue and inbound -----------------------------------------------------------------------

QUEUE = "queue"


def _short(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return (t.outcome == "abandoned") & (t.wait_s < p.short_abandon_s)


def _long_abandon(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return (t.outcome == "abandoned") & ~(t.wait_s < p.short_abandon_s)


ql_offered = _count("ql_offered", "queue_legs")
ql_answered = _count("ql_answered", "queue_legs", lambda t, p: t.outcome == "answered")
ql_short = _count("ql_short_abandoned", "queue_legs", _short)
ql_abandoned = _count("ql_abandoned", "queue_legs", _long_abandon)
ql_flowed = _count("ql_flowed_out", "queue_legs", lambda t, p: t.outcome == "flowed_out")
ql_unknown = _count("ql_unknown", "queue_legs", lambda t, p: t.outcome == "unknown")
ql_ans_t = _count(
    "ql_answered_within_t", "queue_legs", lambda t, p: (t.outcome == "answered") & (t.wait_s <= p.sl_threshold_s)
)
ql_ab_t = _count(
    "ql_abandoned_within_t", "queue_legs", lambda t, p: (t.outcome == "abandoned") & (t.wait_s <= p.sl_threshold_s)
)
ql_ans_wait = _sum("ql_answered_wait_s", "queue_legs", "wait_s", lambda t, p: t.outcome == "answered")


def _counted_wait(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return t.wait_s.notnull() & (
        t.outcome.isin(["answered", "flowed_out"]) | _long_abandon(t, p)
    )


ql_wait_sum = _sum("ql_wait_s", "queue_legs", "wait_s", _counted_wait)
ql_wait_n = _count("ql_wait_n", "queue_legs", _counted_wait)
ql_max_wait = _measure("ql_max_wait_s", "queue_legs", lambda t, p, c: t.wait_s.max(), "null")
ql_ab_wait = _sum("ql_abandon_wait_s", "queue_legs", "wait_s", _long_abandon)

_metric(
    "calls_offered", QUEUE, "count", "neutral",
    ("Calls offered", "Поступило в очередь"),
    ("Queue legs that entered a queue (a call that overflows to a second queue is offered to both).",
     "Заходы вызовов в очередь (вызов, перетёкший во вторую очередь, поступил в обе)."),
    "count(queue legs)", (ql_offered,), _passthrough(ql_offered),
)
_metric(
    "calls_answered", QUEUE, "count", "higher_is_better",
    ("Calls answered", "Принято"),
    ("Offered legs connected to an agent.", "Заходы в очередь, соединённые с оператором."),
    "count(legs with outcome answered)", (ql_answered,), _passthrough(ql_answered),
)
_metric(
    "calls_abandoned", QUEUE, "count", "lower_is_better",
    ("Calls abandoned", "Потеряно"),
    ("Caller hung up in the queue after waiting at least short_abandon_s.",
     "Абонент положил трубку в очереди, прождав не меньше short_abandon_s."),
    "count(abandoned legs with wait >= short_abandon_s)", (ql_abandoned,), _passthrough(ql_abandoned),
    params=("short_abandon_s",),
)
_metric(
    "calls_short_abandoned", QUEUE, "count", "neutral",
    ("Short abandons", "Короткие сбросы"),
    ("Caller hung up in the queue before short_abandon_s.", "Абонент положил трубку раньше short_abandon_s."),
    "count(abandoned legs with wait < short_abandon_s)", (ql_short,), _passthrough(ql_short),
    params=("short_abandon_s",),
)
_metric(
    "calls_flowed_out", QUEUE, "count", "neutral",
    ("Calls flowed out", "Ушли из очереди"),
    ("Left the queue unanswered without the caller hanging up: timeout, exit key, empty queue, "
     "overflow, failed connection.",
     "Покинули очередь без ответа, но не по инициативе абонента: таймаут, выход по кнопке, "
     "пустая очередь, перелив, сбой соединения."),
    "count(legs ended by EXITWITHTIMEOUT, EXITWITHKEY, EXITEMPTY, SYSCOMPAT)", (ql_flowed,),
    _passthrough(ql_flowed),
)
_metric(
    "calls_unknown_outcome", QUEUE, "count", "lower_is_better",
    ("Legs with unknown outcome", "Заходы с неизвестным исходом"),
    ("Offered legs with no closing event (restart, cut log); listed as data-quality findings.",
     "Заходы без завершающего события (перезапуск, обрезанный журнал); см. проблемы данных."),
    "count(legs with no closing event)", (ql_unknown,), _passthrough(ql_unknown),
)
_metric(
    "answer_rate", QUEUE, "ratio", "higher_is_better",
    ("Answer rate", "Доля принятых"),
    ("Answered legs over offered legs.", "Принятые заходы к поступившим."),
    "calls_answered / calls_offered", (ql_answered, ql_offered), _ratio_of(ql_answered, ql_offered),
)
_metric(
    "abandon_rate", QUEUE, "ratio", "lower_is_better",
    ("Abandon rate", "Доля потерянных"),
    ("Abandoned legs over offered legs, short abandons removed from both.",
     "Потерянные к поступившим, короткие сбросы исключены из обеих частей."),
    "calls_abandoned / (calls_offered - calls_short_abandoned)", (ql_abandoned, ql_offered, ql_short),
    lambda m, p: ratio(m[ql_abandoned], m[ql_offered] - m[ql_short]),
    params=("short_abandon_s",),
)


def _service_level(m: Mapping[str, ibis.Value], p: MetricParams) -> ibis.Value:
    answered_t, offered = m[ql_ans_t], m[ql_offered]
    if p.sl_variant == "answered":
        return ratio(answered_t, m[ql_answered])
    if p.sl_variant == "ignore_abandons_within_t":
        return ratio(answered_t, offered - m[ql_ab_t])
    if p.sl_variant == "abandons_positive":
        return ratio(answered_t + m[ql_ab_t], offered)
    return ratio(answered_t, offered - m[ql_short])


_metric(
    "service_level", QUEUE, "ratio", "higher_is_better",
    ("Service level", "Уровень сервиса"),
    ("Share of legs answered within sl_threshold_s. Variant by sl_variant: offered (default) = "
     "answered<=T / (offered - short abandons); answered = answered<=T / answered; "
     "ignore_abandons_within_t = answered<=T / (offered - abandoned<=T); abandons_positive = "
     "(answered<=T + abandoned<=T) / offered.",
     "Доля заходов, принятых за sl_threshold_s. Вариант sl_variant: offered (по умолчанию) = "
     "принятые<=T / (поступившие - короткие сбросы); answered = принятые<=T / принятые; "
     "ignore_abandons_within_t = принятые<=T / (поступившие - потерянные<=T); abandons_positive = "
     "(принятые<=T + потерянные<=T) / поступившие."),
    "see sl_variant", (ql_ans_t, ql_offered, ql_answered, ql_ab_t, ql_short), _service_level,
    params=("sl_threshold_s", "sl_variant", "short_abandon_s"),
)
_metric(
    "asa_s", QUEUE, "seconds", "lower_is_better",
    ("Average speed of answer", "Среднее время ответа"),
    ("Mean wait of answered legs from queue entry to answer, ring time included (queue_log "
     "CONNECT holdtime); for direct calls, start to answer.",
     "Среднее ожидание принятых заходов от входа в очередь до ответа, включая звонок оператору; "
     "для прямых вызовов — от начала до ответа."),
    "sum(wait of answered legs) / calls_answered", (ql_ans_wait, ql_answered), _ratio_of(ql_ans_wait, ql_answered),
)
_metric(
    "avg_wait_s", QUEUE, "seconds", "lower_is_better",
    ("Average wait", "Среднее ожидание"),
    ("Mean wait of answered, abandoned and flowed-out legs (short abandons excluded).",
     "Среднее ожидание принятых, потерянных и ушедших заходов (без коротких сбросов)."),
    "sum(wait) / count over answered + abandoned + flowed-out legs", (ql_wait_sum, ql_wait_n),
    _ratio_of(ql_wait_sum, ql_wait_n), params=("short_abandon_s",),
)
_metric(
    "max_wait_s", QUEUE, "seconds", "lower_is_better",
    ("Longest wait", "Максимальное ожидание"),
    ("Longest wait of any leg, any outcome.", "Самое долгое ожидание среди всех заходов."),
    "max(wait)", (ql_max_wait,), _passthrough(ql_max_wait),
)
_metric(
    "avg_abandon_wait_s", QUEUE, "seconds", "neutral",
    ("Average wait before abandon", "Среднее ожидание до сброса"),
    ("Mean wait of abandoned legs (short abandons excluded).",
     "Среднее ожидание потерянных заходов (без коротких сбросов)."),
    "sum(wait of abandoned legs) / calls_abandoned", (ql_ab_wait, ql_abandoned),
    _ratio_of(ql_ab_wait, ql_abandoned), params=("short_abandon_s",),
)

ql_all_wait = _sum("ql_all_wait_s", "queue_legs", "wait_s", lambda t, p: t.wait_s.notnull())
ql_all_abandons = _count("ql_all_abandons", "queue_legs", lambda t, p: t.outcome == "abandoned")

_metric(
    "est_patience_s", QUEUE, "seconds", "neutral",
    ("Caller patience (estimate)", "Терпение абонентов (оценка)"),
    ("Mean patience of callers if patience is exponential: total waiting time of all legs over the "
     "number of abandons (the censored-data estimate Erlang A needs).",
     "Среднее терпение абонентов при экспоненциальном распределении: суммарное ожидание всех "
     "заходов к числу сбросов (оценка для модели Erlang A)."),
    "sum(wait of all legs) / abandons (short ones included)", (ql_all_wait, ql_all_abandons),
    _ratio_of(ql_all_wait, ql_all_abandons),
)

# -- agent offers and handling ---------------------------------------------------------------

HANDLING = "handling"


def _answered(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return (t.outcome == "answered") & t.agent.notnull()


def _offered_to_agent(t: ibis.Table) -> ibis.Value:
    """Legs that rang an agent; an outbound dial rings the customer, so its no-answer is not the agent's."""
    return t.direction.isnull() | (t.direction != "outbound")


al_rna = _count("al_ring_no_answer", "agent_legs", lambda t, p: _offered_to_agent(t) & (t.outcome == "no_answer"))
al_rung = _count("al_offers_rung", "agent_legs",
                 lambda t, p: _offered_to_agent(t) & t.outcome.isin(["answered", "no_answer"]))
al_handled = _count("al_handled", "agent_legs", _answered)
al_talk_n = _count("al_talk_n", "agent_legs", lambda t, p: _answered(t, p) & t.talk_s.notnull())
al_talk = _sum("al_talk_s", "agent_legs", "talk_s", _answered)
al_hold = _sum("al_hold_s", "agent_legs", "hold_s", _answered, empty="null")
al_short = _count("al_short_calls", "agent_legs", lambda t, p: _answered(t, p) & (t.talk_s < p.short_call_s))
al_long = _count("al_long_calls", "agent_legs", lambda t, p: _answered(t, p) & (t.talk_s > p.long_call_s))
al_transfers = _count("al_transfers", "agent_legs", lambda t, p: _answered(t, p) & t.transferred)

_metric(
    "ring_no_answer", HANDLING, "count", "lower_is_better",
    ("Ring, no answer", "Звонил, не ответил"),
    ("Offers that rang an agent and were not answered (queue_log RINGNOANSWER).",
     "Попытки дозвониться до оператора без ответа (RINGNOANSWER)."),
    "count(agent offers with outcome no_answer)", (al_rna,), _passthrough(al_rna),
)
_metric(
    "agent_answer_rate", HANDLING, "ratio", "higher_is_better",
    ("Agent answer rate", "Доля ответов оператора"),
    ("Offers the agent answered over offers that rang the agent (rings the caller cut short "
     "are not counted).",
     "Отвеченные оператором предложения к прозвонившим ему (сброшенные абонентом не считаются)."),
    "answered offers / (answered + ring-no-answer offers)", (al_handled, al_rung), _ratio_of(al_handled, al_rung),
)
_metric(
    "calls_handled", HANDLING, "count", "higher_is_better",
    ("Calls handled", "Обработано вызовов"),
    ("Answered calls an agent talked on, inbound and outbound; a transferred call counts for "
     "each agent who talked.",
     "Отвеченные вызовы, в которых оператор разговаривал (входящие и исходящие); переведённый "
     "вызов засчитывается каждому участвовавшему оператору."),
    "count(answered agent legs)", (al_handled,), _passthrough(al_handled),
)
_metric(
    "att_s", HANDLING, "seconds", "neutral",
    ("Average talk time", "Среднее время разговора"),
    ("Talk time over handled calls whose talk time is known.",
     "Время разговора на обработанный вызов с известной длительностью."),
    "sum(talk) / calls_handled", (al_talk, al_talk_n), _ratio_of(al_talk, al_talk_n),
)
_metric(
    "avg_hold_s", HANDLING, "seconds", "lower_is_better",
    ("Average hold", "Среднее удержание"),
    ("Customer hold per handled call; null when the source does not record hold (queue_log).",
     "Удержание клиента на обработанный вызов; пусто, если источник его не пишет (queue_log)."),
    "sum(hold) / calls_handled", (al_hold, al_talk_n), _ratio_of(al_hold, al_talk_n),
    missing_note=("hold time is not recorded by the loaded sources", "источники не содержат время удержания"),
)
_metric(
    "short_call_share", HANDLING, "ratio", "lower_is_better",
    ("Too-short calls", "Слишком короткие разговоры"),
    ("Handled calls with talk shorter than short_call_s.", "Обработанные вызовы с разговором короче short_call_s."),
    "handled calls with talk < short_call_s / calls_handled", (al_short, al_talk_n),
    _ratio_of(al_short, al_talk_n), params=("short_call_s",),
)
_metric(
    "long_call_share", HANDLING, "ratio", "lower_is_better",
    ("Too-long calls", "Слишком длинные разговоры"),
    ("Handled calls with talk longer than long_call_s.", "Обработанные вызовы с разговором длиннее long_call_s."),
    "handled calls with talk > long_call_s / calls_handled", (al_long, al_talk_n),
    _ratio_of(al_long, al_talk_n), params=("long_call_s",),
)
_metric(
    "transfers", HANDLING, "count", "neutral",
    ("Transfers", "Переводы"),
    ("Handled legs that ended in a transfer.", "Обработанные вызовы, завершённые переводом."),
    "count(handled legs ended by transfer)", (al_transfers,), _passthrough(al_transfers),
)
_metric(
    "transfer_rate", HANDLING, "ratio", "neutral",
    ("Transfer rate", "Доля переводов"),
    ("Transfers over handled calls.", "Переводы к обработанным вызовам."),
    "transfers / calls_handled", (al_transfers, al_handled), _ratio_of(al_transfers, al_handled),
)

# -- agent time ------------------------------------------------------------------------------

AGENT_TIME = "agent_time"


def _acw(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return t.reason.isin(list(p.acw_pause_reasons))


at_logged = _sum("at_logged_in_s", "agent_time", "logged_in")
at_paused = _sum("at_paused_s", "agent_pauses", "seconds")
at_acw = _sum("at_acw_s", "agent_pauses", "seconds", _acw)
at_talk = _sum("at_talk_s", "agent_time", "talk")
at_hold = _sum("at_hold_s", "agent_time", "hold", empty="null")


def _idle(t: ibis.Table, p: MetricParams, c: Context) -> ibis.Value:
    # Per agent and slice: logged-in time not paused and not on a call, never below zero
    # (an agent can talk without a logged-in session, e.g. a static queue member).
    busy = t.paused.fill_null(0) + t.talk.fill_null(0) + t.hold.fill_null(0)
    return ibis.greatest(t.logged_in.fill_null(0) - busy, 0).sum()


at_idle = _measure("at_idle_s", "agent_time", _idle)


def _handle(m: Mapping[str, ibis.Value]) -> ibis.Value:
    return m[at_talk] + zero_if_missing(m[at_hold]) + zero_if_missing(m[at_acw])


_metric(
    "logged_in_s", AGENT_TIME, "seconds", "neutral",
    ("Logged-in time", "Время в системе"),
    ("Time agents were logged in (member of at least one queue), split across intervals pro rata.",
     "Время, когда оператор был в системе (в составе хотя бы одной очереди), с разбиением по интервалам."),
    "sum(logged-in seconds)", (at_logged,), _passthrough(at_logged),
)
_metric(
    "paused_s", AGENT_TIME, "seconds", "neutral",
    ("Paused time", "Время на паузе"),
    ("Time in pause, any reason (group by pause_reason for the split).",
     "Время на паузе по любой причине (группировка pause_reason даёт разбивку)."),
    "sum(paused seconds)", (at_paused,), _passthrough(at_paused),
)
_metric(
    "handle_s", AGENT_TIME, "seconds", "neutral",
    ("Handle time", "Время обработки"),
    ("Talk + hold + after-call work.", "Разговор + удержание + постобработка."),
    "talk + hold + ACW", (at_talk,), lambda m, p: _handle(m), params=("acw_pause_reasons",),
    optional=(at_hold, at_acw),
)
_metric(
    "idle_s", AGENT_TIME, "seconds", "neutral",
    ("Idle time", "Время простоя"),
    ("Logged-in time neither paused nor on a call (ACW pauses are handle time).",
     "Время в системе без пауз и разговоров (паузы постобработки — часть обработки)."),
    "logged_in - paused(non-ACW) - handle", (at_idle,), _passthrough(at_idle),
)
_metric(
    "utilization", AGENT_TIME, "ratio", "higher_is_better",
    ("Utilization", "Утилизация"),
    ("Share of logged-in time spent on calls and after-call work.",
     "Доля времени в системе, занятая вызовами и постобработкой."),
    "handle_s / logged_in_s", (at_talk, at_logged), lambda m, p: ratio(_handle(m), m[at_logged]),
    params=("acw_pause_reasons",), optional=(at_hold, at_acw),
)
_metric(
    "occupancy", AGENT_TIME, "ratio", "neutral",
    ("Occupancy", "Занятость"),
    ("Handle time over handle time plus idle time.", "Время обработки к сумме обработки и простоя."),
    "handle_s / (handle_s + idle_s)", (at_talk, at_idle),
    lambda m, p: ratio(_handle(m), _handle(m) + m[at_idle]), params=("acw_pause_reasons",),
    optional=(at_hold, at_acw),
)
_metric(
    "acw_s", HANDLING, "seconds", "lower_is_better",
    ("Average after-call work", "Средняя постобработка"),
    ("After-call work (pauses whose reason is in acw_pause_reasons) per handled call.",
     "Постобработка (паузы с причиной из acw_pause_reasons) на обработанный вызов."),
    "sum(ACW) / calls_handled", (at_acw, al_handled), _ratio_of(at_acw, al_handled),
    params=("acw_pause_reasons",),
)
_metric(
    "aht_s", HANDLING, "seconds", "lower_is_better",
    ("Average handle time", "Среднее время обработки (AHT)"),
    ("(talk + hold + after-call work) per handled call. Components a source does not record are "
     "reported as missing and left out.",
     "(разговор + удержание + постобработка) на обработанный вызов. Отсутствующие в источнике "
     "составляющие указываются и не учитываются."),
    "(sum talk + sum hold + sum ACW) / calls_handled", (al_talk, al_talk_n),
    lambda m, p: ratio(m[al_talk] + zero_if_missing(m[al_hold]) + zero_if_missing(m[at_acw]), m[al_talk_n]),
    params=("acw_pause_reasons",), optional=(al_hold, at_acw),
    missing_note=(
        "left out what the sources lack: hold and/or ACW",
        "не учтено отсутствующее: удержание и/или постобработка",
    ),
)
_metric(
    "calls_per_hour", HANDLING, "per_hour", "higher_is_better",
    ("Calls per hour", "Вызовов в час"),
    ("Handled calls per logged-in hour.", "Обработанные вызовы на час в системе."),
    "calls_handled / (logged_in_s / 3600)", (al_handled, at_logged),
    lambda m, p: ratio(m[al_handled] * 3600, m[at_logged]),
)

# -- calls: direction, missed, callbacks, first-call resolution, outbound --------------------

CALLS = "calls"
OUTBOUND = "outbound"


def _missed(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return (t.direction == "inbound") & ~t.answered


def _window_s(p: MetricParams) -> float:
    return p.callback_window_h * 3600


c_in = _count("c_inbound", "calls", lambda t, p: t.direction == "inbound")
c_out = _count("c_outbound", "calls", lambda t, p: t.direction == "outbound")
c_int = _count("c_internal", "calls", lambda t, p: t.direction == "internal")
c_missed = _count("c_missed", "calls", _missed)
c_cb_attempt = _count(
    "c_callback_attempted", "calls", lambda t, p: _missed(t, p) & (t.callback_attempt_gap_s <= _window_s(p))
)
c_cb_success = _count(
    "c_callback_succeeded", "calls", lambda t, p: _missed(t, p) & (t.callback_contact_gap_s <= _window_s(p))
)
c_unreturned = _count(
    "c_missed_unreturned",
    "calls",
    lambda t, p: _missed(t, p)
    & ~(t.callback_attempt_gap_s <= _window_s(p)).fill_null(False)
    & ~(t.callback_contact_gap_s <= _window_s(p)).fill_null(False),
)
c_cb_median = _measure(
    "c_time_to_callback_s",
    "calls",
    lambda t, p, c: t.callback_attempt_gap_s.median(
        where=_missed(t, p) & (t.callback_attempt_gap_s <= _window_s(p))
    ),
    "null",
)


def _fcr_eligible(t: ibis.Table, p: MetricParams, c: Context) -> ibis.Value:
    # Only calls whose whole window lies inside the loaded data are decided; counting the
    # young calls that already have a repeat (but not those that have none yet) would bias FCR down.
    known = (t.direction == "inbound") & t.answered & t.caller_norm.notnull()
    if c.data_end_utc is None:
        return known & ibis.literal(False)
    # The end is a literal of its own (not end - window computed here), so a query's SQL can bind it.
    return known & (t.start_utc <= ibis.literal(c.data_end_utc) - ibis.interval(seconds=round(p.fcr_window_h * 3600)))


c_fcr_n = _measure("c_fcr_eligible", "calls", lambda t, p, c: t.count(where=_fcr_eligible(t, p, c)))
c_fcr_ok = _measure(
    "c_fcr_resolved",
    "calls",
    lambda t, p, c: t.count(
        where=_fcr_eligible(t, p, c)
        & (t.next_inbound_gap_s.isnull() | (t.next_inbound_gap_s > p.fcr_window_h * 3600))
    ),
)

_metric(
    "calls_inbound", CALLS, "count", "neutral", ("Inbound calls", "Входящие вызовы"),
    ("Inbound customer calls (not legs).", "Входящие вызовы клиентов (не заходы)."),
    "count(calls with direction inbound)", (c_in,), _passthrough(c_in),
)
_metric(
    "calls_outbound", CALLS, "count", "neutral", ("Outbound calls", "Исходящие вызовы"),
    ("Outbound calls to customers.", "Исходящие вызовы клиентам."),
    "count(calls with direction outbound)", (c_out,), _passthrough(c_out),
)
_metric(
    "calls_internal", CALLS, "count", "neutral", ("Internal calls", "Внутренние вызовы"),
    ("Calls between extensions.", "Вызовы между внутренними номерами."),
    "count(calls with direction internal)", (c_int,), _passthrough(c_int),
)
_metric(
    "calls_missed", CALLS, "count", "lower_is_better", ("Missed calls", "Пропущенные вызовы"),
    ("Inbound calls no one answered, short abandons included.",
     "Входящие вызовы, на которые никто не ответил, включая короткие сбросы."),
    "count(inbound calls not answered)", (c_missed,), _passthrough(c_missed),
)
_metric(
    "missed_rate", CALLS, "ratio", "lower_is_better", ("Missed rate", "Доля пропущенных"),
    ("Missed calls over inbound calls.", "Пропущенные к входящим."),
    "calls_missed / calls_inbound", (c_missed, c_in), _ratio_of(c_missed, c_in),
)
_metric(
    "callback_rate", CALLS, "ratio", "higher_is_better", ("Callback rate", "Доля перезвонов"),
    ("Missed calls followed within callback_window_h by an outbound attempt to the same number.",
     "Пропущенные, по которым в течение callback_window_h был исходящий вызов на тот же номер."),
    "missed calls with a callback attempt in the window / calls_missed", (c_cb_attempt, c_missed),
    _ratio_of(c_cb_attempt, c_missed), params=("callback_window_h",),
)
_metric(
    "callback_success_rate", CALLS, "ratio", "higher_is_better",
    ("Callback success rate", "Доля успешных перезвонов"),
    ("Missed calls followed within the window by an answered call with that number (either way).",
     "Пропущенные, после которых в окне состоялся разговор с этим номером (в любую сторону)."),
    "missed calls with an answered contact in the window / calls_missed", (c_cb_success, c_missed),
    _ratio_of(c_cb_success, c_missed), params=("callback_window_h",),
)
_metric(
    "time_to_callback_s", CALLS, "seconds", "lower_is_better",
    ("Time to callback (median)", "Время до перезвона (медиана)"),
    ("Median delay from a missed call to the first callback attempt within the window.",
     "Медиана задержки от пропущенного вызова до первой попытки перезвона в окне."),
    "median(first attempt - missed call)", (c_cb_median,), _passthrough(c_cb_median),
    params=("callback_window_h",),
)
_metric(
    "missed_unreturned", CALLS, "count", "lower_is_better",
    ("Missed, not returned", "Пропущенные без перезвона"),
    ("Missed calls with no callback attempt and no answered contact within the window (the worklist).",
     "Пропущенные без попытки перезвона и без разговора в окне (список к обработке)."),
    "count(missed calls without attempt or contact in the window)", (c_unreturned,),
    _passthrough(c_unreturned), params=("callback_window_h",),
)
_metric(
    "fcr_rate", CALLS, "ratio", "higher_is_better",
    ("First-call resolution", "Решение с первого обращения"),
    ("Answered inbound calls from a known number with no further inbound call from it within "
     "fcr_window_h, over answered inbound calls from known numbers; calls younger than the window "
     "(relative to the end of the loaded data) are pending and not counted.",
     "Отвеченные входящие с известного номера, после которых в течение fcr_window_h с него не "
     "звонили, к отвеченным входящим с известных номеров; вызовы моложе окна не учитываются."),
    "resolved / eligible answered inbound calls", (c_fcr_ok, c_fcr_n), _ratio_of(c_fcr_ok, c_fcr_n),
    params=("fcr_window_h",),
)


def _dial(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return t.direction == "outbound"


def _contact(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return _dial(t, p) & t.answered & (t.talk_s >= p.contact_min_talk_s)


o_dials = _count("o_dials", "calls", _dial)
o_answered = _count("o_dials_answered", "calls", lambda t, p: _dial(t, p) & t.answered)
o_contacts = _count("o_contacts", "calls", _contact)
o_numbers = _measure("o_unique_numbers", "calls", lambda t, p, c: t.callee_norm.nunique(where=_dial(t, p)))
o_contacted = _measure("o_numbers_contacted", "calls", lambda t, p, c: t.callee_norm.nunique(where=_contact(t, p)))

_metric(
    "dials", OUTBOUND, "count", "neutral", ("Dials", "Наборы"),
    ("Outbound attempts (every attempt, not unique numbers).", "Исходящие попытки (каждая, а не уникальные номера)."),
    "count(outbound calls)", (o_dials,), _passthrough(o_dials),
)
_metric(
    "dials_answered", OUTBOUND, "count", "higher_is_better", ("Dials answered", "Дозвоны"),
    ("Outbound attempts answered.", "Отвеченные исходящие попытки."),
    "count(answered outbound calls)", (o_answered,), _passthrough(o_answered),
)
_metric(
    "connect_rate", OUTBOUND, "ratio", "higher_is_better", ("Connect rate", "Доля дозвонов"),
    ("Answered attempts over attempts.", "Отвеченные попытки ко всем попыткам."),
    "dials_answered / dials", (o_answered, o_dials), _ratio_of(o_answered, o_dials),
)
_metric(
    "contacts", OUTBOUND, "count", "higher_is_better", ("Live contacts", "Контакты"),
    ("Answered attempts with at least contact_min_talk_s of talk.",
     "Отвеченные попытки с разговором не короче contact_min_talk_s."),
    "count(answered outbound with talk >= contact_min_talk_s)", (o_contacts,), _passthrough(o_contacts),
    params=("contact_min_talk_s",),
)
_metric(
    "contact_rate", OUTBOUND, "ratio", "higher_is_better", ("Contact rate", "Доля контактов"),
    ("Unique numbers with a live contact over unique numbers dialled.",
     "Уникальные номера с контактом к уникальным набранным номерам."),
    "numbers contacted / unique_numbers_dialled", (o_contacted, o_numbers), _ratio_of(o_contacted, o_numbers),
    params=("contact_min_talk_s",),
)
_metric(
    "unique_numbers_dialled", OUTBOUND, "count", "neutral",
    ("Unique numbers dialled", "Уникальных номеров набрано"),
    ("Distinct normalised numbers dialled.", "Различные нормализованные набранные номера."),
    "count(distinct dialled numbers)", (o_numbers,), _passthrough(o_numbers),
)
_metric(
    "attempts_per_number", OUTBOUND, "ratio", "neutral",
    ("Attempts per number", "Попыток на номер"),
    ("Dials over unique numbers dialled.", "Наборы к уникальным номерам."),
    "dials / unique_numbers_dialled", (o_dials, o_numbers), _ratio_of(o_dials, o_numbers),
)

DIMENSIONS: dict[str, tuple[str, str]] = {
    "agent": ("Agent", "Оператор"),
    "team": ("Team", "Группа"),
    "queue": ("Queue", "Очередь"),
    "campaign": ("Campaign", "Кампания"),
    "direction": ("Direction", "Направление"),
    "source": ("Source", "Источник"),
    "did": ("Dialled number (DID)", "Набранный номер (DID)"),
    "trunk": ("Trunk", "Транк"),
    "pause_reason": ("Pause reason", "Причина паузы"),
    "hour": ("Hour", "Час"),
    "day": ("Day", "День"),
    "week": ("Week", "Неделя"),
    "month": ("Month", "Месяц"),
    "interval": ("Interval", "Интервал"),
    "weekday": ("Weekday (1 = Monday)", "День недели (1 = понедельник)"),
    "time_of_day": ("Time of day (interval start)", "Время суток (начало интервала)"),
}

# Sales, money, customer-voice, people and call-quality KPIs live beside the call KPIs, in one registry.
from callkpi.metrics import catalogue_business, catalogue_qa  # noqa: E402,F401
