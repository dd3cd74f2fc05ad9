"""`callkpi --help` in Russian: the help texts of commands and options, keyed by command and option.

``cli.help.<command>`` is a command's whole help (its first paragraph is the line `callkpi --help`
lists), ``cli.help.<command>.summary`` its first paragraph alone where the rest is not translated
yet, ``cli.help.<command>.<option>`` an option's help and ``cli.help.<option>`` the help of an option
several commands share. The English side is the help text as the code writes it (reflowed): a
translation is shown only while its English is still the command's, so a changed English help is
never shown with a stale Russian one. ``./dev i18n`` writes the table into the catalogues.

The table is read only when the language is Russian; English help never imports this module's
users beyond the table itself (no Babel, no catalogue).
"""

from __future__ import annotations

from typing import Any

HELP_STRINGS: dict[str, tuple[str, str]] = {
    # the root command and its options
    "cli.help.callkpi": ("Phone-team KPIs from Asterisk, FreeSWITCH, cloud-PBX and CRM records.",
                         "Показатели работы операторов по записям Asterisk, FreeSWITCH, облачных АТС и CRM."),
    "cli.help.--version": ("print the version and exit", "показать версию и выйти"),
    "cli.help.--lang": (
        "language of the output: en or ru (default: the locale, so LANG=ru_RU.UTF-8 gives ru; CALLKPI_LANG "
        "overrides the locale)",
        "язык вывода: en или ru (по умолчанию — язык системы: при LANG=ru_RU.UTF-8 — ru; CALLKPI_LANG важнее "
        "языка системы)",
    ),
    "cli.help.--install-completion": ("Install completion for the current shell.",
                                      "Установить автодополнение для текущей оболочки."),
    "cli.help.--show-completion": (
        "Show completion for the current shell, to copy it or customize the installation.",
        "Показать скрипт автодополнения для текущей оболочки, чтобы скопировать его или настроить установку.",
    ),
    "cli.help.--help": ("Show this message and exit.", "Показать эту справку и выйти."),
    # options several commands share
    "cli.help.--db": (
        "database file, or a ClickHouse store: chdb:///path/to/dir (in-process) or "
        "clickhouse://user:password@host:8123/db (default: $CALLKPI_DB or ./callkpi.duckdb)",
        "файл базы данных или хранилище ClickHouse: chdb:///path/to/dir (в процессе) или "
        "clickhouse://user:password@host:8123/db (по умолчанию: $CALLKPI_DB или ./callkpi.duckdb)",
    ),
    "cli.help.--tz": ("business time zone, e.g. Europe/Moscow (default: settings)",
                      "часовой пояс работы центра, например Europe/Moscow (по умолчанию — из настроек)"),
    "cli.help.--config": ("settings file (default: $CALLKPI_CONFIG or ./callkpi.toml)",
                          "файл настроек (по умолчанию: $CALLKPI_CONFIG или ./callkpi.toml)"),
    "cli.help.--output": ("write to this file", "записать в этот файл"),
    # kpi, whole
    "cli.help.kpi": (
        "Print KPIs. Rates are fractions in JSON/CSV/TSV, durations seconds, null where undefined.\n\n"
        "A table reads rates as percent and durations as h:mm:ss; without --by it has one row per metric, with "
        "--by a default set of metrics (--metrics chooses, --metrics all shows every one).",
        "Вывести показатели. В JSON/CSV/TSV доли — дробями, длительности — в секундах, null там, где показатель "
        "не определён.\n\n"
        "В таблице доли — в процентах, длительности — как ч:мм:сс; без --by в ней строка на каждый показатель, "
        "с --by — набор показателей по умолчанию (--metrics выбирает, --metrics all показывает все).",
    ),
    "cli.help.kpi.--by": (
        "dimensions, comma separated: agent, team, queue, campaign, direction, source, did, trunk, pause_reason, "
        "hour, day, week, month, interval, weekday, time_of_day",
        "разрезы через запятую: agent (оператор), team (группа), queue (очередь), campaign (кампания), direction "
        "(направление), source (источник), did (номер), trunk (транк), pause_reason (причина паузы), hour (час), "
        "day (день), week (неделя), month (месяц), interval (интервал), weekday (день недели), time_of_day "
        "(время суток)",
    ),
    "cli.help.kpi.--from": ("first local date, e.g. 2026-03-31 or 31.03.2026",
                            "первый день (местное время), например 31.03.2026 или 2026-03-31"),
    "cli.help.kpi.--to": ("last local date (inclusive)", "последний день (включительно)"),
    "cli.help.kpi.--queue": ("only these queues (repeat or comma list)",
                             "только эти очереди (повторите параметр или перечислите через запятую)"),
    "cli.help.kpi.--agent": ("only these agents", "только эти операторы"),
    "cli.help.kpi.--team": ("only these teams", "только эти группы"),
    "cli.help.kpi.--campaign": ("only these campaigns", "только эти кампании"),
    "cli.help.kpi.--direction": ("inbound, outbound, internal",
                                 "направление: inbound (входящие), outbound (исходящие), internal (внутренние)"),
    "cli.help.kpi.--metrics": (
        "metric ids (comma list), or `all`; default: every metric the data supports (a table with --by shows "
        "a default set)",
        "id показателей через запятую или `all`; по умолчанию — все, что позволяют данные (таблица с --by "
        "показывает набор по умолчанию)",
    ),
    "cli.help.kpi.--param": ("NAME=VALUE, e.g. sl_threshold_s=30", "ИМЯ=ЗНАЧЕНИЕ, например sl_threshold_s=30"),
    "cli.help.kpi.--interval-minutes": ("15, 30 or 60", "длина интервала в минутах: 15, 30 или 60"),
    "cli.help.kpi.--format": (
        "auto (a table on a terminal, TSV when piped), table, tsv (tab-separated, a header line of metric ids), "
        "json, csv or xlsx",
        "auto (таблица в терминале, TSV при выводе в канал), table, tsv (через табуляцию, первая строка — id "
        "показателей), json, csv или xlsx",
    ),
    "cli.help.kpi.--explain": (
        "add each metric's definition and parameters, and the KPIs the loaded sources do not record",
        "добавить определение и параметры каждого показателя и показатели, которых нет в загруженных источниках",
    ),
    "cli.help.kpi.--ids": ("metric ids instead of titles in the table's headers",
                           "id показателей вместо названий в заголовках таблицы"),
    # the line `callkpi --help` lists for every other command (the rest of their help: English for now)
    "cli.help.ingest.summary": (
        "Load phone-system records. Loading the same file again adds nothing; a file that grew adds only its new "
        "lines. Bad lines go to the quarantine and the rest still loads.",
        "Загрузить записи АТС. Повторная загрузка того же файла ничего не добавляет; из выросшего файла "
        "добавляются только новые строки. Ошибочные строки уходят в карантин, остальное загружается.",
    ),
    "cli.help.quarantine.summary": (
        "List the lines that could not be loaded, with file, line number and reason.",
        "Показать строки, которые не удалось загрузить: файл, номер строки и причина.",
    ),
    "cli.help.findings.summary": (
        "List data-quality findings: legs without an end, sessions taken from logoff records...",
        "Показать замечания к качеству данных: плечи вызовов без окончания, сеансы, восстановленные по "
        "записям выхода…",
    ),
    "cli.help.sources.summary": ("List what was loaded; `forget ID` removes a source.",
                                 "Показать загруженные источники; `forget ID` удаляет источник."),
    "cli.help.copy.summary": (
        "Copy every table of a store to another (DuckDB <-> ClickHouse), in Arrow batches of bounded size.",
        "Скопировать все таблицы хранилища в другое (DuckDB <-> ClickHouse) пакетами Arrow ограниченного размера.",
    ),
    "cli.help.metrics.summary": ("List every metric: id, unit, formula, parameters, description (EN/RU).",
                                 "Показать все показатели: id, единица, формула, параметры, описание (EN/RU)."),
    "cli.help.simulate.summary": (
        "Simulate a sales contact centre: Asterisk queue_log and CDR, CRM deals, surveys, QA, staff, costs, "
        "schedules, and the ground truth to check KPIs against.",
        "Смоделировать контакт-центр продаж: queue_log и CDR Asterisk, сделки CRM, опросы, оценки качества, "
        "сотрудники, затраты, графики и эталонные значения для проверки показателей.",
    ),
    "cli.help.staffing.summary": ("Agents needed per interval beside the agents scheduled and logged in.",
                                  "Сколько операторов нужно в каждом интервале — рядом с числом операторов по "
                                  "графику и в системе."),
    "cli.help.demo.summary": ("Simulate a 30-agent contact centre, load its records and show the KPIs.",
                              "Смоделировать контакт-центр на 30 операторов, загрузить его записи и показать "
                              "показатели."),
    "cli.help.missed.summary": (
        "Missed calls not yet returned: number, how many times, first/last, queue or DID, age.",
        "Пропущенные без перезвона: номер, сколько раз звонил, первый и последний звонок, очередь или DID, "
        "давность.",
    ),
    "cli.help.sales.summary": (
        "Sales & money of a period: totals, whether its deals are still maturing (calls less than "
        "attribution_window_d before the data end, with the share of their deals still open), the agents with "
        "calls but no labour cost, and the deals by the day of their call (the cohort view).",
        "Продажи и деньги за период: итоги; созревают ли ещё сделки (звонки позже чем за окно атрибуции "
        "attribution_window_d до конца данных и доля их открытых сделок); операторы со звонками, но без затрат "
        "на труд; сделки по дню их звонка (когорты).",
    ),
    "cli.help.training-effect.summary": (
        "Did training pay off? Trained agents before vs after, against untrained agents over the same windows "
        "(difference in differences): effect, 95 % confidence interval, p-value, sample sizes and a verdict in "
        "words (\"not enough data\" when it is so).",
        "Окупилось ли обучение? Обученные операторы до и после — против необученных за те же периоды (разность "
        "разностей): эффект, 95-процентный доверительный интервал, p-значение, размеры выборок и вывод словами "
        "(«недостаточно данных», если это так).",
    ),
    "cli.help.scorecard.summary": (
        "One agent on one page: calls, handling, missed calls and callbacks, sales and money, CSAT/NPS, quality, "
        "adherence, tenure and trainings, with the team beside (counts per team agent).",
        "Оператор на одной странице: звонки, обработка, пропущенные и перезвоны, продажи и деньги, CSAT/NPS, "
        "качество, соблюдение графика, стаж и обучение — рядом с группой (количества на одного оператора "
        "группы).",
    ),
    "cli.help.survey-list.summary": (
        "The customers an auto-dial survey campaign should call, as a CSV a dialer accepts: one number per line "
        "with the call it follows up. Load the answers back with `callkpi ingest` (a survey file with call_id, "
        "survey_type, score).",
        "Клиенты для автообзвона с опросом — CSV для автодозвона: по номеру в строке вместе со звонком, по "
        "которому опрос. Ответы загружаются обратно командой `callkpi ingest` (файл опроса с call_id, "
        "survey_type, score).",
    ),
    "cli.help.relink.summary": (
        "Redo what joins business data to calls (deal attribution, survey matching, agent names and teams, "
        "headcount days, adherence, cost allocation): run it after loading calls that arrived after the deals, "
        "surveys, costs or schedules that concern them.",
        "Заново связать бизнес-данные со звонками (атрибуция сделок, сопоставление опросов, имена и группы "
        "операторов, дни численности, соблюдение графика, распределение затрат): запускайте после загрузки "
        "звонков, пришедших позже относящихся к ним сделок, опросов, затрат или графиков.",
    ),
    "cli.help.qa.summary": ("Call quality: scorecards, the review sample, reviews and QA reports (docs/qa.md).",
                            "Качество звонков: оценочные листы, выборка на прослушивание, оценки и отчёты "
                            "(docs/qa.md)."),
    "cli.help.scripts.summary": ("Call scripts per call type and how transcripts follow them (docs/speech.md).",
                                 "Скрипты разговора по типам звонков и насколько расшифровки им следуют "
                                 "(docs/speech.md)."),
    "cli.help.transcribe.summary": ("Transcribe call recordings into the callkpi transcript layout.",
                                    "Расшифровать записи звонков в формат расшифровок callkpi."),
    "cli.help.serve.summary": ("Run the web dashboard and the REST API (/api/v1, docs at /docs).",
                               "Запустить веб-панель и REST API (/api/v1, документация — /docs)."),
    "cli.help.user.summary": ("Dashboard and API users.", "Пользователи панели и API."),
    "cli.help.token.summary": ("API tokens.", "Токены API."),
    "cli.help.alerts.summary": ("Alerts: KPIs beyond their targets' warning levels.",
                                "Оповещения: показатели за порогами предупреждения своих целей."),
    "cli.help.schedule.summary": ("Reports e-mailed on a schedule.", "Отчёты по электронной почте по расписанию."),
}


def _russian(key: str, english: str | None) -> str | None:
    """The Russian of ``key`` while its English is still ``english`` (else None: keep the English)."""
    pair = HELP_STRINGS.get(key)
    if pair is None or english is None or pair[0] != english:
        return None
    from callkpi.i18n import translate

    return translate(key, "ru", table=HELP_STRINGS)


def command_help(path: str, english: str | None) -> str | None:
    """A command's help in Russian (whole, or its first paragraph translated); the English if neither."""
    whole = _russian(f"cli.help.{path}", english)
    if whole is not None or not english:
        return whole or english
    first, _, rest = english.partition("\n\n")
    whole_pair = HELP_STRINGS.get(f"cli.help.{path}")
    if whole_pair is not None and not rest and whole_pair[0].partition("\n\n")[0] == english:
        return (_russian(f"cli.help.{path}", whole_pair[0]) or english).partition("\n\n")[0]  # the listing's line
    summary = _russian(f"cli.help.{path}.summary", first)
    if summary is None:
        return english
    return f"{summary}\n\n{rest}" if rest else summary


def option_help(path: str, option: str, english: str | None) -> str | None:
    return _russian(f"cli.help.{path}.{option}", english) or _russian(f"cli.help.{option}", english) or english


def translate_command(command: Any, path: str) -> None:
    """Russian help for ``command`` (named ``path``: ``kpi``, ``qa sample``) and its options, in place;
    the English is kept on the command (``_english_help``) so a later English run shows it again."""
    params = _params(command)
    if not hasattr(command, "_english_help"):
        command._english_help = (command.help, command.short_help,
                                 {id(p): p.help for p in params if hasattr(p, "help")})
    help_en, short_en, params_en = command._english_help
    command.help = command_help(path, help_en)
    if short_en:
        command.short_help = command_help(path, short_en)
    for param in params:
        if id(param) in params_en and param.opts:
            param.help = option_help(path, param.opts[0], params_en[id(param)])
    for name, sub in getattr(command, "commands", {}).items():
        translate_command(sub, f"{path} {name}")


def _params(command: Any) -> list[Any]:
    """The command's options with its --help option (click makes that one apart, once)."""
    from typer import Context

    help_option = command.get_help_option(Context(command))
    return [*command.params, *([help_option] if help_option is not None else [])]


def english_command(command: Any) -> None:
    """Undo :func:`translate_command`."""
    saved = getattr(command, "_english_help", None)
    if saved is None:
        return
    command.help, command.short_help, params_en = saved
    for param in _params(command):
        if id(param) in params_en:
            param.help = params_en[id(param)]
    for sub in getattr(command, "commands", {}).values():
        english_command(sub)
