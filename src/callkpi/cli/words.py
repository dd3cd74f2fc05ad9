"""What the CLI says, in English and Russian: the commands' messages, titles, notes and counted nouns.

``t("cli.no_db", path=...)`` is the text in the language of the command (``callkpi --lang``, else the
locale; see :mod:`callkpi.report.language`); ``n("cli.n_calls", 5)`` the counted noun by CLDR plural
rules (``5 звонков``). ``./dev i18n`` writes these tables into the gettext catalogues. The module
imports nothing heavy: every command can import it at its top.
"""

from __future__ import annotations

import re
import textwrap
from functools import cache

from rich.console import Console
from rich.markup import escape

from callkpi.report import language

CLI_STRINGS: dict[str, tuple[str, str]] = {
    # prefixes
    "cli.error": ("error:", "ошибка:"),
    "cli.note": ("note:", "примечание:"),
    # common options and checks
    "cli.no_db": ("{path}: no database yet; load records with `callkpi ingest`",
                  "{path}: базы ещё нет; загрузите данные командой `callkpi ingest`"),
    "cli.settings": ("settings: {error}", "настройки: {error}"),
    "cli.bad_tz": ("--tz: unknown time zone {tz!r} (use an IANA name such as Europe/Moscow)",
                   "--tz: неизвестный часовой пояс {tz!r} (укажите имя IANA, например Europe/Moscow)"),
    "cli.port_busy": ("port {port} on {host} is in use: choose another with --port, e.g. --port {next}",
                      "порт {port} на {host} занят: выберите другой через --port, например --port {next}"),
    "cli.bad_date": ("{option} expects a date such as {forms}, got {value!r}",
                     "{option}: нужна дата вида {forms}, получено {value!r}"),
    "cli.date_forms": ("2026-03-31 or 31.03.2026", "31.03.2026 или 2026-03-31"),
    "cli.bad_moment": ("{option} expects a date-time like 2026-03-31T18:00 or 31.03.2026 18:00, got {value!r}",
                       "{option}: нужны дата и время вида 31.03.2026 18:00 или 2026-03-31T18:00, получено {value!r}"),
    "cli.did_you_mean": (" (did you mean {names}?)", " (возможно, имелось в виду {names}?)"),
    "cli.or": ("or", "или"),
    "cli.bad_format": ("--format must be one of {formats}", "--format: допустимо одно из {formats}"),
    "cli.xlsx_needs_output": ("--format xlsx needs --output FILE", "для --format xlsx нужен --output ФАЙЛ"),
    "cli.wrote": ("wrote {path}", "записан файл {path}"),
    "cli.wrote_rows": ("wrote {path} ({rows})", "записан файл {path} ({rows})"),
    "cli.bad_lang": ("--lang must be en, ru or both", "--lang: допустимо en, ru или both"),
    # kpi
    "cli.unknown_dimension": ("--by: unknown dimension {name!r}{close}; known: {known}",
                              "--by: неизвестное измерение {name!r}{close}; доступны: {known}"),
    "cli.unknown_metric": ("--metrics: unknown metric {name!r}{close}; `callkpi metrics` lists them",
                           "--metrics: неизвестный показатель {name!r}{close}; список — `callkpi metrics`"),
    "cli.no_calls_loaded": ("no calls are loaded yet", "звонки ещё не загружены"),
    "cli.no_calls_in_period": (
        "no calls from {start} to {end}; the calls loaded run from {first} to {last} ({tz})",
        "нет звонков с {start} по {end}; загруженные звонки — с {first} по {last} ({tz})",
    ),
    "cli.kpi_title": ("KPIs ({tz})", "Показатели ({tz})"),
    "cli.kpi_default_set": ("{shown} of {total} metrics (--metrics to choose, --metrics all)",
                            "{shown} из {total} показателей (выбор — --metrics, все — --metrics all)"),
    "cli.handled_note": (
        "Calls handled counts every call an agent talked on, outbound and internal included; "
        "Calls answered counts inbound calls answered in a queue.",
        "«Обработано вызовов» считает каждый разговор оператора, включая исходящие и внутренние; "
        "«Принято» — только входящие вызовы, принятые в очереди.",
    ),
    "cli.not_recorded_by": ("not recorded by {source}:", "не записано в источнике {source}:"),
    # ingest, sources, quarantine, findings
    "cli.status.loaded": ("loaded", "загружен"),
    "cli.status.appended": ("appended", "дополнен"),
    "cli.status.unchanged": ("unchanged", "без изменений"),
    "cli.status.failed": ("failed", "не загружен"),
    "cli.more_issues": ("… {count} more; see `callkpi quarantine`", "… и ещё {count}; см. `callkpi quarantine`"),
    "cli.sources_title": ("Loaded sources", "Загруженные источники"),
    "cli.forgot": ("forgot source {id} {path} ({format}): {rows}, {calls}",
                   "источник {id} {path} ({format}) удалён: {rows}, {calls}"),
    "cli.quarantine_empty": ("quarantine is empty", "карантин пуст"),
    "cli.quarantine_title": ("Quarantined lines", "Строки в карантине"),
    "cli.no_findings": ("no findings", "замечаний нет"),
    "cli.findings_title": ("Data-quality findings", "Замечания к качеству данных"),
    # missed
    "cli.no_missed": ("no missed calls waiting for a callback", "нет пропущенных, ожидающих перезвона"),
    "cli.missed_title": ("Missed calls not returned ({tz}; overdue after {hours} h)",
                         "Пропущенные без перезвона ({tz}; просрочены после {hours} ч)"),
    # staffing
    "cli.bad_model": ("--model must be auto, erlang-c or erlang-a", "--model: допустимо auto, erlang-c или erlang-a"),
    "cli.staffing_title": ("Staffing ({tz}, {minutes} min)",
                           "Расчёт численности операторов ({tz}, интервал {minutes} мин)"),
    # scorecard
    "cli.scorecard_title": ("Scorecard (team: counts per agent, rates for the team)",
                            "Карточка оператора (группа: количества на одного оператора, доли по группе)"),
    "cli.scorecard_head": ("team {team} ({agents})  hired {hired}  tenure {tenure}",
                           "группа {team} ({agents})  принят {hired}  стаж {tenure}"),
    "cli.scorecard_left": ("left {day}", "уволен {day}"),
    "cli.training": ("training", "обучение"),
    # alerts
    "cli.bad_window": ("--window is today, interval or both", "--window: допустимо today, interval или both"),
    "cli.alert_history": ("alert history", "история оповещений"),
    "cli.webhook_failed": ("webhook failed:", "вебхук не доставлен:"),
    "cli.alert.firing": ("FIRING", "СРАБОТАЛО"),
    "cli.alert.bad": ("bad (few calls)", "плохо (мало звонков)"),
    "cli.alert.warn": ("warning", "предупреждение"),
    "cli.alert.good": ("ok", "норма"),
    "cli.alert.none": ("no data", "нет данных"),
    "cli.alert.window.today": ("today", "сегодня"),
    "cli.alert.window.interval": ("interval", "интервал"),
    "cli.alert.scope.all": ("all", "все"),
    "cli.alert.scope.queue": ("queue", "очередь"),
    "cli.alert.scope.team": ("team", "группа"),
    "cli.alert.fired": ("fired", "сработало"),
    "cli.alert.resolved": ("resolved", "снято"),
}

# Counted nouns: "{n}" is the number; English one/other, Russian one/few/many (CLDR), the verb agreeing.
CLI_PLURALS: dict[str, dict[str, tuple[str, ...]]] = {
    "cli.n_calls": {"en": ("{n} call", "{n} calls"), "ru": ("{n} звонок", "{n} звонка", "{n} звонков")},
    "cli.n_lines_read": {"en": ("{n} line read", "{n} lines read"),
                         "ru": ("прочитана {n} строка", "прочитаны {n} строки", "прочитано {n} строк")},
    "cli.n_loaded": {"en": ("{n} loaded", "{n} loaded"),
                     "ru": ("загружена {n}", "загружены {n}", "загружено {n}")},
    "cli.n_quarantined": {"en": ("{n} quarantined", "{n} quarantined"),
                          "ru": ("{n} в карантине", "{n} в карантине", "{n} в карантине")},
    "cli.n_duplicates": {"en": ("{n} duplicate", "{n} duplicates"),
                         "ru": ("{n} дубликат", "{n} дубликата", "{n} дубликатов")},
    "cli.n_calls_in_store": {"en": ("{n} call in store", "{n} calls in store"),
                             "ru": ("в базе {n} звонок", "в базе {n} звонка", "в базе {n} звонков")},
    "cli.n_rows": {"en": ("{n} row", "{n} rows"), "ru": ("{n} строка", "{n} строки", "{n} строк")},
    "cli.n_rows_removed": {"en": ("{n} row removed", "{n} rows removed"),
                           "ru": ("удалена {n} строка", "удалены {n} строки", "удалено {n} строк")},
    "cli.n_calls_rebuilt": {"en": ("{n} call rebuilt", "{n} calls rebuilt"),
                            "ru": ("пересобран {n} звонок", "пересобраны {n} звонка", "пересобрано {n} звонков")},
    "cli.n_agents": {"en": ("{n} agent", "{n} agents"), "ru": ("{n} оператор", "{n} оператора", "{n} операторов")},
    "cli.n_days": {"en": ("{n} day", "{n} days"), "ru": ("{n} день", "{n} дня", "{n} дней")},
    "cli.n_alerts_firing": {"en": ("{n} alert firing", "{n} alerts firing"),
                            "ru": ("сработало {n} оповещение", "сработало {n} оповещения",
                                   "сработало {n} оповещений")},
}


# The messages most loads print (written in English by callkpi.ingest) and the staffing notes: the
# English is the pattern a message is recognised by ({count}, {line}: a number), then the Russian.
MESSAGE_STRINGS: dict[str, tuple[str, str]] = {
    "cli.ingest.nothing_new": ("already loaded; nothing new", "уже загружен; нового нет"),
    "cli.ingest.grew": ("file grew since the last load; reading from line {line}",
                        "файл вырос с прошлой загрузки; читаю со строки {line}"),
    "cli.ingest.repeat_events": (
        "{count} line(s) repeat events another file already loaded; counted once (see `callkpi quarantine`)",
        "повторяющих события из уже загруженного файла строк: {count}; учтены один раз (см. `callkpi quarantine`)",
    ),
    "cli.ingest.repeat_rows": ("{count} row(s) repeat rows already loaded; counted once",
                               "повторяющих уже загруженные строк: {count}; учтены один раз"),
    "cli.ingest.merged": (
        "{count} call(s) are also in the loaded queue_log: merged into those calls (see `callkpi findings` for "
        "differences)",
        "звонков, которые есть и в загруженном queue_log: {count}; объединены с ними (расхождения — "
        "`callkpi findings`)",
    ),
    # why a line went to the quarantine (callkpi.ingest.queue_log and callkpi.ingest.base.gap_reason)
    "cli.reason.not_text": ("not text: binary data or an unknown encoding",
                            "не текст: двоичные данные или неизвестная кодировка"),
    "cli.reason.truncated": (
        "truncated line: {count} field(s); a queue_log line has at least 5 (time|callid|queue|agent|event)",
        "обрезанная строка: полей — {count}; в строке queue_log их не меньше 5 (time|callid|queue|agent|event)",
    ),
    "cli.reason.bad_time": ("time {value} is not a UNIX timestamp or a date-time",
                            "время {value} — не метка времени UNIX и не дата со временем"),
    "cli.reason.bad_event": ("event name {value} is not a queue_log event", "{value} — не событие queue_log"),
    "cli.reason.outside_window": ("time {value} ({moment}) is outside the plausible window {window}",
                                  "время {value} ({moment}) вне правдоподобного окна {window}"),
    "cli.reason.empty_callid": ("empty callid", "пустой callid"),
    "cli.reason.not_a_number": ("{event} needs {meaning} ({field}) as a number, got {value}",
                                "в {event} поле {field} ({meaning}) должно быть числом, а в нём {value}"),
    "cli.reason.out_of_range": ("{event} {field} {value} is out of range: not 0 .. {limit} (ingest.max_duration_s)",
                                "в {event} поле {field} = {value} вне допустимого: не от 0 до {limit} "
                                "(ingest.max_duration_s)"),
    "cli.reason.far_time": (
        "time {moment} UTC is more than {days} days away from the rest of the file (ingest.max_gap_days): taken "
        "for a wrong date, not loaded",
        "время {moment} UTC отстоит от остального файла больше чем на {days} дн. (ingest.max_gap_days): "
        "принято за ошибочную дату, не загружено",
    ),
    # the findings met most (callkpi.ingest.queue_log_model: a queue leg without its end)
    "cli.finding.leg_cut": ("queue leg in {queue} has no closing event (log ends or was cut); outcome unknown",
                            "заход в очередь {queue} без завершающего события (журнал кончается или обрезан); "
                            "исход неизвестен"),
    "cli.finding.leg_cut_answered": (
        "queue leg in {queue} has no closing event (log ends or was cut); answered, talk time unknown",
        "заход в очередь {queue} без завершающего события (журнал кончается или обрезан); принят, время "
        "разговора неизвестно"),
    "cli.finding.leg_restart": (
        "queue leg in {queue} has no closing event; Asterisk restarted at {moment} UTC; outcome unknown",
        "заход в очередь {queue} без завершающего события: Asterisk перезапущен в {moment} UTC; исход неизвестен"),
    "cli.finding.leg_restart_answered": (
        "queue leg in {queue} has no closing event; Asterisk restarted at {moment} UTC; answered, talk time unknown",
        "заход в очередь {queue} без завершающего события: Asterisk перезапущен в {moment} UTC; принят, время "
        "разговора неизвестно"),
    # the notes of `callkpi staffing` (callkpi.analyses.staffing)
    "cli.staffing.no_acw": (
        "after-call work is not recorded by the loaded sources for some intervals; their handle time is talk + hold "
        "(aht_without_acw_s)",
        "в части интервалов источники не содержат постобработку: время обработки там — разговор + удержание "
        "(aht_without_acw_s)",
    ),
    "cli.staffing.no_schedules": ("no schedules are loaded: agents scheduled is unknown",
                                  "графики смен не загружены: число операторов по графику неизвестно"),
    "cli.staffing.no_presence": (
        "the loaded sources record no presence (logged-in sessions): agents logged in is unknown",
        "источники не содержат присутствие (сеансы входа в систему): число операторов в системе неизвестно",
    ),
    # errors of the ingest and of the settings most often met
    "cli.ingest.no_file": ("{path}: no such file", "{path}: файл не найден"),
    "cli.ingest.empty_file": ("{path}: file is empty", "{path}: файл пуст"),
    "cli.ingest.unknown_format": ("unknown format {name}; known: {known}",
                                  "неизвестный формат {name}; доступны: {known}"),
    "cli.unknown_parameter": ("unknown parameter {name}; known: {known}",
                              "неизвестный параметр {name}; доступны: {known}"),
    "cli.param_form": ("--param expects NAME=VALUE, got {value}", "--param: нужно ИМЯ=ЗНАЧЕНИЕ, получено {value}"),
    # what the loads of business files and reviews add (callkpi.ingest.business, callkpi.qa)
    "cli.ingest.default_layout": ("read with the default layout ({kind})",
                                  "прочитан по стандартной схеме столбцов ({kind})"),
    "cli.ingest.generic_layout": ("read with the generic layout ({kind})", "прочитан по общей схеме столбцов ({kind})"),
    "cli.ingest.layout": ("read with the {name} layout ({kind})", "прочитан по схеме столбцов {name} ({kind})"),
    "cli.ingest.reviews_read": ("{count} review(s) read", "прочитано проверок: {count}"),
    "cli.ingest.reviews_again": ("{count} review(s) were already loaded; counted once",
                                 "уже загруженных проверок: {count}; учтены один раз"),
    "cli.ingest.reviews_replaced": ("the file changed since the last load; its reviews are replaced",
                                    "файл изменился с прошлой загрузки; его проверки заменены"),
    "cli.ingest.transcripts_read": ("{count} transcript(s) read", "прочитано расшифровок: {count}"),
    "cli.ingest.transcripts_replaced": ("the file changed since the last load; its transcripts are replaced",
                                        "файл изменился с прошлой загрузки; его расшифровки заменены"),
    "cli.ingest.transcripts_again": ("{count} transcript(s) were already loaded from another file; counted once",
                                     "расшифровок, уже загруженных из другого файла: {count}; учтены один раз"),
    "cli.ingest.rows_replaced": ("the file changed since the last load; its rows are replaced",
                                 "файл изменился с прошлой загрузки; его строки заменены"),
    "cli.ingest.answers_again": ("{count} answer(s) were already loaded from another file; counted once",
                                 "ответов, уже загруженных из другого файла: {count}; учтены один раз"),
    "cli.ingest.costs_again": ("{count} cost line(s) were already loaded from another file; counted once",
                               "строк затрат, уже загруженных из другого файла: {count}; учтены один раз"),
    "cli.ingest.agents_replaced": ("{count} agent(s) replaced rows loaded from earlier files (newest file wins)",
                                   "операторов, заменивших строки из прежних файлов: {count} (действует самый новый "
                                   "файл)"),
    "cli.ingest.deals_replaced": ("{count} deal(s) replaced rows loaded from earlier files (newest file wins)",
                                  "сделок, заменивших строки из прежних файлов: {count} (действует самый новый файл)"),
    "cli.ingest.cel_again": ("{count} row(s) repeat CEL events already loaded; counted once",
                             "строк, повторяющих уже загруженные события CEL: {count}; учтены один раз"),
    "cli.ingest.currencies": (
        "several currencies ({names}): amounts in different currencies are never added (cost figures over them are "
        "null: mixed currencies)",
        "несколько валют ({names}): суммы в разных валютах не складываются (затраты по ним не определены: "
        "валюты смешаны)"),
    # training-effect (callkpi.analyses.training_effect)
    "cli.training.unknown_metrics": ("unknown metric(s) {names}; known: {known}",
                                     "неизвестные показатели: {names}; доступны: {known}"),
    "cli.training.window": ("the window must be at least one day", "окно — не меньше одного дня"),
    # users and tokens (callkpi.web.auth)
    "cli.auth.user_name": ("user names are 1-64 letters, digits and _ . @ -",
                           "имя пользователя — от 1 до 64 букв, цифр и знаков _ . @ -"),
    "cli.auth.role": ("role must be one of {roles}", "роль: допустимо одно из {roles}"),
    "cli.auth.agent": ("an agent user needs --agent ID (the agent id in the phone records)",
                       "пользователю с ролью agent нужен --agent ID (id оператора в записях АТС)"),
    "cli.auth.password": ("passwords have at least {count} characters", "пароль — не короче {count} символов"),
    "cli.auth.exists": ("user {name} exists", "пользователь {name} уже есть"),
    "cli.auth.no_user": ("no user {name}", "нет пользователя {name}"),
    # schedules (callkpi.report.schedule_time, callkpi.web.features.scheduled_reports)
    "cli.schedule.bad_every": ("cannot read {text}: expected e.g. 'mon 09:00', 'daily 07:00', 'monthly 1 09:00'",
                               "не удалось прочитать {text}: нужно, например, 'mon 09:00', 'daily 07:00', "
                               "'monthly 1 09:00'"),
    "cli.schedule.bad_time": ("{text}: no such time of day", "{text}: такого времени суток нет"),
    "cli.schedule.bad_month_day": ("{text}: the day of the month must be 1 to 28 (every month has it)",
                                   "{text}: день месяца — от 1 до 28 (он есть в каждом месяце)"),
    "cli.schedule.bad_day": ("{text}: unknown day {days}; use {known}, daily, weekdays",
                             "{text}: неизвестный день {days}; допустимо {known}, daily, weekdays"),
    "cli.schedule.bad_period": ("period must be one of {periods}", "период: допустимо одно из {periods}"),
    "cli.schedule.bad_report": ("report must be one of {reports}", "отчёт: допустимо одно из {reports}"),
    "cli.schedule.bad_format": ("the {report} report comes as {formats}", "отчёт {report} бывает только {formats}"),
    "cli.schedule.no_recipient": ("give at least one e-mail address (--to a@b.c)",
                                  "укажите хотя бы один адрес e-mail (--to a@b.c)"),
    "cli.schedule.no_smtp": ("MailError: no SMTP server: set [mail] host in the settings",
                             "MailError: SMTP-сервер не задан: укажите host в разделе [mail] настроек"),
    # speech-to-text engines (callkpi.speech.transcribe)
    "cli.speech.not_installed": ("{engine} is not installed: pip install {package}",
                                 "{engine} не установлен: pip install {package}"),
    "cli.speech.no_whisper_model": ("no faster-whisper model at {path} (give the folder of a downloaded model)",
                                    "нет модели faster-whisper в {path} (укажите папку скачанной модели)"),
    "cli.speech.no_vosk_model": ("no Vosk model folder at {path} (give the folder of an unpacked model)",
                                 "нет папки модели Vosk в {path} (укажите папку распакованной модели)"),
    "cli.speech.unknown_engine": ("unknown engine {spec}: faster-whisper, vosk or module:Class",
                                  "неизвестный движок {spec}: допустимо faster-whisper, vosk или module:Class"),
    "cli.speech.wav": ("{name}: 16-bit PCM WAV expected", "{name}: нужен WAV, 16-битный PCM"),
    "cli.speech.whisper_rate": ("{name}: faster-whisper here expects 16 kHz WAV",
                                "{name}: faster-whisper здесь принимает WAV 16 кГц"),
}
_NUMBERS = ("count", "line")  # fields that are counts, written as the language writes numbers


def _pattern(english: str) -> re.Pattern[str]:
    def field(found: re.Match[str]) -> str:
        name = found[1]
        return rf"(?P<{name}>\d+)" if name in _NUMBERS else rf"(?P<{name}>.+?)"

    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", field, re.escape(english)) + "$")


@cache
def _message_patterns() -> dict[str, re.Pattern[str]]:
    """The messages' patterns, made when a message is first translated (not at every start)."""
    return {key: _pattern(english) for key, (english, _) in MESSAGE_STRINGS.items()}


def known_message(text: str) -> str:
    """A message of the ingest in the command's language (one it does not know stays in English)."""
    if not language.russian():
        return text
    for key, pattern in _message_patterns().items():
        if found := pattern.match(text):
            fields = {name: language.number(int(value)) if name in _NUMBERS else value
                      for name, value in found.groupdict().items()}
            return language.say(MESSAGE_STRINGS, key, **fields)
    return text


def t(key: str, /, **fields: object) -> str:
    """The text of ``key`` in the command's language, with ``{fields}`` filled in."""
    return language.say(CLI_STRINGS, key, **fields)


def n(key: str, count: int) -> str:
    """A counted noun in the command's language: ``n("cli.n_calls", 22)`` -> ``22 звонка``."""
    return language.count(CLI_PLURALS, key, count)


def note_line(text: str) -> str:
    """``note: TEXT`` (rich markup, the text escaped) with the note in the command's language."""
    return f"[yellow]{t('cli.note')}[/] {escape(engine_note(text))}"


def print_note(console: Console, text: str, style: str | None = None) -> None:
    """A note under a table: ``note: TEXT`` in the command's language, wrapped between words at the
    console's width, its next lines indented (the CLI's consoles soft-wrap, which would leave one
    endless line to the terminal). ``style``: a plain remark in that style, without ``note:``."""
    prefix = "" if style is not None else t("cli.note") + " "
    body = text if style is not None else engine_note(text)
    lines = textwrap.wrap(prefix + body, width=max(console.width, 20), subsequent_indent="  ",
                          break_long_words=False, break_on_hyphens=False) or [prefix]
    for number, line in enumerate(lines):
        if number == 0 and prefix:
            shown = f"[yellow]{escape(prefix.rstrip())}[/] {escape(line[len(prefix):])}"
        else:
            shown = f"[{style}]{escape(line)}[/]" if style else escape(line)
        console.print(shown, soft_wrap=True)


def engine_note(text: str) -> str:
    """A note of the metric engine (written in English) in the command's language; an unknown one stays."""
    if not language.russian():
        return text
    from callkpi.web.i18n import Locale  # the web's reading of the engine's notes (the same catalogue)

    return Locale("ru").note(text)
