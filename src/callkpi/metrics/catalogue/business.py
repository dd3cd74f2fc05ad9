"""Sales, money, customer and people KPIs, on the same registry as every other KPI.

Registered after the call KPIs by :mod:`callkpi.metrics.catalogue`. The facts read the business tables of
:mod:`callkpi.model.business_schema`; a store that lacks them gives empty facts, never an error.

Attribution (metrics.md): a deal names its call, or else the last handled call with the deal's
customer number within ``attribution_window_d`` before the deal was won; the deal's agent is that
call's agent unless the deal names an owner. :mod:`callkpi.ingest.business.attribution` keeps the candidate
call and its gap, so the window is applied here, at report time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import ibis

from callkpi.config import MetricParams
from callkpi.metrics.catalogue._build import REGISTRY, count, measure, metric, stored_or_empty, total
from callkpi.metrics.catalogue.handling import al_handled
from callkpi.metrics.registry import BuiltFact, Ratio, Value, ratio
from callkpi.model.business_schema import (
    ADHERENCE_TIME,
    COST_ALLOCATION,
    DEAL_ATTRIBUTION,
    DEAL_CALLS,
    DEALS,
    LABOUR_GAPS,
    STAFF,
    STAFF_DAYS,
    SURVEYS,
)
from callkpi.model.schema import Table

ATTRIBUTION_RULE = (
    "Attribution: a deal counts for its named call, else for the last handled call with the deal's customer "
    "number within attribution_window_d before the deal was won; its agent is that call's agent unless the "
    "deal names an owner; a deal with neither is not attributed.",
    "Атрибуция: сделка относится к указанному в ней звонку, иначе к последнему обработанному звонку с "
    "номером клиента в пределах окна атрибуции до выигрыша; оператор сделки — оператор этого звонка, если в "
    "сделке не указан ответственный; сделка без того и другого не атрибутирована.",
)
SALES, MONEY, CUSTOMER, PEOPLE = "sales", "money", "customer", "people"


_TABLES: dict[str, Table] = {t.name: t for t in (DEALS, DEAL_ATTRIBUTION, SURVEYS, COST_ALLOCATION, STAFF,
                                                   STAFF_DAYS, ADHERENCE_TIME, LABOUR_GAPS, DEAL_CALLS)}


def _table(backend: Any, name: str) -> ibis.Table:
    """The stored table, or an empty one of its schema when the store predates the business tables."""
    return stored_or_empty(backend, name, _TABLES)


def _stored(name: str) -> Callable[[Any], ibis.Table]:
    return lambda backend: _table(backend, name)


def _window_s(p: MetricParams) -> float:
    return p.attribution_window_d * 86400


# -- facts -----------------------------------------------------------------------------------


def _deals_attributed(backend: Any) -> ibis.Table:
    deals = _table(backend, "deals").select(
        "deal_id", "status", "amount", "currency", "owner", "event_utc", "event_slice", "created_slice",
        deal_campaign="campaign")
    attribution = _table(backend, "deal_attribution")
    calls = attribution.select(
        attributed_deal=attribution.deal_id, matched_by=attribution.matched_by, gap_s=attribution.gap_s,
        call_agent=attribution.call_agent, call_campaign=attribution.call_campaign, call_queue=attribution.call_queue)
    joined = deals.left_join(calls, deals.deal_id == calls.attributed_deal)
    return joined.mutate(
        agent=ibis.coalesce(joined.owner, joined.call_agent),
        campaign=ibis.coalesce(joined.deal_campaign, joined.call_campaign),
        queue=joined.call_queue,
    )


def _converted_calls(backend: Any) -> ibis.Table:
    """One row per won deal attributed to a handled call (a call an agent talked on), timed at the call's
    start, with the attribution's kind and gap so that the window applies at report time. Its agent is the
    agent the deal is attributed to (its owner, else the call's agent) when that agent talked on the call,
    else none: an agent's converted calls are always among the calls the agent handled."""
    legs = backend.table("agent_legs")
    legs = legs.filter((legs.outcome == "answered") & legs.agent.notnull())
    handled = legs.select(handled_call=legs.call_id).distinct()
    talked = legs.select(talked_call=legs.call_id, talked_agent=legs.agent).distinct()
    calls = backend.table("calls").select(
        "direction", "source", calls_id="call_id", calls_queue="queue", calls_campaign="campaign")
    won = _table(backend, "deals")
    won = won.filter(won.status == "won").select(won_deal=won.deal_id, owner=won.owner, deal_campaign=won.campaign)
    attribution = _table(backend, "deal_attribution")
    rows = attribution.join(won, attribution.deal_id == won.won_deal)
    rows = rows.join(handled, rows.call_id == handled.handled_call)
    rows = rows.left_join(calls, rows.call_id == calls.calls_id)
    rows = rows.mutate(deal_agent=ibis.coalesce(rows.owner, rows.call_agent))
    rows = rows.left_join(talked, (rows.call_id == talked.talked_call) & (rows.deal_agent == talked.talked_agent))
    return rows.select(
        call_id=rows.call_id, deal_id=rows.deal_id,
        agent=ibis.ifelse(rows.talked_agent.notnull(), rows.deal_agent, ibis.null("string")),
        queue=ibis.coalesce(rows.call_queue, rows.calls_queue),
        campaign=ibis.coalesce(rows.deal_campaign, rows.call_campaign, rows.calls_campaign),
        direction=rows.direction, source=rows.source,
        call_slice=(rows.call_start_utc.epoch_seconds() // 900).cast("int64"),
        named=rows.matched_by == "call_id", gap_s=rows.gap_s,
    ).view()  # a relation of its own: the engine joins the agents' teams onto the computed agent


def _deals_by_call_time(backend: Any) -> ibis.Table:
    """Attributed deals (any status) timed at the start of their call: the cohort of a day is the deals its
    calls led to, however late they closed."""
    deals = _deals_attributed(backend)
    attribution = _table(backend, "deal_attribution")
    starts = attribution.select(start_deal=attribution.deal_id, call_start_utc=attribution.call_start_utc)
    rows = deals.join(starts, deals.deal_id == starts.start_deal)
    return rows.mutate(call_slice=(rows.call_start_utc.epoch_seconds() // 900).cast("int64"))


_DEAL_DIMS = {"agent": "agent", "campaign": "campaign", "queue": "queue"}

REGISTRY.add_fact(BuiltFact("deals", "deals", "event_slice", _DEAL_DIMS,
                            "CRM deals at the time they were won/lost (open: created), with their attributed call",
                            build=_deals_attributed))
REGISTRY.add_fact(BuiltFact("leads", "deals", "created_slice", _DEAL_DIMS,
                            "CRM deals and leads at the time they were created, with their attributed call",
                            build=_deals_attributed))
REGISTRY.add_fact(BuiltFact(
    "converted_calls", "deal_calls", "call_slice",
    {"agent": "agent", "queue": "queue", "direction": "direction", "source": "source", "campaign": "campaign"},
    "won deals attributed to a handled call, timed at the call's start, under the deal's agent",
    build=_converted_calls))
REGISTRY.add_fact(BuiltFact("deal_cohorts", "deal_calls", "call_slice", _DEAL_DIMS,
                            "attributed deals (won, lost or open) timed at the start of their call",
                            build=_deals_by_call_time))
REGISTRY.add_fact(BuiltFact("surveys", "surveys", "slice_id", {"agent": "agent", "queue": "queue",
                                                                "campaign": "campaign"},
                            "survey answers, timed at their call's start", build=_stored("surveys")))
REGISTRY.add_fact(BuiltFact("costs", "cost_allocation", "slice_id", {"agent": "agent", "campaign": "campaign"},
                            "costs allocated to agents and 15-minute slices", build=_stored("cost_allocation")))
REGISTRY.add_fact(BuiltFact("staff_days", "staff_days", "day_slice", {"agent": "agent"},
                            "one row per staff agent and local day: employed or not", build=_stored("staff_days")))
REGISTRY.add_fact(BuiltFact("leavers", "staff", "left_slice", {"agent": "agent"},
                            "employment spells that ended, at their separation day", build=_stored("staff"),
                            prepare=lambda t: t.filter(t.left_slice.notnull())))
REGISTRY.add_fact(BuiltFact("labour_gaps", "labour_gaps", "day_slice", {"agent": "agent"},
                            "agent-days with calls but no labour cost (no rate, or no working time for it)",
                            build=_stored("labour_gaps")))
REGISTRY.add_fact(BuiltFact("adherence", "adherence_time", "slice_id", {"agent": "agent"},
                            "scheduled seconds against presence per agent and 15-minute slice",
                            build=_stored("adherence_time")))

# -- sales -----------------------------------------------------------------------------------


def within_attribution_window(named: ibis.Value, gap_s: ibis.Value, p: MetricParams) -> ibis.Value:
    """The attribution rule: a deal (or call) counts when it is named, or matched by number at most
    ``attribution_window_d`` before the deal was won."""
    return (named | (gap_s <= _window_s(p))).fill_null(False)


def _attributed(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return within_attribution_window(t.owner.notnull() | (t.matched_by == "call_id"), t.gap_s, p)


def _won(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return (t.status == "won") & _attributed(t, p)


d_won = count("d_won", "deals", _won, text="count(won deals attributed to the scope)")
d_revenue = total("d_revenue", "deals", "amount", _won, text="sum(amount of won attributed deals)")
d_won_priced = count("d_won_priced", "deals", lambda t, p: _won(t, p) & t.amount.notnull(),
    text="won deals with an amount")
def currency_code(currency: ibis.Value) -> ibis.Value:
    """An ISO 4217 code as a number (``AAA`` -> 1, ``RUB`` -> 11,493): measures are numbers, and two
    facts' currencies are compared by their codes."""
    letters = [currency.upper().substr(i, 1).ascii_str() - 64 for i in range(3)]
    return letters[0] * 729 + letters[1] * 27 + letters[2]


def _currency_measures(prefix: str, fact: str, where: Callable[[ibis.Table, MetricParams], ibis.Value],
                       what: str) -> tuple[str, str]:
    def named(t: ibis.Table, p: MetricParams, c: Any) -> ibis.Value:
        return where(t, p) & t.currency.notnull()

    counted = measure(f"{prefix}_currencies", fact, "nunique", lambda t, p, c: t.currency, named,
                      text=f"currencies of {what}")
    code = measure(f"{prefix}_currency_code", fact, "max", lambda t, p, c: currency_code(t.currency), named,
                   empty="null", text=f"the currency of {what}, as a number")
    return counted, code


d_currencies, d_currency = _currency_measures("d", "deals", lambda t, p: _won(t, p) & t.amount.notnull(),
                                              "the won deals")
k_currencies, k_currency = _currency_measures("k", "costs", lambda t, p: t.amount.notnull(), "the costs")
c_currencies, c_currency = _currency_measures("c", "deal_cohorts", lambda t, p: _won(t, p) & t.amount.notnull(),
                                              "the won deals by call date")
# Which amounts a money metric adds or sets against each other: (number of currencies, currency code).
_MONEY = {"deals": (d_currencies, d_currency), "costs": (k_currencies, k_currency),
          "cohorts": (c_currencies, c_currency)}
MIXED_CURRENCIES = "mixed currencies"


def mixed_currencies(m: Mapping[str, ibis.Value], sides: tuple[str, ...]) -> ibis.Value:
    """True where the amounts a metric combines are in more than one currency: one side names several,
    or two sides name different ones. Amounts that name none are in the ``[money]`` currency (set at
    import), or unknown: they never make a scope mixed."""
    mixed: ibis.Value = ibis.literal(False)
    for side in sides:
        mixed = mixed | (m[_MONEY[side][0]].fill_null(0) > 1)
    if len(sides) == 2:
        first, second = (m[_MONEY[side][1]] for side in sides)
        mixed = mixed | (first.notnull() & second.notnull() & (first != second)).fill_null(False)
    return mixed


def _money_measures(sides: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(m for side in sides for m in _MONEY[side][:1 if len(sides) == 1 else 2])


def _formula_mixed(sides: tuple[str, ...]) -> str:
    what = {"deals": "won deals", "costs": "costs", "cohorts": "won deals"}
    if len(sides) == 1:
        return f"; null where the {what[sides[0]]} are in more than one currency (mixed currencies)"
    return "; null where the " + " and the ".join(what[s] for s in sides) + (
        " are in more than one currency or in different ones (mixed currencies)")


@dataclass(frozen=True)
class OneCurrencyValue(Value):
    """A sum of amounts, null over mixed currencies (amounts in different currencies are never added)."""

    money: tuple[str, ...] = ("deals",)

    @property
    def measures(self) -> tuple[str, ...]:
        return (self.measure, *_money_measures(self.money))

    def compute(self, m: Mapping[str, ibis.Value], p: MetricParams) -> ibis.Value:
        return ibis.ifelse(self.null_reason(m), ibis.null(), super().compute(m, p)).cast("float64")

    def null_reason(self, m: Mapping[str, ibis.Value]) -> ibis.Value:
        return mixed_currencies(m, self.money)

    reason = MIXED_CURRENCIES

    def formula(self, registry: Any) -> str:
        return super().formula(registry) + _formula_mixed(self.money)


@dataclass(frozen=True)
class OneCurrencyRatio(Ratio):
    """A ratio over amounts, null over mixed currencies."""

    money: tuple[str, ...] = ("deals",)

    @property
    def measures(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*super().measures, *_money_measures(self.money))))

    def compute(self, m: Mapping[str, ibis.Value], p: MetricParams) -> ibis.Value:
        return ibis.ifelse(self.null_reason(m), ibis.null(), super().compute(m, p)).cast("float64")

    def null_reason(self, m: Mapping[str, ibis.Value]) -> ibis.Value:
        return mixed_currencies(m, self.money)

    reason = MIXED_CURRENCIES

    def formula(self, registry: Any) -> str:
        return super().formula(registry) + _formula_mixed(self.money)


d_unattributed = count("d_won_unattributed", "deals", lambda t, p: (t.status == "won") & ~_attributed(t, p),
    text="count(won deals neither owned nor matched to a call)")
l_leads = count("l_leads", "leads", _attributed, text="leads (by creation time)")
l_won = count("l_won", "leads", _won, text="won leads")
conv_calls = measure(
    "conv_calls", "converted_calls", "nunique", lambda t, p, c: t.call_id,
    lambda t, p, c: within_attribution_window(t.named, t.gap_s, p),
    text="distinct handled calls a won deal is attributed to")
handled = al_handled  # the measure of calls_handled


def _in_cohort(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return _attributed(t, p)


c_deals = count("c_deals", "deal_cohorts", _in_cohort, text="attributed deals, at their call's start")
c_won = count("c_won", "deal_cohorts", _won, text="won attributed deals, at their call's start")
c_open = count("c_open", "deal_cohorts", lambda t, p: (t.status == "open") & _in_cohort(t, p),
               text="attributed deals still open, at their call's start")
c_revenue = total("c_revenue", "deal_cohorts", "amount", _won, text="sum(amount of won deals), at their call's start")


def _rule(en: str, ru: str) -> tuple[str, str]:
    return (f"{en} {ATTRIBUTION_RULE[0]}", f"{ru} {ATTRIBUTION_RULE[1]}")


WINDOW = ("attribution_window_d",)

metric(
    "deals_won", SALES, "count", "higher_is_better", ("Deals won", "Выиграно сделок"),
    _rule("Won deals attributed to the scope, at the time they were won.",
          "Выигранные сделки, атрибутированные срезу, по времени выигрыша."),
    kind=Value(d_won), params=WINDOW,
)
metric(
    "revenue", SALES, "money", "higher_is_better", ("Revenue", "Выручка"),
    _rule("Amount of the won deals attributed to the scope, in their currency (amounts in different "
          "currencies are never added: null, mixed currencies).",
          "Сумма выигранных сделок среза в их валюте (суммы в разных валютах не складываются: пусто, "
          "валюты смешаны)."),
    kind=OneCurrencyValue(d_revenue), params=WINDOW,
)
metric(
    "deals_unattributed", SALES, "count", "lower_is_better", ("Won deals not attributed", "Сделки без атрибуции"),
    _rule("Won deals with no owner, no named call and no handled call with their number in the window (by "
          "agent: under the agent of the last call with their number, when it is older than the window).",
          "Выигранные сделки без ответственного, без звонка и без звонка с их номером в окне (по операторам: "
          "у оператора последнего звонка с их номером, если он старше окна)."),
    kind=Value(d_unattributed), params=WINDOW,
)
metric(
    "conversion_rate", SALES, "ratio", "higher_is_better", ("Conversion rate", "Конверсия звонков в сделки"),
    _rule("Handled calls that a won deal is attributed to, each call once (however many agents talked on it "
          "and however many deals it led to), at the call's start, over calls_handled. By agent: the calls "
          "the agent handled whose won deal is attributed to that agent (a call whose deal goes to an owner "
          "who did not talk on it counts in the total only).",
          "Обработанные звонки, к которым атрибутирована выигранная сделка, каждый звонок один раз (сколько "
          "бы операторов ни говорили и сколько бы сделок ни было), по времени начала звонка, к числу обработанных. "
          "По операторам: обработанные оператором звонки, чья выигранная сделка атрибутирована ему (звонок, "
          "сделка которого у ответственного, не говорившего в нём, учитывается только в итоге)."),
    kind=Ratio((conv_calls,), (handled,), requires=(d_won,)), params=WINDOW,
)
MATURITY = (
    " A period is maturing while its last day is less than attribution_window_d before the end of the data: "
    "deals of its calls may still be won.",
    " Период «созревает», пока его последний день ближе окна атрибуции к концу данных: сделки его "
    "звонков ещё могут быть выиграны.",
)


def _cohort_rule(en: str, ru: str) -> tuple[str, str]:
    return _rule(en + MATURITY[0], ru + MATURITY[1])


metric(
    "open_deal_share", SALES, "ratio", "neutral", ("Deals still open", "Сделки ещё открыты"),
    _cohort_rule("Attributed deals still open over all attributed deals (won, lost, open), by the start of "
                 "their call: how much of the period's conversion and revenue is not decided yet.",
                 "Атрибутированные сделки, ещё открытые, ко всем атрибутированным сделкам (выигранным, "
                 "проигранным, открытым), по времени начала их звонка: какая часть конверсии и выручки "
                 "периода ещё не решена."),
    kind=Ratio((c_open,), (c_deals,)), params=WINDOW,
)
metric(
    "cohort_deals_won", SALES, "count", "higher_is_better", ("Deals won (by call date)", "Выиграно (по дате звонка)"),
    _cohort_rule("Won deals attributed to the scope, at the start of their call (the call's cohort), however "
                 "late they were won.",
                 "Выигранные сделки среза по времени начала их звонка (когорта звонка), когда бы они ни были "
                 "выиграны."),
    kind=Value(c_won), params=WINDOW,
)
metric(
    "cohort_revenue", SALES, "money", "higher_is_better", ("Revenue (by call date)", "Выручка (по дате звонка)"),
    _cohort_rule("Amount of the won deals attributed to the scope, at the start of their call.",
                 "Сумма выигранных сделок среза по времени начала их звонка."),
    kind=OneCurrencyValue(c_revenue, money=("cohorts",)), params=WINDOW,
)
metric(
    "lead_conversion_rate", SALES, "ratio", "higher_is_better", ("Lead conversion", "Конверсия лидов"),
    _rule("CRM deals and leads created in the scope that are won, over all of them (the CRM's records are the "
          "leads).",
          "Созданные в срезе сделки и лиды CRM, которые выиграны, ко всем им (лиды — записи CRM)."),
    kind=Ratio((l_won,), (l_leads,)),
    params=WINDOW,
)
metric(
    "aov", SALES, "money", "higher_is_better", ("Average order value", "Средний чек"),
    _rule("Revenue over the won deals that have an amount.", "Выручка к выигранным сделкам с суммой."),
    kind=OneCurrencyRatio((d_revenue,), (d_won_priced,)), params=WINDOW,
)
metric(
    "arpc", SALES, "money", "higher_is_better", ("Revenue per call", "Выручка на звонок"),
    _rule("Revenue over calls_handled.", "Выручка к обработанным звонкам."),
    kind=OneCurrencyRatio((d_revenue,), (handled,)), params=WINDOW,
)

# -- money -----------------------------------------------------------------------------------

cost_sum = total("cost_sum", "costs", "amount", text="agent cost + telecom cost + allocated fixed costs")
uncosted = measure("uncosted_agents", "labour_gaps", "nunique", lambda t, p, c: t.agent,
                   text="distinct agents with calls on a day without labour cost")
COST_TEXT = (
    "Cost = agent working time x hourly rate + paid (scheduled) hours x paid rate + monthly salaries by "
    "employed day + telecom by call + fixed monthly costs shared equally by the month's handled calls. "
    "Working time, per agent and local day: presence (logged in) when the agent has any that day, else the "
    "schedule's shifts, else the span from the agent's first call of the day to the end of the last one. An "
    "agent with calls on a day without any labour cost (no rate, or no working time its rate applies to) "
    "makes the cost incomplete: agents_uncosted counts them.",
    "Затраты = рабочее время оператора x часовая ставка + оплачиваемые часы по графику x ставка + оклады по "
    "дням работы + связь по звонкам + постоянные месячные затраты поровну на обработанные звонки месяца. "
    "Рабочее время по оператору и местному дню: присутствие (в системе), если оно было в этот день, иначе "
    "смены по графику, иначе от первого звонка оператора за день до конца последнего. Оператор со звонками "
    "в день без затрат на труд (нет ставки или нет времени, к которому она применяется) делает затраты "
    "неполными: их считает agents_uncosted.",
)

metric(
    "cost", MONEY, "money", "lower_is_better", ("Cost", "Затраты"), COST_TEXT,
    kind=OneCurrencyValue(cost_sum, money=("costs",)),
)
metric(
    "agents_uncosted", MONEY, "count", "lower_is_better",
    ("Agents without labour cost", "Операторы без затрат на труд"),
    ("Agents who had calls in the scope on a day with no labour cost: no rate line applies to them, or their "
     "rate has no working time to apply to (a paid-hours rate without a schedule). While above 0, cost, "
     "cost per call, cost per sale, profit per call and ROI leave these agents' labour out: incomplete.",
     "Операторы со звонками в срезе в день без затрат на труд: к ним не относится ни одна ставка или у "
     "ставки нет времени (оплата по графику без графика). Пока больше 0, затраты, затраты на звонок и на "
     "продажу, прибыль на звонок и ROI не включают их труд: неполные."),
    kind=Value(uncosted),
)
metric(
    "cost_per_call", MONEY, "money", "lower_is_better", ("Cost per call", "Затраты на звонок"),
    (f"Cost over calls_handled. {COST_TEXT[0]}", f"Затраты к обработанным звонкам. {COST_TEXT[1]}"),
    kind=OneCurrencyRatio((cost_sum,), (handled,), money=("costs",)),
)
metric(
    "profit_per_call", MONEY, "money", "higher_is_better", ("Profit per call", "Прибыль на звонок"),
    _rule("(Revenue - cost) over calls_handled.", "(Выручка - затраты) к обработанным звонкам."),
    kind=OneCurrencyRatio((d_revenue,), (handled,), minus=(cost_sum,), money=("deals", "costs")), params=WINDOW,
)
metric(
    "cost_per_sale", MONEY, "money", "lower_is_better", ("Cost per sale", "Затраты на продажу"),
    _rule("Cost over deals_won.", "Затраты к выигранным сделкам."),
    kind=OneCurrencyRatio((cost_sum,), (d_won,), money=("costs",)), params=WINDOW,
)
metric(
    "roi", MONEY, "percent", "higher_is_better", ("Return on investment", "Окупаемость (ROI)"),
    _rule("(Revenue - cost) over cost.", "(Выручка - затраты) к затратам."),
    kind=OneCurrencyRatio((d_revenue,), (cost_sum,), minus=(cost_sum,), money=("deals", "costs")),
    params=WINDOW,
)

# -- customer --------------------------------------------------------------------------------


def _of_type(kind: str) -> Callable[[ibis.Table, MetricParams], ibis.Value]:
    return lambda t, p: t.survey_type == kind


s_responses = count("s_responses", "surveys", text="count(answers)")
s_calls = measure("s_answered_calls", "surveys", "nunique", lambda t, p, c: t.call_id,
                  lambda t, p, c: t.call_id.notnull(), text="answered calls with a response")
c_answered = count("c_answered", "calls", lambda t, p: t.answered, text="answered calls")
csat_n = count("s_csat_n", "surveys", _of_type("csat"), text="CSAT answers")
csat_top = count("s_csat_top2", "surveys", lambda t, p: (t.survey_type == "csat") & (t.score >= 4), text="answers 4-5")
csat_sum = total("s_csat_sum", "surveys", "score", _of_type("csat"), text="sum(CSAT scores)")
nps_n = count("s_nps_n", "surveys", _of_type("nps"), text="NPS answers")
promoters = count("s_promoters", "surveys", lambda t, p: (t.survey_type == "nps") & (t.score >= 9), text="promoters")
detractors = count("s_detractors", "surveys", lambda t, p: (t.survey_type == "nps") & (t.score <= 6), text="detractors")
ces_n = count("s_ces_n", "surveys", _of_type("ces"), text="CES answers")
ces_sum = total("s_ces_sum", "surveys", "score", _of_type("ces"), text="sum(CES scores)")
# Low answers, for the QA sample (no metric shows them): CSAT 1-2, NPS detractors, CES 5-7.
csat_low = count("s_csat_bottom2", "surveys", lambda t, p: (t.survey_type == "csat") & (t.score <= 2),
                 text="CSAT answers 1-2")
ces_high = count("s_ces_high_effort", "surveys", lambda t, p: (t.survey_type == "ces") & (t.score >= 5),
                 text="CES answers 5-7")
LOW_SURVEY_ANSWERS = (csat_low, detractors, ces_high)

metric(
    "survey_responses", CUSTOMER, "count", "neutral", ("Survey responses", "Ответы на опросы"),
    ("Survey answers of any type, timed at their call (or at the answer when no call was found).",
     "Ответы на опросы любого типа, по времени их звонка (или ответа, если звонок не найден)."),
    kind=Value(s_responses),
)
metric(
    "survey_response_rate", CUSTOMER, "ratio", "higher_is_better", ("Survey response rate", "Доля ответивших"),
    ("Answered calls (inbound and outbound) with at least one survey answer, over answered calls.",
     "Отвеченные звонки (входящие и исходящие) с хотя бы одним ответом на опрос к отвеченным звонкам."),
    kind=Ratio((s_calls,), (c_answered,)),
)
metric(
    "csat", CUSTOMER, "ratio", "higher_is_better", ("CSAT (top-2-box)", "CSAT (доля 4-5)"),
    ("CSAT answers of 4 or 5 on the 1-5 scale over CSAT answers.",
     "Оценки CSAT 4 и 5 по шкале 1-5 ко всем оценкам CSAT."),
    kind=Ratio((csat_top,), (csat_n,)),
)
metric(
    "csat_mean", CUSTOMER, "score", "higher_is_better", ("CSAT mean score", "Средняя оценка CSAT"),
    ("Mean CSAT score on the 1-5 scale.", "Средняя оценка CSAT по шкале 1-5."),
    kind=Ratio((csat_sum,), (csat_n,)),
)
metric(
    "nps", CUSTOMER, "nps", "higher_is_better", ("Net promoter score", "Индекс NPS"),
    ("100 x (share of 9-10 answers - share of 0-6 answers) on the 0-10 scale, from counts.",
     "100 x (доля оценок 9-10 - доля оценок 0-6) по шкале 0-10, из количеств."),
    kind=Ratio((promoters,), (nps_n,), minus=(detractors,), scale=100),
)
metric(
    "ces_mean", CUSTOMER, "score", "lower_is_better", ("Customer effort (mean)", "Усилия клиента (среднее)"),
    ("Mean CES score (the scale the survey used, 1-7 at most; lower is less effort).",
     "Средняя оценка CES (шкала опроса, не больше 1-7; меньше — меньше усилий)."),
    kind=Ratio((ces_sum,), (ces_n,)),
)

# -- people ----------------------------------------------------------------------------------

hc_days = total("hc_person_days", "staff_days", "employed", text="sum(employed person-days)")
hc_period = measure("hc_days", "staff_days", "nunique", lambda t, p, c: t.day, empty="null", text="days")
separations = count("p_separations", "leavers", text="count(left dates in the period)")


def _headcount(m: Mapping[str, ibis.Value]) -> ibis.Value:
    return ratio(m[hc_days], m[hc_period])


metric(
    "headcount_avg", PEOPLE, "score", "neutral", ("Average headcount", "Средняя численность"),
    ("Mean of the daily headcount (staff employed that day: hired on or before it, not yet left) over the "
     "days of the period that the data covers.",
     "Среднее дневной численности (принят не позже дня и ещё не уволен) по дням периода, покрытым данными."),
    kind=Ratio((hc_days,), (hc_period,)),
)
metric(
    "separations", PEOPLE, "count", "lower_is_better", ("Separations", "Увольнения"),
    ("Employment spells that ended in the period (the staff list's left date).",
     "Трудовые периоды, завершившиеся в периоде (дата увольнения в списке персонала)."),
    kind=Value(separations),
)
metric(
    "turnover_rate", PEOPLE, "ratio", "lower_is_better", ("Turnover (period)", "Текучесть (за период)"),
    ("Separations over average headcount for the period shown (monthly turnover when grouped by month).",
     "Увольнения к средней численности за показанный период (месячная текучесть при группировке по месяцам)."),
    "separations / headcount_avg", (separations, hc_days, hc_period),
    lambda m, p: ratio(m[separations], _headcount(m)),
)
metric(
    "turnover_rate_annual", PEOPLE, "percent", "lower_is_better",
    ("Turnover (annualised)", "Текучесть (годовая)"),
    ("Period turnover scaled to a year: turnover_rate x 365 / days of the period.",
     "Текучесть за период, приведённая к году: «Текучесть (за период)» × 365 / дней периода."),
    "separations x 365 / person-days", (separations, hc_days, hc_period),
    lambda m, p: ratio(m[separations] * 365, m[hc_days]),
)


def _acw(t: ibis.Table, p: MetricParams) -> ibis.Value:
    return t.reason.isin(list(p.acw_pause_reasons)).fill_null(False)


def _kind_sum(measure_id: str, kind: str, extra: Callable[[ibis.Table, MetricParams], ibis.Value] | None = None) -> str:
    if extra is None:
        return total(measure_id, "adherence", "seconds", lambda t, p: t.kind == kind)
    return total(measure_id, "adherence", "seconds", lambda t, p: (t.kind == kind) & extra(t, p))


a_work = _kind_sum("a_scheduled_work_s", "scheduled_work")
a_off = _kind_sum("a_scheduled_off_s", "scheduled_off")
a_work_in = _kind_sum("a_work_logged_in_s", "work_logged_in")
a_work_paused = _kind_sum("a_work_paused_s", "work_paused", lambda t, p: ~_acw(t, p))
a_off_in = _kind_sum("a_off_logged_in_s", "off_logged_in")
a_off_paused = _kind_sum("a_off_paused_s", "off_paused")


def _adherent(m: Mapping[str, ibis.Value]) -> ibis.Value:
    work = m[a_work_in] - m[a_work_paused]
    off = m[a_off] - (m[a_off_in] - m[a_off_paused])
    return work + off


metric(
    "adherence", PEOPLE, "ratio", "higher_is_better", ("Schedule adherence", "Соблюдение графика"),
    ("Scheduled time spent in the scheduled state over scheduled time: during work logged in and not paused "
     "(after-call-work pauses count as work), during breaks and other off-queue activities not available "
     "(paused or logged out). Needs schedules; presence comes from queue_log.",
     "Время по графику в запланированном состоянии ко времени по графику: в рабочее время — в системе и не "
     "на паузе (паузы постобработки — работа), в перерывы и прочие активности — недоступен (пауза или вне "
     "системы). Нужен график; присутствие — из queue_log."),
    "(work logged in - non-ACW pauses + off-queue time unavailable) / scheduled time",
    (a_work, a_off, a_work_in, a_work_paused, a_off_in, a_off_paused),
    lambda m, p: ratio(_adherent(m), m[a_work] + m[a_off]), params=("acw_pause_reasons",),
)
