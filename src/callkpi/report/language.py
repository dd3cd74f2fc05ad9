"""The language of the CLI's output: English or Russian, chosen once per command.

``callkpi --lang ru ...`` chooses it; without ``--lang`` the locale does (``CALLKPI_LANG``, then
``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` as gettext reads them: ``ru_RU.UTF-8`` is Russian,
anything else English; see :func:`callkpi.i18n.cli_lang`). The root command sets it before a command
runs and puts English back when the command ends.

Texts come from string tables of ``key: (english, russian)`` (``*_STRINGS``) and counted nouns from
``*_PLURALS`` tables; ``./dev i18n`` writes them into the gettext catalogues, and in Russian the
text is read from the catalogue (CLDR plural forms through ``ngettext``), the table being the
fallback while the catalogue is not rebuilt yet. English never opens a catalogue and never imports
Babel, so the default start-up stays light; Russian numbers and dates are formatted by Babel
(``12 345,6`` with a no-break space, ``31.03.2026``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from callkpi.i18n import DEFAULT_LANG, LANGS, NBSP, Plurals, lookup, ngettext, pick_lang, translate

Table = Mapping[str, tuple[str, str]]

_lang = DEFAULT_LANG

# The words of the tables themselves (column headers that are no metric, yes/no); the commands'
# own texts are in callkpi.cli.words.
TABLE_STRINGS: dict[str, tuple[str, str]] = {
    "cli.yes": ("yes", "да"),
    "cli.no": ("no", "нет"),
    "cli.col.metric": ("metric", "Показатель"),
    "cli.col.id": ("id", "id"),
    "cli.col.value": ("value", "Значение"),
    "cli.col.file": ("file", "Файл"),
    "cli.col.format": ("format", "Формат"),
    "cli.col.line": ("line", "Строка"),
    "cli.col.reason": ("reason", "Причина"),
    "cli.col.raw": ("raw", "Исходная строка"),
    "cli.col.source": ("source", "Источник"),
    "cli.col.source_id": ("source_id", "Источник"),
    "cli.col.kind": ("kind", "Тип"),
    "cli.col.call_id": ("call_id", "id вызова"),
    "cli.col.agent": ("agent", "Оператор"),
    "cli.col.time_utc": ("time_utc", "Время (UTC)"),
    "cli.col.detail": ("detail", "Подробности"),
    "cli.col.lines": ("lines", "Строк"),
    "cli.col.quarantined": ("quarantined", "В карантине"),
    "cli.col.calls": ("calls", "Вызовов"),
    "cli.col.first_utc": ("first_utc", "Первый (UTC)"),
    "cli.col.last_utc": ("last_utc", "Последний (UTC)"),
    "cli.col.number": ("number", "Номер"),
    "cli.col.missed_calls": ("missed_calls", "Пропущено"),
    "cli.col.first_missed": ("first_missed", "Первый пропущенный"),
    "cli.col.last_missed": ("last_missed", "Последний пропущенный"),
    "cli.col.did": ("did", "DID"),
    "cli.col.age_h": ("age_h", "Давность, ч"),
    "cli.col.overdue": ("overdue", "Просрочен"),
    "cli.col.unit": ("unit", "Единица"),
    "cli.col.formula": ("formula", "Формула"),
    "cli.col.parameters": ("parameters", "Параметры"),
    "cli.col.description": ("description", "Описание"),
    "cli.col.status": ("status", "Статус"),
    "cli.col.scope": ("scope", "Область"),
    "cli.col.scope_value": ("scope_value", "Значение области"),
    "cli.col.window": ("window", "Окно"),
    "cli.col.period": ("period", "Период"),
    "cli.col.warn": ("warn", "Порог предупреждения"),
    "cli.col.target": ("target", "Целевое значение"),
    "cli.col.fired_utc": ("fired_utc", "Сработало (UTC)"),
    "cli.col.resolved_utc": ("resolved_utc", "Снято (UTC)"),
    "cli.col.last_value": ("last_value", "Последнее значение"),
    "cli.col.loaded": ("loaded", "Загружено"),
    "cli.col.duplicates": ("duplicates", "Дубликаты"),
    "cli.col.loads": ("loads", "Загрузок"),
    "cli.col.timezone": ("timezone", "Часовой пояс"),
    "cli.col.section": ("section", "Раздел"),
    "cli.col.title": ("title", "Название"),
    "cli.col.model": ("model", "Модель"),
    "cli.col.offered": ("offered", "Поступило"),
    "cli.col.agents_needed": ("agents_needed", "Нужно операторов"),
    "cli.col.agents_needed_with_shrinkage": ("agents_needed_with_shrinkage", "Нужно с учётом потерь времени"),
    "cli.col.agents_scheduled": ("agents_scheduled", "По графику"),
    "cli.col.agents_logged_in": ("agents_logged_in", "В системе"),
    # sales, training-effect, qa
    "cli.col.state": ("state", "Состояние"),
    "cli.col.programme": ("programme", "Программа"),
    "cli.col.trained_agents": ("trained_agents", "Обученных операторов"),
    "cli.col.control_agents": ("control_agents", "Операторов в контрольной группе"),
    "cli.col.trained_before": ("trained_before", "Обученные: до"),
    "cli.col.trained_after": ("trained_after", "Обученные: после"),
    "cli.col.untrained_before": ("untrained_before", "Необученные: до"),
    "cli.col.untrained_after": ("untrained_after", "Необученные: после"),
    "cli.col.effect": ("effect", "Эффект"),
    "cli.col.ci_95": ("ci_95", "95 % ДИ"),
    "cli.col.p_value": ("p_value", "p-значение"),
    "cli.col.verdict": ("verdict", "Вывод"),
    "cli.col.handled": ("handled", "Обработано"),
    "cli.col.sampled": ("sampled", "В выборке"),
    "cli.col.rule_new_agent": ("rule_new_agent", "Правило: новый оператор"),
    "cli.col.rule_missed_plan": ("rule_missed_plan", "Правило: ниже плана CQR"),
    "cli.col.rule_long_call": ("rule_long_call", "Правило: длинный звонок"),
    "cli.col.rule_low_csat": ("rule_low_csat", "Правило: низкая оценка клиента"),
    "cli.col.rule_low_adherence": ("rule_low_adherence", "Правило: отклонение от скрипта"),
    "cli.col.talk_s": ("talk_s", "Разговор, с"),
    "cli.col.review_id": ("review_id", "id проверки"),
    "cli.col.version": ("version", "Версия"),
    "cli.col.reviewer": ("reviewer", "Проверяющий"),
    "cli.col.response": ("response", "Ответ оператора"),
    "cli.col.criterion": ("criterion", "Критерий"),
    "cli.col.scored": ("scored", "Оценено"),
    "cli.col.mean_score": ("mean_score", "Средняя оценка"),
    "cli.col.weight": ("weight", "Вес"),
    "cli.col.points_lost": ("points_lost", "Потеряно баллов с весом"),
    "cli.col.zeros": ("zeros", "Нулевых оценок"),
    "cli.col.pairs": ("pairs", "Пары"),
    "cli.col.mean_abs_diff": ("mean_abs_diff", "Среднее расхождение"),
    "cli.col.agreement": ("agreement", "Полное совпадение"),
    "cli.col.na_mismatches": ("na_mismatches", "«н/п» только у одного"),
    "cli.col.needs_work_share": ("needs_work_share", "Доля требующих работы"),
}


def set_language(lang: str | None) -> None:
    """The language of what follows (None: English)."""
    global _lang
    _lang = pick_lang(lang)


def language() -> str:
    return _lang


def russian() -> bool:
    return _lang == "ru"


def say(table: Table, key: str, /, **fields: object) -> str:
    """``key`` of ``table`` in the current language (Russian from the catalogue), with ``{fields}`` filled in."""
    text = translate(key, _lang, table=table)
    return text.format(**fields) if fields else text


def count(table: Plurals, key: str, n: int) -> str:
    """A counted noun: ``1 call``/``5 calls``, ``1 звонок``/``2 звонка``/``5 звонков`` (CLDR, the catalogue's forms)."""
    return ngettext(key, n, _lang, table, number)


def number(value: float | int, decimals: int = 0) -> str:
    """``12 345.6`` (English: grouped by a space) or ``12 345,6`` (Russian by CLDR: a no-break space, a comma)."""
    if _lang == "en":
        return f"{value:,.{decimals}f}".replace(",", " ")
    from callkpi.i18n import format_number

    return format_number(value, decimals, _lang)


def percent(fraction: float, decimals: int = 1) -> str:
    return f"{number(fraction * 100, decimals)}{' ' if _lang == 'en' else NBSP}%"


def day(value: date) -> str:
    """A date as the language writes it: ``2026-03-31`` (ISO) or ``31.03.2026``."""
    if _lang == "en":
        return value.isoformat()
    from callkpi.i18n import format_date

    return format_date(value, _lang)


def moment(value: datetime) -> str:
    """A date and time: ``2026-03-31 14:30:00`` or ``31.03.2026 14:30:00``."""
    if _lang == "en":
        return value.isoformat(sep=" ", timespec="seconds")
    return f"{day(value.date())} {value:%H:%M:%S}"


# Columns whose values are words of the catalogue (the web's tables ``direction.inbound``, ``outcome.answered``).
_WORD_VALUES = {"direction": "direction.", "outcome": "outcome."}


def value_text(column_name: str, value: str) -> str:
    """A text value of a table as the language reads it: a direction or outcome in Russian, a ``day``
    as ``31.03.2026``; any other value (names, ids) as it is."""
    if _lang == "en":
        return value
    prefix = _WORD_VALUES.get(column_name)
    if prefix is not None:
        return lookup(prefix + value, _lang) or value
    if column_name == "day" and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return day(date.fromisoformat(value))
        except ValueError:
            return value
    return value


def column(name: str) -> str | None:
    """A column header that is no metric in the current language, or None when the column has no words."""
    if _lang == "en":
        return None
    key = f"cli.col.{name}"
    if key in TABLE_STRINGS:
        return say(TABLE_STRINGS, key)
    return None


assert set(LANGS) == {"en", "ru"}  # the tables hold these two
