"""Russian and English of the web: the string tables and the page-side ``Locale``.

``STRINGS`` (and every ``*_STRINGS`` table of ``key: (english, russian)`` in any module) is the source
the gettext catalogues are written from (``./dev i18n``, see CONTRIBUTING.md); at run time
``Locale.t`` reads the catalogue (``callkpi.i18n``), with CLDR plurals, numbers and dates by Babel.

Formatting only changes how a value reads (grouping, decimal comma, percent sign, h:mm:ss);
values themselves always come from the metric engine or the canonical tables.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from callkpi.i18n import (
    LANGS,
    format_date,
    format_day_month,
    format_number,
    format_percent,
    lookup,
    ngettext,
    translate,
    weekday_names,
)
from callkpi.i18n.formulas import russian_formula
from callkpi.metrics.catalogue import DIMENSIONS, REGISTRY
from callkpi.metrics.catalogue.business import ATTRIBUTION_RULE
from callkpi.metrics.registry import PERCENT_UNITS

DEFAULT_LANG = "en"

STRINGS: dict[str, tuple[str, str]] = {
    "app": ("callkpi", "callkpi"),
    "overview": ("Overview", "Обзор"),
    "agents": ("Agents", "Операторы"),
    "agent": ("Agent", "Оператор"),
    "queues": ("Queues & intervals", "Очереди и интервалы"),
    "calls": ("Call log", "Журнал вызовов"),
    "call": ("Call", "Вызов"),
    "missed": ("Missed calls", "Пропущенные"),
    "outbound": ("Outbound campaigns", "Исходящие кампании"),
    "definitions": ("Metric definitions", "Определения метрик"),
    "wallboard": ("Wallboard", "Табло"),
    "admin": ("Administration", "Администрирование"),
    "targets": ("Targets", "Целевые значения"),
    "users": ("Users", "Пользователи"),
    "login": ("Sign in", "Войти"),
    "logout": ("Sign out", "Выйти"),
    "username": ("User name", "Имя пользователя"),
    "password": ("Password", "Пароль"),
    "bad_login": ("Wrong user name or password.", "Неверное имя пользователя или пароль."),
    "too_many": ("Too many failed attempts; wait a few minutes.", "Слишком много неудачных попыток; подождите."),
    "period": ("Period", "Период"),
    "from": ("From", "С"),
    "to": ("To", "По"),
    "apply": ("Apply", "Применить"),
    "latest_day": ("Latest day", "Последний день"),
    "last_7": ("7 days", "7 дней"),
    "last_30": ("30 days", "30 дней"),
    "queue": ("Queue", "Очередь"),
    "all": ("all", "все"),
    "previous": ("Previous period", "Предыдущий период"),
    "change": ("Change", "Изменение"),
    "prev_short": ("prev.", "пред."),
    "by_day": ("By day", "По дням"),
    "by_queue": ("By queue", "По очередям"),
    "by_interval": ("By interval", "По интервалам"),
    "interval": ("Interval", "Интервал"),
    "minutes": ("min", "мин"),
    "export": ("Export", "Выгрузить"),
    "print_pdf": ("Print / PDF", "Печать / PDF"),
    "no_data": ("No data for this period.", "Нет данных за период."),
    "total": ("Total", "Итого"),
    "name": ("Name", "Имя"),
    "team": ("Team", "Группа"),
    "trend": ("Trend by day", "Динамика по дням"),
    "heatmap_day_hour": ("Calls by day and hour", "Вызовы по дням и часам"),
    "heatmap_weekday_hour": ("Arrivals by weekday and hour", "Поступления по дням недели и часам"),
    "heatmap_day_hour_arrivals": ("Arrivals by day and hour", "Поступления по дням и часам"),
    "talk_distribution": ("Talk time distribution", "Распределение времени разговора"),
    "too_short": ("too short", "слишком короткие"),
    "too_long": ("too long", "слишком длинные"),
    "their_calls": ("Their calls", "Вызовы оператора"),
    "arrivals_vs_staff": ("Arrivals vs logged-in agent time", "Поступления и время операторов в системе"),
    "arrivals": ("Arrivals", "Поступления"),
    "logged_in_h": ("Logged-in agent hours", "Часы операторов в системе"),
    "direction": ("Direction", "Направление"),
    "outcome": ("Outcome", "Исход"),
    "number": ("Number", "Номер"),
    "search": ("Search (number or call id)", "Поиск (номер или id вызова)"),
    "min_duration": ("Min duration, s", "Мин. длительность, с"),
    "max_duration": ("Max duration, s", "Макс. длительность, с"),
    "start": ("Start", "Начало"),
    "caller": ("Caller", "Звонящий"),
    "callee": ("Called", "Вызываемый"),
    "wait": ("Wait, s", "Ожидание, с"),
    "talk": ("Talk, s", "Разговор, с"),
    "ring_s": ("Ring, s", "Вызов оператора, с"),
    "scope.all": ("all", "все"),
    "scope.queue": ("queue", "очередь"),
    "scope.team": ("team", "группа"),
    "qa_default_note": ("default scorecard", "анкета по умолчанию"),
    "duration": ("Duration, s", "Длительность, с"),
    "recording": ("Recording", "Запись"),
    "found": ("found", "найдено"),
    "next": ("Next", "Дальше"),
    "prev_page": ("Previous", "Назад"),
    "sort_by": ("Sort by", "Сортировать по"),
    "descending": ("descending", "по убыванию"),
    "ascending": ("ascending", "по возрастанию"),
    "prev": ("Previous", "Назад"),
    "page": ("Page", "Страница"),
    "queue_legs": ("Queue legs", "Заходы в очереди"),
    "agent_legs": ("Agent legs (offers)", "Предложения операторам"),
    "timeline": ("Event timeline", "Хронология событий"),
    "time": ("Time", "Время"),
    "event": ("Event", "Событие"),
    "data": ("Data", "Данные"),
    "offset_s": ("+s", "+с"),
    "worklist": ("Unreturned missed calls", "Пропущенные без перезвона"),
    "times_called": ("Times called", "Звонил раз"),
    "first_call": ("First call", "Первый вызов"),
    "last_call": ("Last call", "Последний вызов"),
    "age": ("Age", "Давность"),
    "mark_handled": ("Mark handled", "Обработан"),
    "handled": ("handled", "обработан"),
    "callback_kpis": ("Callback KPIs", "Показатели перезвона"),
    "campaign": ("Campaign", "Кампания"),
    "campaign_summary": ("Campaign summary", "Сводка по кампаниям"),
    "connect_by_hour": ("Connect rate by hour of day", "Доля дозвонов по часам"),
    "attempts": ("Attempts", "Попытки"),
    "no_outbound": ("No outbound calls in the loaded data.", "В загруженных данных нет исходящих вызовов."),
    "formula": ("Formula", "Формула"),
    "unit": ("Unit", "Единица"),
    "parameters": ("Parameters", "Параметры"),
    "description": ("Description", "Описание"),
    "id": ("Id", "Id"),
    "value": ("Value", "Значение"),
    "today_queues": ("Today by queue", "Сегодня по очередям"),
    "updated": ("Updated", "Обновлено"),
    "showing_day": (
        "No calls today yet; showing the latest day with data",
        "Сегодня вызовов нет; показан последний день с данными",
    ),
    "scope": ("Scope", "Область"),
    "metric": ("Metric", "Метрика"),
    "target": ("Target", "Цель"),
    "warn": ("Warning level", "Порог предупреждения"),
    "save": ("Save", "Сохранить"),
    "delete": ("Delete", "Удалить"),
    "add": ("Add", "Добавить"),
    "default": ("default", "по умолчанию"),
    "role": ("Role", "Роль"),
    "create": ("Create", "Создать"),
    "new_token": ("New API token", "Новый токен API"),
    "token_once": ("Copy it now: it is not shown again.", "Скопируйте сейчас: он больше не будет показан."),
    "notes": ("Notes", "Примечания"),
    "targets_hint": (
        "Ratios in percent (80 = 80 %), durations in seconds. Green meets the target, amber is between "
        "target and warning level, red is beyond.",
        "Доли в процентах (80 = 80 %), длительности в секундах. Зелёный — цель достигнута, жёлтый — "
        "между целью и порогом, красный — хуже порога.",
    ),
    "api_docs": ("API", "API"),
    "language": ("Language", "Язык"),
    "forbidden": ("You may not see this.", "Нет доступа."),
    "not_found": ("Not found.", "Не найдено."),
    "bad_request": ("Bad request", "Неверный запрос"),
    "not_on_engine": ("Not available on this store's engine yet", "Пока недоступно на движке этого хранилища"),
    "agents_only_self": ("You see your own numbers only.", "Вы видите только свои показатели."),
    "unknown": ("unknown", "неизвестно"),
    "seconds_short": ("s", "с"),
    "pp": ("pp", "п.п."),
    "yes": ("yes", "да"),
    "no": ("no", "нет"),
}

# Sales, money, customers and people (web/pages_business.py).
STRINGS.update({
    "sales": ("Sales & money", "Продажи и деньги"),
    "training": ("Training effect", "Эффект обучения"),
    "scorecard": ("Scorecard", "Карточка оператора"),
    "open_scorecard": ("Scorecard", "Карточка оператора"),
    "attribution_rule": ATTRIBUTION_RULE,
    "group_by": ("Group by", "Группировать по"),
    "no_business_data": (
        "No deals, surveys, costs, staff or schedules loaded: load the business files with `callkpi ingest`.",
        "Сделки, опросы, затраты, штат и графики не загружены: загрузите их командой `callkpi ingest`.",
    ),
    "programme": ("Programme", "Программа"),
    "all_programmes": ("every programme", "все программы"),
    "window_days": ("Days before and after", "Дней до и после"),
    "outcomes": ("Metrics", "Метрики"),
    "trained": ("Trained", "Обученные"),
    "untrained": ("Untrained", "Необученные"),
    "before_after": ("before → after", "до → после"),
    "observations": ("Observations (before / after)", "Наблюдений (до / после)"),
    "effect_did": ("Effect (DiD)", "Эффект (DiD)"),
    "ci_95": ("95 % CI", "95 % ДИ"),
    "p_value": ("p-value", "p-значение"),
    "verdict": ("Verdict", "Вывод"),
    "verdict_improved": ("improved", "улучшение"),
    "verdict_worsened": ("worsened", "ухудшение"),
    "verdict_no_significant_change": ("no significant change", "значимых изменений нет"),
    "verdict_not_enough_data": ("not enough data", "недостаточно данных"),
    "no_programmes": (
        "No training programme loaded: load a training file with `callkpi ingest`.",
        "Программы обучения не загружены: загрузите файл обучения командой `callkpi ingest`.",
    ),
    "training_method": (
        "For each programme, trained agents' change from the days before the training to the days after it, "
        "minus the change of agents who never took it over the same days (difference in differences, OLS with "
        "standard errors clustered by agent). Rates in percentage points. 'Not enough data' when a group has "
        "fewer than 30 observations or a side fewer than 2 agents. Read with care: trained and untrained agents "
        "are assumed to move in parallel without the training, and who gets trained is rarely random.",
        "Для каждой программы: изменение показателя обученных операторов от дней до обучения к дням после, "
        "минус изменение за те же дни у операторов, не проходивших её (разность разностей, МНК с ошибками, "
        "кластеризованными по операторам). Доли — в процентных пунктах. «Недостаточно данных» — если в группе "
        "меньше 30 наблюдений или с какой-то стороны меньше 2 операторов. Осторожно: предполагается, что без "
        "обучения обе группы менялись бы одинаково, а на обучение редко отправляют случайно.",
    ),
    "hired": ("Hired", "Принят"),
    "left_on": ("Left", "Уволен"),
    "tenure_days": ("Tenure, days", "Стаж, дней"),
    "trainings": ("Trainings", "Обучение"),
    "team_beside": ("Team (counts per agent)", "Группа (количества — на оператора)"),
    "team_agents": ("agents in the team", "операторов в группе"),
    "rule_title": ("Deal attribution", "Атрибуция сделок"),
    "section_calls": ("Calls", "Вызовы"),
    "section_handling": ("Handling", "Обработка"),
    "section_missed and callbacks": ("Missed calls and callbacks", "Пропущенные и перезвоны"),
    "section_sales": ("Sales", "Продажи"),
    "section_money": ("Money", "Деньги"),
    "section_customer": ("Customer", "Клиенты"),
    "section_quality": ("Quality", "Качество"),
    "section_people": ("People", "Персонал"),
})

# The data-sources admin page and the watched files of `callkpi serve --watch`.
STRINGS.update({
    "data_sources": ("Data sources", "Источники данных"),
    "watched_files": ("Watched files", "Отслеживаемые файлы"),
    "watch_every": ("Checked every", "Проверка каждые"),
    "watch_last_cycle": ("last check", "последняя проверка"),
    "watch_stopped": ("loading has stopped; see the server log", "загрузка остановлена; см. журнал сервера"),
    "watch_first_look": ("Not checked yet.", "Ещё не проверялись."),
    "watch_off": (
        "The server watches no files: new records load with `callkpi ingest` while the server is stopped, "
        "or start it with `callkpi serve --watch FILE`.",
        "Сервер не отслеживает файлы: новые записи загружаются командой `callkpi ingest` при остановленном "
        "сервере, либо запустите его как `callkpi serve --watch ФАЙЛ`.",
    ),
    "watch_alert": ("Some watched files cannot be loaded", "Часть отслеживаемых файлов не загружается"),
    "watch_state_waiting": ("waiting", "ожидает"),
    "watch_state_loaded": ("loaded", "загружен"),
    "watch_state_appended": ("new lines loaded", "загружены новые строки"),
    "watch_state_unchanged": ("up to date", "без изменений"),
    "watch_state_empty": ("empty", "пустой"),
    "watch_state_failed": ("not loaded", "не загружен"),
    "file": ("File", "Файл"),
    "format": ("Format", "Формат"),
    "state": ("State", "Состояние"),
    "last_load": ("Last load", "Последняя загрузка"),
    "last_check": ("Last check", "Последняя проверка"),
    "lines_loaded": ("Lines loaded", "Загружено строк"),
    "quarantined": ("Quarantined", "В карантине"),
    "source_calls": ("Calls", "Вызовов"),
    "since": ("since", "с"),
    "loaded_files": ("Loaded files", "Загруженные файлы"),
    "data_from": ("Records from", "Записи с"),
    "data_to": ("Records to", "Записи по"),
    "loads": ("Loads", "Загрузок"),
    "no_sources": ("Nothing loaded yet.", "Ещё ничего не загружено."),
})

# Alerts (web/pages_alerts.py, the nav badge, the wallboard).
STRINGS.update({
    "alerts": ("Alerts", "Тревоги"),
    "alerts_firing": ("Firing now", "Сейчас"),
    "alerts_none": ("No alert fires.", "Тревог нет."),
    "alerts_checked": ("Targets checked", "Проверенные цели"),
    "alerts_history": ("History", "История"),
    "alerts_hint": (
        "Every target is compared with today's KPI so far and with the current interval's: overall, per "
        "queue and per team with a target of its own. An alert fires while a KPI is beyond the warning "
        "level (red) and enough calls were offered; it resolves when the KPI is back or the window ends.",
        "Каждая цель сравнивается с показателем за сегодня и за текущий интервал — в целом, по очередям и "
        "по группам, у которых есть своя цель. Тревога срабатывает, пока показатель хуже порога (красный) "
        "при достаточном числе вызовов, и снимается, когда показатель вернулся или окно закончилось.",
    ),
    "alerts_last_check": ("Last check", "Последняя проверка"),
    "alerts_not_checked": ("Not checked yet.", "Ещё не проверялись."),
    "alerts_check_failed": ("The last check failed", "Последняя проверка не удалась"),
    "alerts_no_states": ("No target to check: no calls today yet.", "Проверять нечего: сегодня вызовов ещё нет."),
    "alerts_no_history": ("No alert has fired yet.", "Тревог ещё не было."),
    "alerts_calls": ("Calls", "Вызовы"),
    "alerts_fired": ("Fired", "Сработала"),
    "alerts_resolved": ("Resolved", "Снята"),
    "alerts_still_firing": ("still firing", "действует"),
    "alerts_alert": ("Alert", "Тревога"),
    "alerts_value_fired": ("Value when fired", "Значение при срабатывании"),
    "alerts_value_last": ("Last value", "Последнее значение"),
    "alert_scope_all": ("All queues", "Все очереди"),
    "alert_window_today": ("today", "сегодня"),
    "alert_window_interval": ("interval", "интервал"),
    "alert_st_firing": ("alert", "тревога"),
    "alert_st_few_calls": ("red, too few calls", "красный, мало вызовов"),
    "alert_st_warn": ("warning", "предупреждение"),
    "alert_st_good": ("ok", "в норме"),
    "alert_st_no_data": ("no data", "нет данных"),
})

# Page furniture, accessibility and the charts of issue 15 (web helper): keep this block last.
STRINGS.update({
    "skip_to_content": ("Skip to content", "Перейти к содержанию"),
    "menu": ("Menu", "Меню"),
    "main_menu": ("Main menu", "Главное меню"),
    "interval_length": ("Interval length", "Длина интервала"),
    "missed_by_hour": ("Missed calls by hour of day", "Пропущенные по часам суток"),
    "missed_by_day": ("Missed calls by day", "Пропущенные по дням"),
    "missed_calls": ("Missed calls", "Пропущенные"),
    "today_by_hour": ("Today by hour", "Сегодня по часам"),
    "qa_cqr_trend_agents": ("CQR by day, per agent", "CQR по дням, по операторам"),
    "qa_criterion_trend": ("Mean score by day, per criterion", "Средняя оценка по дням, по критериям"),
})

OUTCOMES = {
    "answered": ("answered", "принят"),
    "abandoned": ("abandoned", "потерян"),
    "flowed_out": ("flowed out", "ушёл из очереди"),
    "no_answer": ("no answer", "нет ответа"),
    "busy": ("busy", "занято"),
    "failed": ("failed", "сбой"),
    "canceled": ("canceled", "отменён"),
    "unknown": ("unknown", "неизвестно"),
}
DIRECTIONS = {
    "inbound": ("inbound", "входящий"),
    "outbound": ("outbound", "исходящий"),
    "internal": ("internal", "внутренний"),
    "unknown": ("unknown", "неизвестно"),
}
ROLE_NAMES = {
    "admin": ("administrator", "администратор"),
    "supervisor": ("supervisor", "руководитель"),
    "agent": ("agent", "оператор"),
}
# The metric groups of the registry (Metric.section), as the definitions page heads them.
SECTIONS = {
    "queue": ("Queue", "Очередь"),
    "handling": ("Handling", "Обработка вызовов"),
    "calls": ("Calls", "Вызовы"),
    "outbound": ("Outbound", "Исходящие"),
    "sales": ("Sales", "Продажи"),
    "agent_time": ("Agent time", "Рабочее время операторов"),
    "customer": ("Customer", "Клиенты"),
    "money": ("Money", "Деньги"),
    "people": ("People", "Персонал"),
    "quality": ("Quality", "Качество"),
    "speech": ("Speech and script", "Речь и скрипт"),
}
UNITS = {
    "count": ("count", "количество"),
    "money": ("money", "деньги"),
    "nps": ("NPS points", "пункты NPS"),
    "per_hour": ("per hour", "в час"),
    "per_number": ("per number", "на номер"),
    "per_call": ("per call", "на звонок"),
    "percent": ("percent", "проценты"),
    "ratio": ("share", "доля"),
    "score": ("score", "балл"),
    "seconds": ("seconds", "секунды"),
}
# Metric parameters (config.MetricParams) as people read them; the id stays beside the name.
PARAMETER_NAMES = {
    "timezone": ("Business time zone", "Часовой пояс"),
    "sl_threshold_s": ("Service level threshold T, s", "Порог уровня сервиса T, с"),
    "sl_variant": ("Service level variant", "Вариант уровня сервиса"),
    "short_abandon_s": ("Short abandon, s", "Короткий сброс, с"),
    "short_call_s": ("Short call, s", "Короткий разговор, с"),
    "long_call_s": ("Long call, s", "Длинный разговор, с"),
    "fcr_window_h": ("Repeat-call window, h", "Окно повторного обращения, ч"),
    "callback_window_h": ("Callback window, h", "Окно перезвона, ч"),
    "attribution_window_d": ("Deal attribution window, days", "Окно атрибуции сделки, дней"),
    "contact_min_talk_s": ("Least talk of a contact, s", "Мин. разговор для контакта, с"),
    "acw_pause_reasons": ("Pause reasons that are ACW", "Причины паузы — постобработка"),
    "qa_pass_score": ("QA pass score", "Проходной балл QA"),
    "qa_sample_share": ("QA sample share", "Доля выборки QA"),
    "interval_minutes": ("Interval length, min", "Длина интервала, мин"),
}
# Russian for config.MetricParams' field descriptions (the English is the field's own description).
PARAMETER_DESCRIPTIONS = {
    "timezone": "часовой пояс бизнеса для разбиения по дням и интервалам",
    "sl_threshold_s": "порог T уровня сервиса, секунды",
    "sl_variant": "знаменатель уровня сервиса",
    "short_abandon_s": "сбросы с ожиданием меньше порога считаются короткими; 0 — отключено",
    "short_call_s": "обработанные вызовы с разговором короче порога — слишком короткие",
    "long_call_s": "обработанные вызовы с разговором длиннее порога — слишком длинные",
    "fcr_window_h": "окно повторного звонка для решения с первого обращения, часы",
    "callback_window_h": "сколько времени после пропущенного вызова перезвон засчитывается",
    "attribution_window_d": "окно атрибуции сделки к звонку, дни",
    "contact_min_talk_s": "разговор принятого исходящего, с которого он считается живым контактом",
    "acw_pause_reasons": "причины паузы, которые считаются постобработкой",
    "qa_pass_score": "CQR не ниже этого значения — хороший звонок",
    "qa_sample_share": "доля обработанных вызовов, отбираемых на проверку качества",
    "interval_minutes": "длина интервала для измерения `interval`",
}
# The metric engine's notes (metrics/engine.py writes them in English); Locale.note reads them in Russian.
NOTE_STRINGS = {
    "note.left_out": ("{metric}: no {names} in the loaded data for this scope; left out",
                      "{metric}: в загруженных данных нет: {names} — не учтено"),
    "note.not_recorded": ("{metric}: {names} not recorded by the loaded sources {where}; shown as null, not 0",
                          "{metric}: {names} — не записано в загруженных источниках {where}; показано пусто, а не 0"),
    "note.null_reason": ("{metric}: {reason} {where}; shown as null", "{metric}: {reason} {where}; показано пусто"),
    "note.mixed currencies": ("mixed currencies", "валюты смешаны"),
    "note.in_scope": ("in this scope", "в этой выборке"),
    "note.in_rows": ("in {count} of {rows} rows", "в {count} из {rows} строк"),
    "note.and": ("and", "и"),
    "note.hold time": ("hold time", "время удержания"),
    "note.after-call work": ("after-call work", "постобработка"),
    "note.pauses (after-call work)": ("pauses (after-call work)", "паузы (постобработка)"),
    "note.presence (logged-in sessions)": ("presence (logged-in sessions)", "присутствие (сеансы входа в систему)"),
    "note.queue wait (Asterisk CDR Queue() legs: load the queue_log or CEL)": (
        "queue wait (Asterisk CDR Queue() legs: load the queue_log or CEL)",
        "ожидание в очереди (заходы Queue() в CDR Asterisk: загрузите queue_log или CEL)",
    ),
    "note.hold time is not recorded by the loaded sources": (
        "hold time is not recorded by the loaded sources", "источники не содержат время удержания",
    ),
}
_NOTE_LEFT_OUT = re.compile(r"^(?P<metric>\w+): no (?P<names>.+) in the loaded data for this scope; left out$")
_NOTE_NOT_RECORDED = re.compile(
    r"^(?P<metric>\w+): (?P<names>.+) not recorded by the loaded sources (?P<where>in this scope|in (?P<count>\d+) "
    r"of (?P<rows>\d+) rows); shown as null, not 0$"
)
_NOTE_NULL_REASON = re.compile(
    r"^(?P<metric>\w+): (?P<reason>.+?) (?P<where>in this scope|in (?P<count>\d+) of (?P<rows>\d+) rows); "
    r"shown as null$"
)
_NOTE_PLAIN = re.compile(r"^(?P<metric>\w+): (?P<text>.+)$")

_PARAMETER_ID = re.compile(r"(?<![\w`])(?:" + "|".join(sorted(PARAMETER_NAMES, key=len, reverse=True)) + r")(?![\w`])")

# Counted nouns: "{n}" is the number; English has one/other, Russian one/few/many (CLDR).
WEB_PLURALS = {
    "n_calls": {"en": ("{n} call", "{n} calls"), "ru": ("{n} звонок", "{n} звонка", "{n} звонков")},
    "n_agents": {"en": ("{n} agent", "{n} agents"), "ru": ("{n} оператор", "{n} оператора", "{n} операторов")},
    "n_days": {"en": ("{n} day", "{n} days"), "ru": ("{n} день", "{n} дня", "{n} дней")},
    "n_team_agents": {
        "en": ("{n} agent in the team", "{n} agents in the team"),
        "ru": ("{n} оператор в группе", "{n} оператора в группе", "{n} операторов в группе"),
    },
    "n_reviews": {"en": ("{n} review", "{n} reviews"), "ru": ("{n} проверка", "{n} проверки", "{n} проверок")},
    "n_observations": {
        "en": ("{n} observation", "{n} observations"),
        "ru": ("{n} наблюдение", "{n} наблюдения", "{n} наблюдений"),
    },
}


def pick_lang(value: str | None) -> str:
    return value if value in LANGS else DEFAULT_LANG


@cache
def default_qa_titles() -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    """(call type -> (en, ru) title, criterion name -> (en, ru) title) of the default scorecards (qa/*.yaml)."""
    from callkpi.qa.scorecards import default_scorecards

    call_types: dict[str, tuple[str, str]] = {}
    criteria: dict[str, tuple[str, str]] = {}
    for card in default_scorecards():
        call_types[card.call_type] = (card.title or card.call_type, card.title_ru or card.title or card.call_type)
        for criterion in card.criteria:
            english = criterion.name[:1].upper() + criterion.name[1:]
            criteria.setdefault(criterion.name, (english, criterion.title_ru or english))
    return call_types, criteria


@dataclass(frozen=True)
class Locale:
    lang: str
    timezone: str = "UTC"
    currency: str | None = None  # of money values: the deals' one currency or the setting (queries.currency)

    @property
    def _i(self) -> int:
        return 0 if self.lang == "en" else 1

    # -- words ---------------------------------------------------------------------------
    def t(self, key: str) -> str:
        """The catalogue's text; a string added to STRINGS but not yet in the catalogue (``./dev i18n``) still reads."""
        return translate(key, self.lang, table=STRINGS)

    def _table(self, prefix: str, table: dict[str, tuple[str, str]], value: str | None, empty: str = "—") -> str:
        if not value:
            return empty
        found = lookup(prefix + value, self.lang)
        if found is not None:
            return found
        pair = table.get(value)
        return pair[self._i] if pair else value

    def plural(self, key: str, n: int | float) -> str:
        """``loc.plural("n_calls", 5)`` -> ``5 звонков`` (CLDR plural rules, the catalogue's forms)."""
        return ngettext(key, n, self.lang, WEB_PLURALS)

    def note(self, text: str) -> str:
        """A metric engine note in this language (the engine writes English; an unknown note stays as it is)."""
        if self.lang == "en":
            return text
        if found := _NOTE_LEFT_OUT.match(text):
            return self.t("note.left_out").format(metric=found["metric"], names=self._note_names(found["names"]))
        if found := _NOTE_NOT_RECORDED.match(text):
            return self.t("note.not_recorded").format(
                metric=found["metric"], names=self._note_names(found["names"]), where=self._note_where(found)
            )
        if found := _NOTE_NULL_REASON.match(text):
            return self.t("note.null_reason").format(
                metric=found["metric"], reason=self._note_names(found["reason"]), where=self._note_where(found))
        if (found := _NOTE_PLAIN.match(text)) and f"note.{found['text']}" in NOTE_STRINGS:
            return f"{found['metric']}: {self.t('note.' + found['text'])}"
        return text

    def _note_where(self, found: re.Match[str]) -> str:
        return (self.t("note.in_scope") if found["count"] is None
                else self.t("note.in_rows").format(count=found["count"], rows=found["rows"]))

    def _note_names(self, names: str) -> str:
        parts = re.split(r", | and ", names)
        words = [self.t(f"note.{part}") if f"note.{part}" in NOTE_STRINGS else part for part in parts]
        return f" {self.t('note.and')} ".join(words) if " and " in names else ", ".join(words)

    def call_type(self, call_type: str | None) -> str:
        """A QA call type (a scorecard's id) by its title: ``qualification`` -> ``Квалификационный звонок``."""
        return self._table("qa.call_type.", default_qa_titles()[0], call_type)

    def criterion(self, name: str | None) -> str:
        """A QA criterion (its name is its key) by its title in this language."""
        return self._table("qa.criterion.", default_qa_titles()[1], name)

    def dim(self, dimension: str) -> str:
        return self._table("dim.", DIMENSIONS, dimension, dimension)

    def section(self, section: str) -> str:
        return self._table("section.", SECTIONS, section, section)

    def unit(self, unit: str) -> str:
        return self._table("unit.", UNITS, unit, unit)

    def parameter(self, name: str) -> str:
        """A metric parameter's name in words (``attribution_window_d`` -> ``Окно атрибуции сделки, дней``)."""
        return self._table("param.", PARAMETER_NAMES, name, name)

    def parameter_description(self, name: str, english: str) -> str:
        if self.lang == "en":
            return english
        found = lookup(f"param.{name}.description", self.lang)
        return found if found is not None else PARAMETER_DESCRIPTIONS.get(name, english)

    def metric_title(self, metric_id: str) -> str:
        metric = REGISTRY.metrics.get(metric_id)
        return metric.title[self.lang] if metric else metric_id

    def metric_hint(self, metric_id: str) -> str:
        metric = REGISTRY.metrics.get(metric_id)
        if metric is None:
            return metric_id
        return f"{metric.title[self.lang]} = {self.formula(metric_id)}. {self.metric_description(metric_id)}"

    def metric_description(self, metric_id: str) -> str:
        metric = REGISTRY.metrics.get(metric_id)
        return self.prose(metric.description[self.lang]) if metric else metric_id

    def prose(self, text: str) -> str:
        """Running text with the metric parameters' ids as their names (Russian: «Короткий сброс»)."""
        if self.lang == "en":
            return text
        return _PARAMETER_ID.sub(lambda found: f"«{self._short_parameter(found[0])}»", text)

    def _short_parameter(self, name: str) -> str:
        title = self.parameter(name)
        head, _, unit = title.rpartition(", ")
        return head if head and unit in ("с", "ч", "мин", "дней") else title

    def formula(self, metric_id: str) -> str:
        """The metric's formula; in Russian, its words and the metric and parameter ids read as Russian."""
        metric = REGISTRY.metrics.get(metric_id)
        if metric is None:
            return metric_id
        return metric.formula if self.lang == "en" else russian_formula(metric.formula)

    def outcome(self, value: str | None) -> str:
        return self._table("outcome.", OUTCOMES, value)

    def direction(self, value: str | None) -> str:
        return self._table("direction.", DIRECTIONS, value)

    def role(self, value: str) -> str:
        return self._table("role.", ROLE_NAMES, value, value)

    def weekday(self, index: int) -> str:
        return weekday_names(self.lang)[index]

    # -- numbers -------------------------------------------------------------------------
    def number(self, value: float | int | None, decimals: int = 0) -> str:
        return format_number(value, decimals, self.lang)

    def percent(self, fraction: float | None, decimals: int = 1) -> str:
        return format_percent(fraction, decimals, self.lang)

    def duration(self, seconds: float | None) -> str:
        """Short waits as ``12.5 s``; long spans as ``h:mm:ss``."""
        if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
            return "—"
        if abs(seconds) < 600:
            return f"{self.number(seconds, 1)}\u00a0{self.t('seconds_short')}"
        whole = round(seconds)
        sign = "\u2212" if whole < 0 else ""
        whole = abs(whole)
        return f"{sign}{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"

    def metric(self, metric_id: str, value: Any) -> str:
        """A KPI value as it reads in this locale, by the metric's unit."""
        if value is None:
            return "—"
        metric = REGISTRY.metrics.get(metric_id)
        unit = metric.unit if metric else ""
        if unit in PERCENT_UNITS:
            return self.percent(value)
        if unit == "count":
            return self.number(value)
        if unit == "seconds":
            return self.duration(value)
        if unit == "nps":
            return self.number(value, 0)
        if unit == "money":
            amount = self.number(value, 2)
            return f"{amount}\u00a0{self.currency}" if self.currency else amount
        if unit in ("per_hour", "per_number", "per_call", "score"):
            return self.number(value, 1)
        return str(value)

    def delta(self, metric_id: str, difference: float | None) -> str:
        """A change between periods: percentage points for ratios, the unit otherwise."""
        if difference is None:
            return "—"
        metric = REGISTRY.metrics.get(metric_id)
        unit = metric.unit if metric else ""
        sign = "+" if difference > 0 else ""
        if unit in PERCENT_UNITS:
            return f"{sign}{self.number(difference * 100, 1)}\u00a0{self.t('pp')}"
        if unit == "seconds":
            return f"{sign}{self.number(difference, 1)}\u00a0{self.t('seconds_short')}"
        if unit == "count":
            return f"{sign}{self.number(difference)}"
        return f"{sign}{self.number(difference, 1)}"

    # -- dates ---------------------------------------------------------------------------
    def date(self, value: date | str | None) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        return format_date(value, self.lang)

    def local(self, value: datetime | str | None) -> datetime | None:
        """A stored (naive UTC) time in the business time zone."""
        if value is None or value == "":
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo("UTC"))
        return value.astimezone(ZoneInfo(self.timezone))

    def datetime(self, value: datetime | str | None) -> str:
        local = self.local(value)
        if local is None:
            return "—"
        return f"{self.date(local.date())} {local:%H:%M:%S}"

    def clock(self, value: datetime | str | None) -> str:
        local = self.local(value)
        return "—" if local is None else f"{local:%H:%M:%S}"

    def interval_label(self, value: str | None) -> str:
        """An ``interval`` dimension value (local ISO time) as ``03.12 14:30``."""
        if not value:
            return "—"
        moment = datetime.fromisoformat(value)
        return f"{format_day_month(moment.date(), self.lang)} {moment:%H:%M}"

    def age(self, seconds: float | None) -> str:
        if seconds is None:
            return "—"
        minutes = int(seconds // 60)
        if minutes < 60:
            return f"{minutes}\u00a0{self.t('minutes')}"
        hours = minutes // 60
        if hours < 48:
            return f"{hours}\u00a0{'h' if self.lang == 'en' else 'ч'}"
        return f"{hours // 24}\u00a0{'d' if self.lang == 'en' else 'дн.'}"
