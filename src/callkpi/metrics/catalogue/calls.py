"""Calls: direction, missed calls, callbacks and first-call resolution."""

from __future__ import annotations

from callkpi.config import MetricParams
from callkpi.metrics.catalogue._build import count, measure, metric
from callkpi.metrics.registry import Context, Ratio, Value
from callkpi.storage.lazy import ibis

CALLS = "calls"



def _missed(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return (t.direction == "inbound") & ~t.answered


def _window_s(p: MetricParams) -> float:
    return p.callback_window_h * 3600


c_in = count("c_inbound", "calls", lambda t, p: t.direction == "inbound", text="count(calls with direction inbound)")
c_out = count("c_outbound", "calls", lambda t, p: t.direction == "outbound",
    text="count(calls with direction outbound)")
c_int = count("c_internal", "calls", lambda t, p: t.direction == "internal",
    text="count(calls with direction internal)")
c_missed = count("c_missed", "calls", _missed, text="count(inbound calls not answered)")
c_cb_attempt = count(
    "c_callback_attempted", "calls", lambda t, p: _missed(t, p) & (t.callback_attempt_gap_s <= _window_s(p))
, text="missed calls with a callback attempt in the window")
c_cb_success = count(
    "c_callback_succeeded", "calls", lambda t, p: _missed(t, p) & (t.callback_contact_gap_s <= _window_s(p))
, text="missed calls with an answered contact in the window")
c_unreturned = count(
    "c_missed_unreturned",
    "calls",
    lambda t, p: _missed(t, p)
    & ~(t.callback_attempt_gap_s <= _window_s(p)).fill_null(False)
    & ~(t.callback_contact_gap_s <= _window_s(p)).fill_null(False),
    text="count(missed calls without attempt or contact in the window)")
c_cb_median = measure(
    "c_time_to_callback_s", "calls", "median", lambda t, p, c: t.callback_attempt_gap_s,
    lambda t, p, c: _missed(t, p) & (t.callback_attempt_gap_s <= _window_s(p)), "null",
    text="median(first attempt - missed call)",
)


def _fcr_eligible(t: ibis.Table, p: MetricParams, c: Context) -> ibis.Value:
    # Only calls whose whole window lies inside the loaded data are decided; counting the
    # young calls that already have a repeat (but not those that have none yet) would bias FCR down.
    known = (t.direction == "inbound") & t.answered & t.caller_norm.notnull()
    if c.data_end_utc is None:
        return known & ibis.literal(False)
    # The end is a literal of its own (not end - window computed here), so a query's SQL can bind it.
    return known & (t.start_utc <= ibis.literal(c.data_end_utc) - ibis.interval(seconds=round(p.fcr_window_h * 3600)))


c_fcr_n = measure("c_fcr_eligible", "calls", "count", where=_fcr_eligible, text="eligible answered inbound calls")
c_fcr_ok = measure(
    "c_fcr_resolved", "calls", "count",
    where=lambda t, p, c: _fcr_eligible(t, p, c)
    & (t.next_inbound_gap_s.isnull() | (t.next_inbound_gap_s > p.fcr_window_h * 3600)),
    text="resolved",
)

metric(
    "calls_inbound", CALLS, "count", "neutral", ("Inbound calls", "Входящие вызовы"),
    ("Inbound customer calls (not legs).", "Входящие вызовы клиентов (не заходы)."),
    kind=Value(c_in),
)
metric(
    "calls_outbound", CALLS, "count", "neutral", ("Outbound calls", "Исходящие вызовы"),
    ("Outbound calls to customers.", "Исходящие вызовы клиентам."),
    kind=Value(c_out),
)
metric(
    "calls_internal", CALLS, "count", "neutral", ("Internal calls", "Внутренние вызовы"),
    ("Calls between extensions.", "Вызовы между внутренними номерами."),
    kind=Value(c_int),
)
metric(
    "calls_missed", CALLS, "count", "lower_is_better", ("Missed calls", "Пропущенные вызовы"),
    ("Inbound calls no one answered, short abandons included.",
     "Входящие вызовы, на которые никто не ответил, включая короткие сбросы."),
    kind=Value(c_missed),
)
metric(
    "missed_rate", CALLS, "ratio", "lower_is_better", ("Missed rate", "Доля пропущенных"),
    ("Missed calls over inbound calls.", "Пропущенные к входящим."),
    kind=Ratio((c_missed,), (c_in,)),
)
metric(
    "callback_rate", CALLS, "ratio", "higher_is_better", ("Callback rate", "Доля перезвонов"),
    ("Missed calls followed within callback_window_h by an outbound attempt to the same number.",
     "Пропущенные, по которым в окне перезвона был исходящий вызов на тот же номер."),
    kind=Ratio((c_cb_attempt,), (c_missed,)), params=("callback_window_h",),
)
metric(
    "callback_success_rate", CALLS, "ratio", "higher_is_better",
    ("Callback success rate", "Доля успешных перезвонов"),
    ("Missed calls followed within the window by an answered call with that number (either way).",
     "Пропущенные, после которых в окне состоялся разговор с этим номером (в любую сторону)."),
    kind=Ratio((c_cb_success,), (c_missed,)), params=("callback_window_h",),
)
metric(
    "time_to_callback_s", CALLS, "seconds", "lower_is_better",
    ("Time to callback (median)", "Время до перезвона (медиана)"),
    ("Median delay from a missed call to the first callback attempt within the window.",
     "Медиана задержки от пропущенного вызова до первой попытки перезвона в окне."),
    kind=Value(c_cb_median),
    params=("callback_window_h",),
)
metric(
    "missed_unreturned", CALLS, "count", "lower_is_better",
    ("Missed, not returned", "Пропущенные без перезвона"),
    ("Missed calls with no callback attempt and no answered contact within callback_window_h. The worklist "
     "(`callkpi missed`, the missed-calls page) lists the missed calls never returned and not marked handled: "
     "a call returned after the window leaves the worklist but stays counted here.",
     "Пропущенные без попытки перезвона и без разговора в окне перезвона. Список к обработке "
     "(`callkpi missed`, страница пропущенных) показывает пропущенные, которым так и не перезвонили и которые "
     "не отмечены обработанными: звонок, возвращённый после окна, уходит из списка, но здесь остаётся."),
    kind=Value(c_unreturned), params=("callback_window_h",),
)
metric(
    "fcr_rate", CALLS, "ratio", "higher_is_better",
    ("First-call resolution", "Решение с первого обращения"),
    ("Answered inbound calls from a known number with no further inbound call from it within "
     "fcr_window_h, over answered inbound calls from known numbers; calls younger than the window "
     "(relative to the end of the loaded data) are pending and not counted.",
     "Отвеченные входящие с известного номера, после которых в окне повторного обращения с него не "
     "звонили, к отвеченным входящим с известных номеров; вызовы моложе окна не учитываются."),
    kind=Ratio((c_fcr_ok,), (c_fcr_n,)),
    params=("fcr_window_h",),
)

