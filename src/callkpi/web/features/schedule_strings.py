"""English and Russian strings of the scheduled-reports admin page (added to :data:`callkpi.web.i18n.STRINGS`)."""

from __future__ import annotations

SCHEDULE_STRINGS: dict[str, tuple[str, str]] = {
    "schedules": ("Scheduled reports", "Отчёты по расписанию"),
    "schedules_hint": (
        "Reports e-mailed on a schedule, in the business time zone. The server sends them when due; "
        "a failed send is tried again later (1, 4, 16, 64 minutes..., up to 6 tries).",
        "Отчёты, которые приходят по почте по расписанию (время бизнеса). Сервер отправляет их в срок; "
        "неудачная отправка повторяется позже (через 1, 4, 16, 64 минуты..., до 6 попыток)."),
    "schedule_every": ("When", "Когда"),
    "schedule_report": ("Report", "Отчёт"),
    "schedule_period": ("Period", "Период"),
    "schedule_format": ("Format", "Формат"),
    "schedule_to": ("To", "Кому"),
    "schedule_queues": ("Queues (comma list, empty: all)", "Очереди (через запятую, пусто: все)"),
    "schedule_agent": ("Agent (scorecard)", "Оператор (карточка)"),
    "schedule_lang": ("Language", "Язык"),
    "schedule_next": ("Next run", "Следующий запуск"),
    "schedule_last": ("Last send", "Последняя отправка"),
    "schedule_never": ("never sent", "ещё не отправлялся"),
    "schedule_run_now": ("Send now", "Отправить сейчас"),
    "schedule_log": ("Send log", "Журнал отправок"),
    "schedule_attempts": ("Attempts", "Попытки"),
    "schedule_retry": ("Next try", "Следующая попытка"),
    "schedule_none": ("No scheduled report yet.", "Отчётов по расписанию пока нет."),
    "schedule_status.sent": ("sent", "отправлен"),
    "schedule_status.failed": ("failed, will retry", "ошибка, будет повтор"),
    "schedule_status.gave_up": ("failed, gave up", "ошибка, попытки исчерпаны"),
    "schedule_error": ("Error", "Ошибка"),
}
