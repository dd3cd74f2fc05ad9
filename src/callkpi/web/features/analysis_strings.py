"""English and Russian strings of the training chart, the staffing page and the alerts' data clock,
added to :data:`callkpi.web.i18n.STRINGS` when this module is imported (by the features that use them)."""

from __future__ import annotations

from callkpi.web.i18n import STRINGS

ANALYSIS_STRINGS: dict[str, tuple[str, str]] = {
    # training effect
    "training_before": ("before", "до"),
    "training_after": ("after", "после"),
    "training_chart": ("Before and after, each group's mean with its 95 % interval",
                       "До и после: среднее каждой группы и его 95 % интервал"),
    "training_combined": (
        "Several cohorts (agents trained on the same dates): each is its own comparison with the untrained over "
        "its windows, and the cohorts' effects are combined weighted by their trained agents. Observation counts "
        "show each call once, even where the windows of two cohorts share it.",
        "Несколько потоков (операторы, обученные в одни даты): каждый сравнивается с необученными за свои окна, "
        "эффекты потоков объединяются с весами по числу обученных. Наблюдения посчитаны по одному разу, даже "
        "если вызов попал в окна двух потоков.",
    ),
    # staffing
    "staffing": ("Staffing", "Штат"),
    "staffing_hint": (
        "Per interval: agents needed to answer the interval's calls at the service level (Erlang C, or Erlang A "
        "where callers abandon), from its offered calls and handle time; agents scheduled by the loaded "
        "schedules (work time); agents logged in by the presence records. Averages over the interval.",
        "По интервалам: сколько операторов нужно, чтобы принять вызовы интервала с целевым уровнем сервиса "
        "(Эрланг C или Эрланг A, если абоненты бросают трубку), по числу поступивших вызовов и времени "
        "обработки; сколько запланировано по загруженным графикам (рабочее время); сколько было в системе по "
        "записям присутствия. Средние за интервал.",
    ),
    "staffing_interval": ("Interval", "Интервал"),
    "staffing_offered": ("Offered", "Поступило"),
    "staffing_aht": ("Handle time", "Время обработки"),
    "staffing_needed": ("Needed", "Нужно"),
    "staffing_needed_paid": ("Needed with shrinkage", "Нужно с учётом потерь"),
    "staffing_scheduled": ("Scheduled", "По графику"),
    "staffing_logged_in": ("Logged in", "В системе"),
    "staffing_model": ("Model", "Модель"),
    "staffing_service_level": ("Expected SL", "Ожидаемый SL"),
    "staffing_gap": ("Logged in − needed", "В системе − нужно"),
    "staffing_none": ("No offered calls in this period.", "В этом периоде нет поступивших вызовов."),
    "staffing_no_schedules": ("no schedules loaded", "графики не загружены"),
    "staffing_no_presence": ("no presence recorded", "присутствие не записано"),
    "staffing_shrinkage": ("Shrinkage", "Потери времени"),
    "staffing_target_sl": ("Target SL", "Целевой SL"),
    # alerts
    "alerts_data_day": ("the data's last day", "последний день данных"),
}

STRINGS.update(ANALYSIS_STRINGS)
