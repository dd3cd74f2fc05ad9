"""Outbound KPIs: dials, connects, contacts, numbers."""

from __future__ import annotations

from callkpi.config import MetricParams
from callkpi.metrics.catalogue._build import count, measure, metric
from callkpi.metrics.registry import Ratio, Value
from callkpi.storage.lazy import ibis

OUTBOUND = "outbound"


def _dial(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return t.direction == "outbound"


def _contact(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return _dial(t, p) & t.answered & (t.talk_s >= p.contact_min_talk_s)


o_dials = count("o_dials", "calls", _dial, text="count(outbound calls)")
o_answered = count("o_dials_answered", "calls", lambda t, p: _dial(t, p) & t.answered,
    text="count(answered outbound calls)")
o_contacts = count("o_contacts", "calls", _contact, text="count(answered outbound with talk >= contact_min_talk_s)")
o_numbers = measure("o_unique_numbers", "calls", "nunique", lambda t, p, c: t.callee_norm,
                     lambda t, p, c: _dial(t, p), text="count(distinct dialled numbers)")
o_contacted = measure("o_numbers_contacted", "calls", "nunique", lambda t, p, c: t.callee_norm,
                       lambda t, p, c: _contact(t, p), text="numbers contacted")

metric(
    "dials", OUTBOUND, "count", "neutral", ("Dials", "Наборы"),
    ("Outbound attempts (every attempt, not unique numbers).", "Исходящие попытки (каждая, а не уникальные номера)."),
    kind=Value(o_dials),
)
metric(
    "dials_answered", OUTBOUND, "count", "higher_is_better", ("Dials answered", "Дозвоны"),
    ("Outbound attempts answered.", "Отвеченные исходящие попытки."),
    kind=Value(o_answered),
)
metric(
    "connect_rate", OUTBOUND, "ratio", "higher_is_better", ("Connect rate", "Доля дозвонов"),
    ("Answered attempts over attempts.", "Отвеченные попытки ко всем попыткам."),
    kind=Ratio((o_answered,), (o_dials,)),
)
metric(
    "contacts", OUTBOUND, "count", "higher_is_better", ("Live contacts", "Контакты"),
    ("Answered attempts with at least contact_min_talk_s of talk.",
     "Отвеченные попытки с разговором не короче минимального разговора для контакта."),
    kind=Value(o_contacts),
    params=("contact_min_talk_s",),
)
metric(
    "contact_rate", OUTBOUND, "ratio", "higher_is_better", ("Contact rate", "Доля контактов"),
    ("Unique numbers with a live contact over unique numbers dialled.",
     "Уникальные номера с контактом к уникальным набранным номерам."),
    kind=Ratio((o_contacted,), (o_numbers,)),
    params=("contact_min_talk_s",),
)
metric(
    "unique_numbers_dialled", OUTBOUND, "count", "neutral",
    ("Unique numbers dialled", "Уникальных номеров набрано"),
    ("Distinct normalised numbers dialled.", "Различные нормализованные набранные номера."),
    kind=Value(o_numbers),
)
metric(
    "attempts_per_number", OUTBOUND, "per_number", "neutral",
    ("Attempts per number", "Попыток на номер"),
    ("Dials over unique numbers dialled: a count per number (e.g. 3.8), not a share.",
     "Наборы к уникальным номерам: число на номер (например, 3,8), а не доля."),
    kind=Ratio((o_dials,), (o_numbers,)),
)
