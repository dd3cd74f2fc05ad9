"""The dimensions KPIs can be grouped by (`--by`), with their names in English and Russian."""

from __future__ import annotations

DIMENSIONS: dict[str, tuple[str, str]] = {
    "agent": ("Agent", "Оператор"),
    "team": ("Team", "Группа"),
    "queue": ("Queue", "Очередь"),
    "campaign": ("Campaign", "Кампания"),
    "direction": ("Direction", "Направление"),
    "source": ("Source", "Источник"),
    "did": ("Dialled number (DID)", "Набранный номер (DID)"),
    "trunk": ("Trunk", "Транк"),
    "pause_reason": ("Pause reason", "Причина паузы"),
    "hour": ("Hour", "Час"),
    "day": ("Day", "День"),
    "week": ("Week", "Неделя"),
    "month": ("Month", "Месяц"),
    "interval": ("Interval", "Интервал"),
    "weekday": ("Weekday (1 = Monday)", "День недели (1 = понедельник)"),
    "time_of_day": ("Time of day (interval start)", "Время суток (начало интервала)"),
    "call_type": ("Call type (scorecard)", "Тип звонка (анкета)"),
    "script_stage": ("Script stage", "Этап скрипта"),
}
