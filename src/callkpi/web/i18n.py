"""Russian and English: interface strings, and numbers, dates and durations in each locale.

Formatting only changes how a value reads (grouping, decimal comma, percent sign, h:mm:ss);
values themselves always come from the metric engine or the canonical tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from callkpi.metrics.catalogue import DIMENSIONS, REGISTRY
from callkpi.metrics.catalogue.business import ATTRIBUTION_RULE
from callkpi.metrics.registry import PERCENT_UNITS

LANGS = ("en", "ru")
DEFAULT_LANG = "en"

# Metrics whose catalogue unit does not say how they read best.

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

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "ru": ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"),
}
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


def pick_lang(value: str | None) -> str:
    return value if value in LANGS else DEFAULT_LANG


@dataclass(frozen=True)
class Locale:
    lang: str
    timezone: str = "UTC"

    @property
    def _i(self) -> int:
        return 0 if self.lang == "en" else 1

    # -- words ---------------------------------------------------------------------------
    def t(self, key: str) -> str:
        pair = STRINGS.get(key)
        return pair[self._i] if pair else key

    def dim(self, dimension: str) -> str:
        pair = DIMENSIONS.get(dimension)
        return pair[self._i] if pair else dimension

    def metric_title(self, metric_id: str) -> str:
        metric = REGISTRY.metrics.get(metric_id)
        return metric.title[self.lang] if metric else metric_id

    def metric_hint(self, metric_id: str) -> str:
        metric = REGISTRY.metrics.get(metric_id)
        if metric is None:
            return metric_id
        return f"{metric.title[self.lang]} = {metric.formula}. {metric.description[self.lang]}"

    def outcome(self, value: str | None) -> str:
        pair = OUTCOMES.get(value or "")
        return pair[self._i] if pair else (value or "—")

    def direction(self, value: str | None) -> str:
        pair = DIRECTIONS.get(value or "")
        return pair[self._i] if pair else (value or "—")

    def role(self, value: str) -> str:
        pair = ROLE_NAMES.get(value)
        return pair[self._i] if pair else value

    def weekday(self, index: int) -> str:
        return WEEKDAYS[self.lang][index]

    # -- numbers -------------------------------------------------------------------------
    def number(self, value: float | int | None, decimals: int = 0) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "—"
        text = f"{value:,.{decimals}f}"
        if self.lang == "ru":
            text = text.replace(",", "\u00a0").replace(".", ",")
        return text.replace("-", "\u2212") if text.startswith("-") else text

    def percent(self, fraction: float | None, decimals: int = 1) -> str:
        if fraction is None:
            return "—"
        return f"{self.number(fraction * 100, decimals)}\u00a0%"

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
            return self.number(value, 2)
        if unit in ("per_hour", "per_number", "score"):
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
        if self.lang == "ru":
            return f"{value.day:02d}.{value.month:02d}.{value.year}"
        return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"

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
        if self.lang == "ru":
            return f"{moment.day:02d}.{moment.month:02d} {moment:%H:%M}"
        return f"{moment.day} {_MONTHS_EN[moment.month - 1]} {moment:%H:%M}"

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
