"""English and Russian strings of the sales & money views: maturing periods, the cohort view, labour
cost completeness, the sales charts (added to :data:`callkpi.web.i18n.STRINGS`)."""

from __future__ import annotations

SALES_STRINGS: dict[str, tuple[str, str]] = {
    "maturing": ("maturing", "созревает"),
    "maturing_title": ("Deals still maturing", "Сделки ещё созревают"),
    "maturing_text": (
        "Deals close days after their call: the calls after {until} have had less than {window} days "
        "for theirs, so conversion, revenue and ROI of this period can still grow. Of the deals attributed "
        "to its calls, {open} are still open.",
        "Сделки закрываются через дни после звонка: у звонков после {until} было меньше {window} дн., "
        "поэтому конверсия, выручка и ROI периода ещё могут вырасти. Из сделок, атрибутированных звонкам "
        "периода, ещё открыто {open}."),
    "cohort_view": ("Deals by the day of their call", "Сделки по дню звонка"),
    "cohort_hint": (
        "Each day's calls and the deals they led to, however late those were won; a day is maturing while "
        "it is less than {window} days before the end of the data ({end}).",
        "Звонки каждого дня и сделки, к которым они привели, когда бы те ни были выиграны; день "
        "«созревает», пока до конца данных ({end}) меньше {window} дн."),
    "matured": ("matured", "созрел"),
    "call_day": ("Call day", "День звонка"),
    "labour_complete": ("Labour cost: every agent with calls is costed.",
                        "Затраты на труд: учтены все операторы со звонками."),
    "labour_incomplete": (
        "Cost incomplete: {n} agent(s) with calls have no labour cost (no rate, or no working time for "
        "their rate): {agents}. Cost, cost per call, cost per sale and ROI leave their labour out.",
        "Затраты неполные: у {n} оператор(ов) со звонками нет затрат на труд (нет ставки или нет времени "
        "для ставки): {agents}. Затраты, затраты на звонок и продажу и ROI не включают их труд."),
    "sales_trend": ("Revenue and conversion by day", "Выручка и конверсия по дням"),
    "sales_funnel": ("Calls → handled → deals won", "Звонки → обработаны → выиграно сделок"),
    "funnel_calls": ("Calls (in + out)", "Звонки (вх. + исх.)"),
}
