"""The kinds of business file (deals, surveys, costs, staff, teams, training, schedules) and their
documented default layouts: the fields of each kind, the default column names (compared without case,
spaces or punctuation), the canonical values and their spellings. docs/business.md describes every layout.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

MAPPING_ENV = "CALLKPI_BUSINESS_MAPPING"
XLSX_FORMAT = "business-xlsx"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    names: tuple[str, ...]  # header names of the default layout (alternatives, first found wins)
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class KindSpec:
    name: str
    description: str
    fields: tuple[FieldSpec, ...]
    any_of: tuple[tuple[str, ...], ...] = ()  # at least one field of each group must be mapped and present
    values: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)  # canonical -> spellings
    module: str = ""  # callkpi.ingest.business.<module> parses rows and stores them
    markers: tuple[str, ...] = ()  # columns only this kind has: a file with one is taken (and told what it lacks)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


_STATUS = {
    "won": ("won", "win", "success", "successful", "closed won", "closed - won", "выиграна", "выиграно",
            "успешно", "успешно реализовано", "сделка успешна", "продажа", "оплачено", "deal won"),
    "lost": ("lost", "lose", "fail", "failed", "closed lost", "closed - lost", "проиграна", "проиграно",
             "потеряна", "отказ", "закрыто и не реализовано", "не реализовано", "сделка провалена", "deal lost"),
    "open": ("open", "new", "in progress", "active", "открыта", "новая", "в работе"),
}


KINDS: dict[str, KindSpec] = {
    spec.name: spec
    for spec in (
        KindSpec(
            "deals",
            "CRM deals or leads: id, status, amount, times, customer phones, owner, call id",
            (
                FieldSpec("deal_id", ("deal_id", "id", "lead_id"), True, "the CRM's id of the deal or lead"),
                FieldSpec("status", ("status", "stage", "state"), True, "won / lost / open (value map below)"),
                FieldSpec("created", ("created_at", "created", "date_created"), False, "creation time"),
                FieldSpec("closed", ("closed_at", "closed", "won_at", "date_closed"), False,
                          "closing time; for won deals the time the deal was won"),
                FieldSpec("amount", ("amount", "price", "value", "revenue", "sum"), False, "deal amount"),
                FieldSpec("currency", ("currency",), False, "ISO code; default: none"),
                FieldSpec("phone", ("customer_phone", "phone", "phones", "customer_number"), False,
                          "customer phone number(s); every listed column is read, a cell may hold several"),
                FieldSpec("owner", ("owner_agent", "owner", "agent", "responsible", "manager"), False,
                          "the agent who owns the deal: agent id, staff name or alias"),
                FieldSpec("call_id", ("call_id", "callid", "uniqueid", "linkedid"), False,
                          "the call the CRM recorded (queue_log callid / CDR linkedid)"),
                FieldSpec("title", ("title", "name", "deal_name"), False, ""),
                FieldSpec("product", ("product",), False, ""),
                FieldSpec("campaign", ("campaign", "source", "utm_campaign"), False, "source or campaign"),
                FieldSpec("pipeline", ("pipeline", "funnel"), False, ""),
            ),
            any_of=(("created", "closed"),),
            values={"status": _STATUS},
            module="deals",
            markers=("deal_id", "lead_id", "owner_agent"),
        ),
        KindSpec(
            "surveys",
            "survey answers: call id or number + time, type (csat 1-5, nps 0-10, ces 1-7), score, comment",
            (
                FieldSpec("score", ("score", "rating", "answer", "value"), True, "the answer"),
                FieldSpec("survey_type", ("survey_type", "type", "survey"), False,
                          "csat / nps / ces; a mapping may give a default"),
                FieldSpec("call_id", ("call_id", "callid", "uniqueid", "linkedid"), False, "the surveyed call"),
                FieldSpec("phone", ("phone", "customer_phone", "number", "caller"), False, "customer number"),
                FieldSpec("time", ("answered_at", "time", "datetime", "date", "created_at"), False,
                          "when the answer was given"),
                FieldSpec("comment", ("comment", "text", "feedback"), False, ""),
                FieldSpec("agent", ("agent",), False, "agent, when the survey system records it"),
                FieldSpec("survey_id", ("survey_id", "response_id"), False, ""),
            ),
            any_of=(("call_id", "phone"),),
            values={"survey_type": {"csat": ("csat", "satisfaction", "удовлетворенность"),
                                    "nps": ("nps", "recommend", "рекомендация"),
                                    "ces": ("ces", "effort", "усилия")}},
            module="surveys",
            markers=("survey_type", "score"),
        ),
        KindSpec(
            "costs",
            "costs: agent rates and salaries, telecom tariffs, fixed monthly costs",
            (
                FieldSpec("cost_type", ("cost_type", "type", "kind"), True, "see the value map"),
                FieldSpec("amount", ("amount", "rate", "cost", "sum"), True, "money per unit of the cost type"),
                FieldSpec("agent", ("agent",), False, "agent_* rows: the agent"),
                FieldSpec("team", ("team",), False, "agent_* rows without agent: every member; fixed_*: "
                          "allocated over that team's calls only"),
                FieldSpec("direction", ("direction",), False, "telecom_* rows: inbound / outbound; empty: both"),
                FieldSpec("currency", ("currency",), False, "ISO code (or ₽, $, € in the amount); default: the "
                          "[money] currency"),
                FieldSpec("description", ("description", "item", "name", "comment"), False, ""),
                FieldSpec("valid_from", ("valid_from", "from", "month", "date"), False,
                          "first day (or month YYYY-MM) the line applies; empty: from the start"),
                FieldSpec("valid_to", ("valid_to", "to", "until"), False, "last day (or month); empty: no end"),
            ),
            values={"cost_type": {
                "agent_hourly": ("agent_hourly", "hourly", "hourly_rate", "ставка в час", "почасовая"),
                "agent_paid_hourly": ("agent_paid_hourly", "paid_hourly", "оплачиваемый час"),
                "agent_monthly": ("agent_monthly", "salary", "monthly_salary", "оклад", "зарплата"),
                "telecom_per_minute": ("telecom_per_minute", "telecom_minute", "связь за минуту"),
                "telecom_per_call": ("telecom_per_call", "telecom_call", "связь за звонок"),
                "fixed_monthly": ("fixed_monthly", "fixed", "monthly", "постоянные", "ежемесячно"),
                "fixed_once": ("fixed_once", "once", "разово"),
            }},
            module="costs",
            markers=("cost_type",),
        ),
        KindSpec(
            "staff",
            "employment: agent id, name, team, hired, left, leave reason",
            (
                FieldSpec("agent", ("agent", "agent_id", "extension", "login"), True, "the agent id the PBX uses"),
                FieldSpec("name", ("name", "full_name", "fio"), False, ""),
                FieldSpec("team", ("team", "group", "department"), False, ""),
                FieldSpec("hired", ("hired", "hired_on", "hire_date", "start_date"), False, "date"),
                FieldSpec("left", ("left", "left_on", "leave_date", "end_date", "fired"), False,
                          "separation date (not employed from this day); empty while employed"),
                FieldSpec("leave_reason", ("leave_reason", "reason"), False, ""),
                FieldSpec("team_lead", ("team_lead", "lead"), False, "the lead of the agent's team"),
                FieldSpec("aliases", ("aliases", "crm_name", "other_names"), False,
                          "other names (CRM user, e-mail), separated by ; or |"),
            ),
            any_of=(("name", "team", "hired", "left"),),
            module="staff",
            markers=("hired", "leave_reason"),
        ),
        KindSpec(
            "teams",
            "teams and their leads",
            (
                FieldSpec("team", ("team", "group", "department"), True, ""),
                FieldSpec("lead", ("lead", "team_lead", "supervisor"), True, ""),
                FieldSpec("description", ("description", "name"), False, ""),
            ),
            module="staff",
        ),
        KindSpec(
            "training",
            "training events: agent, programme, module, date(s)",
            (
                FieldSpec("agent", ("agent", "agent_id", "extension"), True, "agent id, name or alias"),
                FieldSpec("programme", ("programme", "program", "course", "training"), True, ""),
                FieldSpec("start", ("date", "start", "start_date", "started"), True, "date (first day)"),
                FieldSpec("end", ("end", "end_date", "finished"), False, "last day; empty: same day"),
                FieldSpec("module", ("module",), False, ""),
            ),
            module="training_events",
            markers=("programme", "program", "course"),
        ),
        KindSpec(
            "schedules",
            "planned time: agent, shift start and end (or date + times), activity",
            (
                FieldSpec("agent", ("agent", "agent_id", "extension"), True, "agent id, name or alias"),
                FieldSpec("start", ("start", "shift_start", "start_time", "from"), True,
                          "date-time, or a time with the date column"),
                FieldSpec("end", ("end", "shift_end", "end_time", "to"), True,
                          "date-time, or a time with the date column (before the start: next day)"),
                FieldSpec("date", ("date", "day"), False, "the day of start/end given as times"),
                FieldSpec("activity", ("activity", "state", "type"), False,
                          "work (default) or an off-queue activity: break, lunch, training, meeting, ..."),
            ),
            module="schedules",
            markers=("shift_start", "shift_end"),
        ),
    )
}


#: Detection order: a file is taken by the first kind whose required columns it has.
KIND_ORDER = ("deals", "surveys", "costs", "staff", "teams", "training", "schedules")


def iter_kinds() -> Iterator[KindSpec]:
    return (KINDS[k] for k in KIND_ORDER)
