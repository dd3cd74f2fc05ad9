"""The words of the registry's formulas (``Metric.formula``) in Russian, for the definitions page and hints.

The formulas are built in English from the measures' texts; this table gives each phrase's Russian,
and goes into the catalogue like every ``*_STRINGS`` table (keys ``formula.*``).
"""

from __future__ import annotations

import re

from callkpi.i18n import lookup

# The words of the registry's formulas (Metric.formula) in Russian, longest phrase first when applied.
FORMULA_STRINGS: dict[str, tuple[str, str]] = {
    "formula.speech_scripted": ("transcripts checked against a script", "расшифровки, проверенные по скрипту"),
    "formula.speech_required": ("required stages of the scripts", "обязательных этапов скриптов"),
    "formula.speech_required_done": ("required stages done", "выполненных обязательных этапов"),
    "formula.speech_in_order": ("transcripts whose stages done came in the script's order",
                                "расшифровки, где выполненные этапы шли в порядке скрипта"),
    "formula.speech_forbidden": ("transcripts where the agent said a forbidden phrase",
                                 "расшифровки, где оператор произнёс запрещённую фразу"),
    "formula.speech_agent": ("agent speaking time", "времени речи оператора"),
    "formula.speech_customer": ("customer speaking time", "времени речи клиента"),
    "formula.speech_silence": ("time nobody speaks", "времени, когда никто не говорит"),
    "formula.speech_span": ("transcript length", "длины расшифровок"),
    "formula.speech_monologue": ("the agent's longest monologue", "самого длинного монолога оператора"),
    "formula.speech_interruptions": ("times the agent started speaking while the customer spoke",
                                     "раз, когда оператор начинал говорить, пока говорил клиент"),
    "formula.speech_stages": ("stages checked", "проверенных этапов"),
    "formula.speech_done": ("stages done", "выполненные этапы"),
    "formula.speech_transcripts": ("transcripts", "расшифровок"),
    "formula.count": ("count", "число"),
    "formula.sum": ("sum", "сумма"),
    "formula.max": ("max", "максимум"),
    "formula.median": ("median", "медиана"),
    "formula.queue_legs": ("queue legs", "заходов в очередь"),
    "formula.legs_answered": ("legs with outcome answered", "заходов с исходом «принят»"),
    "formula.abandoned_long": (
        "abandoned legs with wait >= short_abandon_s",
        "потерянных заходов с ожиданием >= short_abandon_s",
    ),
    "formula.abandoned_short": (
        "abandoned legs with wait < short_abandon_s",
        "потерянных заходов с ожиданием < short_abandon_s",
    ),
    "formula.flowed": (
        "legs ended by EXITWITHTIMEOUT, EXITWITHKEY, EXITEMPTY, SYSCOMPAT",
        "заходов, завершённых EXITWITHTIMEOUT, EXITWITHKEY, EXITEMPTY, SYSCOMPAT",
    ),
    "formula.no_close": ("legs with no closing event", "заходов без завершающего события"),
    "formula.see_variant": ("see sl_variant", "см. sl_variant"),
    "formula.wait_answered": ("wait of answered legs", "ожидание принятых заходов"),
    "formula.wait_abandoned": ("wait of abandoned legs", "ожидание потерянных заходов"),
    "formula.wait_all": ("wait of all legs", "ожидание всех заходов"),
    "formula.wait_n": (
        "count over answered + abandoned + flowed-out legs",
        "число принятых + потерянных + ушедших заходов",
    ),
    "formula.wait": ("wait", "ожидание"),
    "formula.all_abandons": ("abandons (short ones included)", "сбросы (включая короткие)"),
    "formula.offers_rna": ("agent offers with outcome no_answer", "предложений оператору без ответа"),
    "formula.offers_answered": ("answered agent offers", "принятых предложений оператору"),
    "formula.offers_rung": ("answered + ring-no-answer offers", "принятые + не принятые оператором предложения"),
    "formula.agent_legs": ("answered agent legs", "принятых вызовов оператора"),
    "formula.talk": ("talk", "разговор"),
    "formula.hold": ("hold", "удержание"),
    "formula.short_calls": ("handled calls with talk < short_call_s", "обработанные с разговором < short_call_s"),
    "formula.long_calls": ("handled calls with talk > long_call_s", "обработанные с разговором > long_call_s"),
    "formula.transfers": ("handled legs ended by transfer", "обработанных вызовов, завершённых переводом"),
    "formula.logged_in": ("logged-in seconds", "секунды в системе"),
    "formula.paused": ("paused seconds", "секунды на паузе"),
    "formula.null_logged": (
        "null where agent slices with logged-in time = 0",
        "null, если нет интервалов входа в систему",
    ),
    "formula.null_paused": ("null where agent slices with pauses = 0", "null, если нет интервалов с паузами"),
    "formula.idle": ("logged_in - paused(non-ACW) - handle", "в системе − паузы (кроме постобработки) − обработка"),
    "formula.handle": ("talk + hold + ACW", "разговор + удержание + постобработка"),
    "formula.acw": ("ACW", "постобработка"),
    "formula.direction_in": ("calls with direction inbound", "входящих вызовов"),
    "formula.direction_out": ("calls with direction outbound", "исходящих вызовов"),
    "formula.direction_internal": ("calls with direction internal", "внутренних вызовов"),
    "formula.missed": ("inbound calls not answered", "непринятых входящих"),
    "formula.callback_attempt": (
        "missed calls with a callback attempt in the window",
        "пропущенные с попыткой перезвона в окне",
    ),
    "formula.callback_contact": (
        "missed calls with an answered contact in the window",
        "пропущенные с состоявшимся контактом в окне",
    ),
    "formula.first_attempt": ("first attempt - missed call", "первая попытка − пропущенный вызов"),
    "formula.unreturned": (
        "missed calls without attempt or contact in the window",
        "пропущенных без попытки и контакта в окне",
    ),
    "formula.resolved": ("resolved", "решённые"),
    "formula.fcr_eligible": ("eligible answered inbound calls", "подходящие принятые входящие"),
    "formula.outbound_calls": ("outbound calls", "исходящих вызовов"),
    "formula.outbound_answered": ("answered outbound calls", "принятых исходящих"),
    "formula.contacts": (
        "answered outbound with talk >= contact_min_talk_s",
        "принятых исходящих с разговором >= contact_min_talk_s",
    ),
    "formula.numbers_contacted": ("numbers contacted", "номера с контактом"),
    "formula.distinct_numbers": ("distinct dialled numbers", "разных набранных номеров"),
    "formula.waits_not_all": (
        "null where not every closed leg records its wait",
        "пусто, если не у каждого закрытого захода записано ожидание",
    ),
    "formula.waits_recorded": (
        "null where waits_recorded (1 when every closed leg records its wait) = 0",
        "пусто, если waits_recorded (1, когда у каждого закрытого захода записано ожидание) = 0",
    ),
    "formula.conv_calls": (
        "distinct handled calls a won deal is attributed to",
        "разных обработанных звонков, к которым отнесена выигранная сделка",
    ),
    "formula.open_cohort": (
        "attributed deals still open, at their call's start",
        "отнесённые сделки, ещё открытые, по началу их звонка",
    ),
    "formula.deals_cohort": ("attributed deals, at their call's start", "отнесённые сделки, по началу их звонка"),
    "formula.won_cohort": (
        "won attributed deals, at their call's start",
        "выигранные отнесённые сделки, по началу их звонка",
    ),
    "formula.cohort_start": (", at their call's start", ", по началу их звонка"),
    "formula.won_deal_amount": ("amount of won deals", "сумма выигранных сделок"),
    "formula.uncosted": (
        "distinct agents with calls on a day without labour cost",
        "разных операторов со звонками в день без затрат на труд",
    ),
    "formula.mixed_currencies": (
        "null where the won deals are in more than one currency (mixed currencies)",
        "пусто, если выигранные сделки в нескольких валютах (валюты смешаны)",
    ),
    "formula.mixed_cost_currencies": (
        "null where the costs are in more than one currency (mixed currencies)",
        "пусто, если затраты в нескольких валютах (валюты смешаны)",
    ),
    "formula.mixed_money_currencies": (
        "null where the won deals and the costs are in more than one currency or in different ones (mixed "
        "currencies)",
        "пусто, если выигранные сделки и затраты в нескольких валютах или в разных (валюты смешаны)",
    ),
    "formula.won_scope": ("won deals attributed to the scope", "выигранных сделок, отнесённых к выборке"),
    "formula.won_amount": ("amount of won attributed deals", "сумм выигранных отнесённых сделок"),
    "formula.unattributed": (
        "won deals neither owned nor matched to a call",
        "выигранных сделок без владельца и без звонка",
    ),
    "formula.converted": ("handled calls attributed to a won deal", "обработанные, отнесённые к выигранной сделке"),
    "formula.won_leads": ("won leads", "выигранные лиды"),
    "formula.leads": ("leads (by creation time)", "лиды (по времени создания)"),
    "formula.won_priced": ("won deals with an amount", "выигранные сделки с суммой"),
    "formula.cost_parts": (
        "agent cost + telecom cost + allocated fixed costs",
        "затраты на операторов + связь + распределённые постоянные",
    ),
    "formula.revenue_cost": ("revenue - cost", "выручка − затраты"),
    "formula.answers": ("answers", "ответов"),
    "formula.answered_with_response": ("answered calls with a response", "принятые с ответом на опрос"),
    "formula.answered_calls": ("answered calls", "принятые вызовы"),
    "formula.csat_top": ("answers 4-5", "ответы 4–5"),
    "formula.csat_answers": ("CSAT answers", "ответы CSAT"),
    "formula.csat_scores": ("CSAT scores", "оценок CSAT"),
    "formula.nps_answers": ("NPS answers", "ответы NPS"),
    "formula.promoters": ("promoters", "промоутеры"),
    "formula.detractors": ("detractors", "критики"),
    "formula.ces_scores": ("CES scores", "оценок CES"),
    "formula.ces_answers": ("CES answers", "ответы CES"),
    "formula.person_days": ("employed person-days", "человеко-дней в штате"),
    "formula.person_days_short": ("person-days", "человеко-дни"),
    "formula.days": ("days", "дни"),
    "formula.left_dates": ("left dates in the period", "дат увольнения в периоде"),
    "formula.adherence": (
        "(work logged in - non-ACW pauses + off-queue time unavailable) / scheduled time",
        "(в системе в рабочее время − паузы кроме постобработки + недоступность вне смены) / время по графику",
    ),
    "formula.reviewed": ("distinct reviewed calls", "разных проверенных звонков"),
    "formula.review_cqr": ("review CQR", "CQR проверок"),
    "formula.with_cqr": ("reviews with a CQR", "проверки с CQR"),
    "formula.passed": ("reviews with CQR >= qa_pass_score", "проверки с CQR >= qa_pass_score"),
    "formula.fatal": ("reviews with a failed fatal criterion", "проверки с нарушенным критическим критерием"),
    "formula.cost": ("cost", "затраты"),
    "formula.revenue": ("revenue", "выручка"),
}


def _formula_words(lang: str) -> list[tuple[str, str]]:
    pairs = []
    for key, (en, ru) in FORMULA_STRINGS.items():
        pairs.append((en, lookup(key, lang) or ru))
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def russian_formula(formula: str) -> str:
    """A registry formula with its English words in Russian; metric and parameter ids stay as ids (they link).

    Phrases are replaced longest first, on whole words only, so that "answered calls" inside
    "answered calls with a response" is never half-replaced.
    """
    text = formula
    for en, ru in _formula_words("ru"):
        text = re.sub(rf"(?<![A-Za-z_]){re.escape(en)}(?![A-Za-z_])", lambda _, ru=ru: ru, text)
    return text.replace(" x ", " × ")
