"""Queue and inbound KPIs over queue legs."""

from __future__ import annotations

from collections.abc import Mapping

from callkpi.config import MetricParams
from callkpi.metrics.catalogue._build import count, measure, metric, total
from callkpi.metrics.registry import Context, Ratio, Value, ratio, when_recorded
from callkpi.storage.lazy import ibis

QUEUE = "queue"


def _short(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return (t.outcome == "abandoned") & (t.wait_s < p.short_abandon_s)


def _long_abandon(t: ibis.Table, p: MetricParams) -> ibis.Value:
    # An abandon whose wait is not recorded cannot be shown short: it counts as abandoned.
    return (t.outcome == "abandoned") & ~(t.wait_s < p.short_abandon_s).fill_null(False)


def _wait_known(t: ibis.Table, p: MetricParams, c: Context) -> ibis.Value:
    """1 for a leg whose wait is recorded (or that needs none: no closing event), 0 for an answered,
    abandoned or flowed-out leg without one (Asterisk CDR Queue() answers the caller itself)."""
    needs_wait = t.outcome.isin(["answered", "abandoned", "flowed_out"])
    return ibis.ifelse(needs_wait & t.wait_s.isnull(), 0, 1)


ql_offered = count("ql_offered", "queue_legs", text="count(queue legs)")
ql_answered = count("ql_answered", "queue_legs", lambda t, p: t.outcome == "answered",
    text="count(legs with outcome answered)")
ql_short = count("ql_short_abandoned", "queue_legs", _short, text="count(abandoned legs with wait < short_abandon_s)")
ql_abandoned = count("ql_abandoned", "queue_legs", _long_abandon,
    text="count(abandoned legs with wait >= short_abandon_s)")
ql_flowed = count("ql_flowed_out", "queue_legs", lambda t, p: t.outcome == "flowed_out",
    text="count(legs ended by EXITWITHTIMEOUT, EXITWITHKEY, EXITEMPTY, SYSCOMPAT)")
ql_unknown = count("ql_unknown", "queue_legs", lambda t, p: t.outcome == "unknown",
    text="count(legs with no closing event)")
ql_ans_t = count(
    "ql_answered_within_t", "queue_legs", lambda t, p: (t.outcome == "answered") & (t.wait_s <= p.sl_threshold_s)
)
ql_ab_t = count(
    "ql_abandoned_within_t", "queue_legs", lambda t, p: (t.outcome == "abandoned") & (t.wait_s <= p.sl_threshold_s)
)
# Per scope: 1 when every closed leg records its wait, 0 when one does not, null without legs. The wait
# metrics are null where it is 0 (not recorded), not computed over the legs that happen to record it.
ql_wait_recorded = measure("ql_wait_recorded", "queue_legs", "min", _wait_known, empty="null",
                           text="waits_recorded (1 when every closed leg records its wait)")
WAIT_EN = (" Null where a leg of the scope has no recorded wait (an Asterisk CDR cannot know it for Queue(): "
           "load the queue_log or CEL of that PBX); a scope mixing legs with and without one is null too.")
WAIT_RU = (" Пусто, если у какого-либо захода нет записанного ожидания (CDR Asterisk не знает его для Queue(): "
           "загрузите queue_log или CEL этой АТС); смесь заходов с ожиданием и без него тоже пуста.")
ql_ans_wait = total("ql_answered_wait_s", "queue_legs", "wait_s", lambda t, p: t.outcome == "answered",
    text="sum(wait of answered legs)")


def _counted_wait(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return t.wait_s.notnull() & (
        t.outcome.isin(["answered", "flowed_out"]) | _long_abandon(t, p)
    )


ql_wait_sum = total("ql_wait_s", "queue_legs", "wait_s", _counted_wait, text="sum(wait)")
ql_wait_n = count("ql_wait_n", "queue_legs", _counted_wait, text="count over answered + abandoned + flowed-out legs")
ql_max_wait = measure("ql_max_wait_s", "queue_legs", "max", lambda t, p, c: t.wait_s, empty="null", text="max(wait)")
ql_ab_wait = total("ql_abandon_wait_s", "queue_legs", "wait_s", _long_abandon, text="sum(wait of abandoned legs)")

metric(
    "calls_offered", QUEUE, "count", "neutral",
    ("Calls offered", "Поступило в очередь"),
    ("Queue legs that entered a queue (a call that overflows to a second queue is offered to both).",
     "Заходы вызовов в очередь (вызов, перетёкший во вторую очередь, поступил в обе)."),
    kind=Value(ql_offered),
)
metric(
    "calls_answered", QUEUE, "count", "higher_is_better",
    ("Calls answered", "Принято"),
    ("Offered legs connected to an agent.", "Заходы в очередь, соединённые с оператором."),
    kind=Value(ql_answered),
)
metric(
    "calls_abandoned", QUEUE, "count", "lower_is_better",
    ("Calls abandoned", "Потеряно"),
    ("Caller hung up in the queue after waiting at least short_abandon_s (an abandon whose wait is not "
     "recorded counts here: it cannot be shown short).",
     "Абонент положил трубку в очереди, прождав не меньше порога короткого сброса (сброс без записанного "
     "ожидания считается здесь: его нельзя признать коротким)."),
    kind=Value(ql_abandoned),
    params=("short_abandon_s",),
)
metric(
    "calls_short_abandoned", QUEUE, "count", "neutral",
    ("Short abandons", "Короткие сбросы"),
    ("Caller hung up in the queue before short_abandon_s.",
     "Абонент положил трубку, не дождавшись порога короткого сброса."),
    kind=Value(ql_short),
    params=("short_abandon_s",),
)
metric(
    "calls_flowed_out", QUEUE, "count", "neutral",
    ("Calls flowed out", "Ушли из очереди"),
    ("Left the queue unanswered without the caller hanging up: timeout, exit key, empty queue, "
     "overflow, failed connection.",
     "Покинули очередь без ответа, но не по инициативе абонента: таймаут, выход по кнопке, "
     "пустая очередь, перелив, сбой соединения."),
    kind=Value(ql_flowed),
)
metric(
    "calls_unknown_outcome", QUEUE, "count", "lower_is_better",
    ("Legs with unknown outcome", "Заходы с неизвестным исходом"),
    ("Offered legs with no closing event (restart, cut log); listed as data-quality findings.",
     "Заходы без завершающего события (перезапуск, обрезанный журнал); см. проблемы данных."),
    kind=Value(ql_unknown),
)
metric(
    "answer_rate", QUEUE, "ratio", "higher_is_better",
    ("Answer rate", "Доля принятых"),
    ("Answered legs over offered legs.", "Принятые заходы к поступившим."),
    kind=Ratio((ql_answered,), (ql_offered,)),
)
metric(
    "abandon_rate", QUEUE, "ratio", "lower_is_better",
    ("Abandon rate", "Доля потерянных"),
    ("Abandoned legs over offered legs, short abandons removed from both.",
     "Потерянные к поступившим, короткие сбросы исключены из обеих частей."),
    kind=Ratio((ql_abandoned,), (ql_offered,), denominator_minus=(ql_short,)),
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


def _recorded_service_level(m: Mapping[str, ibis.Value], p: MetricParams) -> ibis.Value:
    return when_recorded(_service_level(m, p), m, (ql_wait_recorded,))


metric(
    "service_level", QUEUE, "ratio", "higher_is_better",
    ("Service level", "Уровень сервиса"),
    ("Share of legs answered within sl_threshold_s. Variant by sl_variant: offered (default) = "
     "answered<=T / (offered - short abandons); answered = answered<=T / answered; "
     "ignore_abandons_within_t = answered<=T / (offered - abandoned<=T); abandons_positive = "
     "(answered<=T + abandoned<=T) / offered." + WAIT_EN,
     "Доля заходов, принятых за порог T. Знаменатель задаёт вариант уровня сервиса: offered (по умолчанию) = "
     "принятые<=T / (поступившие - короткие сбросы); answered = принятые<=T / принятые; "
     "ignore_abandons_within_t = принятые<=T / (поступившие - потерянные<=T); abandons_positive = "
     "(принятые<=T + потерянные<=T) / поступившие." + WAIT_RU),
    "see sl_variant; null where not every closed leg records its wait",
    (ql_ans_t, ql_offered, ql_answered, ql_ab_t, ql_short), _recorded_service_level,
    params=("sl_threshold_s", "sl_variant", "short_abandon_s"), recorded=(ql_wait_recorded,),
)
metric(
    "asa_s", QUEUE, "seconds", "lower_is_better",
    ("Average speed of answer", "Среднее время ответа"),
    ("Mean wait of answered legs from queue entry to answer, ring time included (queue_log "
     "CONNECT holdtime); for direct calls, start to answer." + WAIT_EN,
     "Среднее ожидание принятых заходов от входа в очередь до ответа, включая звонок оператору; "
     "для прямых вызовов — от начала до ответа." + WAIT_RU),
    kind=Ratio((ql_ans_wait,), (ql_answered,), recorded=(ql_wait_recorded,)),
)
metric(
    "avg_wait_s", QUEUE, "seconds", "lower_is_better",
    ("Average wait", "Среднее ожидание"),
    ("Mean wait of answered, abandoned and flowed-out legs (short abandons excluded)." + WAIT_EN,
     "Среднее ожидание принятых, потерянных и ушедших заходов (без коротких сбросов)." + WAIT_RU),
    kind=Ratio((ql_wait_sum,), (ql_wait_n,), recorded=(ql_wait_recorded,)), params=("short_abandon_s",),
)
metric(
    "max_wait_s", QUEUE, "seconds", "lower_is_better",
    ("Longest wait", "Максимальное ожидание"),
    ("Longest wait of any leg, any outcome." + WAIT_EN, "Самое долгое ожидание среди всех заходов." + WAIT_RU),
    kind=Value(ql_max_wait, recorded=(ql_wait_recorded,)),
)
metric(
    "avg_abandon_wait_s", QUEUE, "seconds", "neutral",
    ("Average wait before abandon", "Среднее ожидание до сброса"),
    ("Mean wait of abandoned legs (short abandons excluded)." + WAIT_EN,
     "Среднее ожидание потерянных заходов (без коротких сбросов)." + WAIT_RU),
    kind=Ratio((ql_ab_wait,), (ql_abandoned,), recorded=(ql_wait_recorded,)), params=("short_abandon_s",),
)

ql_all_wait = total("ql_all_wait_s", "queue_legs", "wait_s", lambda t, p: t.wait_s.notnull(),
    text="sum(wait of all legs)")
ql_all_abandons = count("ql_all_abandons", "queue_legs", lambda t, p: t.outcome == "abandoned",
    text="abandons (short ones included)")

metric(
    "est_patience_s", QUEUE, "seconds", "neutral",
    ("Caller patience (estimate)", "Терпение абонентов (оценка)"),
    ("Mean patience of callers if patience is exponential: total waiting time of all legs over the "
     "number of abandons (the censored-data estimate Erlang A needs)." + WAIT_EN,
     "Среднее терпение абонентов при экспоненциальном распределении: суммарное ожидание всех "
     "заходов к числу сбросов (оценка для модели Erlang A)." + WAIT_RU),
    kind=Ratio((ql_all_wait,), (ql_all_abandons,), recorded=(ql_wait_recorded,)),
)
