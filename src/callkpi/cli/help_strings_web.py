"""`callkpi --help` in Russian: the server and its users (serve, user, token, alerts,
schedule).

Keyed as callkpi.cli.help_text says; `./dev i18n` writes the table into the catalogues.
"""

from __future__ import annotations

WEB_HELP_STRINGS: dict[str, tuple[str, str]] = {
    'cli.help.serve': (
        'Run the web dashboard and the REST API (/api/v1, docs at /docs).\n\nThe first run on a store without users '
        'creates `admin` and prints its password once. With --watch the server loads what is new in those files every '
        '--watch-every seconds (the Asterisk queue_log, cdr-csv/Master.csv...), so the dashboard and wallboard follow '
        "the day's calls.",
        'Запустить веб-панель и REST API (/api/v1, документация — /docs).\n\nПри первом запуске на хранилище без '
        'пользователей создаётся `admin`, и его пароль выводится один раз. С --watch сервер каждые --watch-every '
        'секунд загружает новое из указанных файлов (queue_log Asterisk, cdr-csv/Master.csv…), так что панель и табло '
        'следят за звонками дня.',
    ),
    'cli.help.serve.--host': (
        'address to listen on (0.0.0.0 for all)',
        'адрес, на котором принимать подключения (0.0.0.0 — на всех)',
    ),
    'cli.help.serve.--port': ('TCP port', 'порт TCP'),
    'cli.help.serve.--secure-cookies': ('cookies only over HTTPS (behind TLS)', 'cookie только по HTTPS (за TLS)'),
    'cli.help.serve.--watch': (
        'a record file (or a directory of them) to load new lines from while serving, or a mysql:// or postgresql:// '
        'PBX database to poll every [sql] poll_s; repeat',
        'файл записей (или папка с ними), из которого во время работы загружаются новые строки, или база АТС '
        '`mysql://` или `postgresql://`, опрашиваемая каждые [sql] poll_s секунд; можно повторять',
    ),
    'cli.help.serve.--watch-every': (
        'seconds between two looks at the --watch files',
        'секунд между двумя проверками файлов --watch',
    ),
    'cli.help.serve.--tz': (
        'business time zone, e.g. Europe/Moscow, as `ingest --tz` (default: settings, else the zone given at ingest); '
        'the local times of --watch files are read in it',
        'часовой пояс работы центра, например Europe/Moscow, как у `ingest --tz` (по умолчанию — из настроек, иначе '
        'пояс, указанный при загрузке); в нём читается местное время файлов --watch',
    ),
    'cli.help.user': ('Dashboard and API users.', 'Пользователи панели и API.'),
    'cli.help.user add': (
        'Create a dashboard/API user (password hashed with argon2id). The password is asked for twice, hidden, unless '
        '--password-stdin, --generate or --password gives it.',
        'Создать пользователя панели и API (пароль хранится в виде хеша argon2id). Пароль запрашивается дважды, без '
        'показа на экране, если его не дают --password-stdin, --generate или --password.',
    ),
    'cli.help.user add.name': ('user name', 'имя пользователя'),
    'cli.help.user add.--role': (
        'admin, supervisor or agent',
        '`admin` (администратор), `supervisor` (супервизор) или `agent` (оператор)',
    ),
    'cli.help.user add.--agent': (
        'agent id (agent role): what they may see',
        'id оператора (для роли `agent`): что ему видно',
    ),
    'cli.help.user add.--queues': (
        'queues a supervisor sees (default all)',
        'очереди, которые видит супервизор (по умолчанию — все)',
    ),
    'cli.help.user add.--teams': (
        'teams a supervisor sees (default all)',
        'группы, которые видит супервизор (по умолчанию — все)',
    ),
    'cli.help.user add.--password': (
        'the password on the command line (other users of the machine see it in the process list and it stays in the '
        'shell history: prefer the prompt or --password-stdin)',
        'пароль в командной строке (другие пользователи машины видят его в списке процессов, и он остаётся в истории '
        'оболочки: лучше ввести его по запросу или через --password-stdin)',
    ),
    'cli.help.user add.--password-stdin': (
        'read the password from the first line of standard input (for scripts)',
        'прочитать пароль из первой строки стандартного ввода (для скриптов)',
    ),
    'cli.help.user passwd.--password-stdin': (
        'read the password from the first line of standard input (for scripts)',
        'прочитать пароль из первой строки стандартного ввода (для скриптов)',
    ),
    'cli.help.user add.--generate': (
        'generate a password and print it once',
        'сгенерировать пароль и показать его один раз',
    ),
    'cli.help.user delete': ('Delete a user and their API tokens.', 'Удалить пользователя и его токены API.'),
    'cli.help.user list': ('List users and what they may see.', 'Показать пользователей и что им видно.'),
    'cli.help.user passwd': (
        "Set a user's password (their open sessions end).",
        'Задать пароль пользователя (его открытые сеансы завершаются).',
    ),
    'cli.help.token': ('API tokens.', 'Токены API.'),
    'cli.help.token create': (
        'Create an API token (printed once; use it as `Authorization: Bearer TOKEN`), or with --wallboard a wallboard '
        'key for a TV (open /wallboard?key=TOKEN).',
        'Создать токен API (показывается один раз; передавайте его как `Authorization: Bearer TOKEN`) или, с '
        '--wallboard, ключ табло для телевизора (откройте /wallboard?key=TOKEN).',
    ),
    'cli.help.token create.user': ('the user the token acts as', 'пользователь, от имени которого действует токен'),
    'cli.help.token create.--label': ('what the token is for', 'для чего токен'),
    'cli.help.token create.--wallboard': (
        "a read-only token for a TV: opens only /wallboard?key=TOKEN (kiosk view, the user's scope), never the API or "
        'other pages',
        'токен только для чтения для телевизора: открывает только /wallboard?key=TOKEN (режим киоска, в пределах '
        'доступа пользователя) и никогда — API или другие страницы',
    ),
    'cli.help.token revoke': ('Revoke every API token of a user.', 'Отозвать все токены API пользователя.'),
    'cli.help.alerts': (
        "Alerts: KPIs beyond their targets' warning levels.",
        'Оповещения: показатели за порогами предупреждения своих целей.',
    ),
    'cli.help.alerts check': (
        'Compare every target with its KPI; exit status 1 while an alert fires.',
        'Сравнить каждую цель с её показателем; код выхода 1, пока срабатывает оповещение.',
    ),
    'cli.help.alerts check.--db': (
        'database file (default: $CALLKPI_DB or ./callkpi.duckdb)',
        'файл базы данных (по умолчанию: $CALLKPI_DB или ./callkpi.duckdb)',
    ),
    'cli.help.alerts check.--window': (
        'today, interval or both',
        '`today` (сегодня), `interval` (текущий интервал) или `both` (оба)',
    ),
    'cli.help.alerts check.--as-of': (
        "check as of this UTC time (YYYY-MM-DD HH:MM), 'data-end' for the last call loaded, or 'now' (default: now, "
        "or the data's end when the data is not live)",
        'проверить на этот момент UTC (ГГГГ-ММ-ДД ЧЧ:ММ), `data-end` — на последний загруженный звонок или `now` — на '
        'текущий момент (по умолчанию — сейчас, а если данные не поступают в реальном времени — конец данных)',
    ),
    'cli.help.alerts check.--notify': (
        'record fired/resolved alerts and post them to the webhooks',
        'записать сработавшие и снятые оповещения и отправить их на веб-хуки',
    ),
    'cli.help.alerts check.--all': (
        'list every target checked, not only the firing ones',
        'показать все проверенные цели, а не только сработавшие',
    ),
    'cli.help.alerts check.--format': (
        'auto (a table on a terminal, TSV when piped), table, tsv, json',
        '`auto` (таблица в терминале, TSV при выводе в канал), `table`, `tsv`, `json`',
    ),
    'cli.help.alerts history': (
        'Alerts that fired, newest first, with when they resolved (empty: still firing).',
        'Сработавшие оповещения, сначала новые, и когда они снялись (пусто — ещё действует).',
    ),
    'cli.help.alerts history.--since': (
        'fired on or after this day (YYYY-MM-DD, UTC)',
        'сработавшие в этот день или позже (ГГГГ-ММ-ДД, UTC)',
    ),
    'cli.help.schedule': ('Reports e-mailed on a schedule.', 'Отчёты по электронной почте по расписанию.'),
    'cli.help.schedule add': (
        'Add a scheduled report; prints its id.',
        'Добавить отчёт по расписанию; выводит его id.',
    ),
    'cli.help.schedule add.--every': (
        "when, in the business time zone: 'mon 09:00', 'mon,thu 08:30', 'daily 07:00', 'weekdays 09:00', 'monthly 1 "
        "09:00'",
        'когда, по часовому поясу центра: `mon 09:00` (по понедельникам), `mon,thu 08:30`, `daily 07:00` (ежедневно), '
        '`weekdays 09:00` (по будням), `monthly 1 09:00` (ежемесячно, 1-го числа)',
    ),
    'cli.help.schedule add.--report': (
        'overview, agents, sales, qa or scorecard',
        '`overview` (обзор), `agents` (операторы), `sales` (продажи), `qa` (качество) или `scorecard` (карточка '
        'оператора)',
    ),
    'cli.help.schedule add.--period': (
        'last-day, last-week, last-7-days, last-month or last-30-days (before the run)',
        '`last-day` (прошлый день), `last-week` (прошлая неделя), `last-7-days` (последние 7 дней), `last-month` '
        '(прошлый месяц) или `last-30-days` (последние 30 дней) — до запуска',
    ),
    'cli.help.schedule add.--format': ('pdf (overview only) or xlsx', '`pdf` (только для обзора) или `xlsx`'),
    'cli.help.schedule add.--to': (
        'recipient e-mail address; repeat',
        'адрес электронной почты получателя; можно повторять',
    ),
    'cli.help.schedule add.--queue': (
        'only these queues; repeat (default all)',
        'только эти очереди; можно повторять (по умолчанию — все)',
    ),
    'cli.help.schedule add.--agent': ('the agent of a scorecard report', 'оператор для отчёта `scorecard`'),
    'cli.help.schedule add.--lang': ('en or ru', '`en` или `ru`'),
    'cli.help.schedule list': (
        'The schedules, their next run and the last send of each (status, attempts, error).',
        'Расписания, их следующий запуск и последняя отправка каждого (состояние, попытки, ошибка).',
    ),
    'cli.help.schedule remove': ('Remove a schedule and its send log.', 'Удалить расписание и журнал его отправок.'),
    'cli.help.schedule remove.schedule_id': ('the id `schedule list` shows', 'id, который показывает `schedule list`'),
    'cli.help.schedule run-due': (
        'Send every report that is due and retry failed sends whose time has come (for cron: e.g. every 5 minutes); '
        'exit 1 when a send failed.',
        'Отправить все отчёты, которым пришло время, и повторить неудавшиеся отправки, срок повтора которых наступил '
        '(для cron: например, каждые 5 минут); код выхода 1, если отправка не удалась.',
    ),
    'cli.help.schedule run-due.--now': (
        'as of this UTC time (YYYY-MM-DDTHH:MM; default now)',
        'на этот момент UTC (ГГГГ-ММ-ДДTЧЧ:ММ; по умолчанию — сейчас)',
    ),
    'cli.help.schedule run-now': (
        "Send a schedule's report now (for its period as of today); exit 1 when it could not be sent.",
        'Отправить отчёт расписания сейчас (за его период на сегодня); код выхода 1, если отправить не удалось.',
    ),
}
