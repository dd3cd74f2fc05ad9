"""`callkpi --help` in Russian: loading and the data (ingest, quarantine, findings,
sources, copy, metrics, simulate, demo, transcribe).

Keyed as callkpi.cli.help_text says; `./dev i18n` writes the table into the catalogues.
"""

from __future__ import annotations

DATA_HELP_STRINGS: dict[str, tuple[str, str]] = {
    'cli.help.ingest': (
        'Load phone-system records. Loading the same file again adds nothing; a file that grew adds only its new '
        'lines. Bad lines go to the quarantine and the rest still loads.\n\n--tz is the business zone (days, hours and '
        "reports); --file-tz the zone the file's times are written in, stored with the source. When the file's own "
        'clock (e.g. the epoch in an Asterisk uniqueid) shows its times are in another zone, the zone it looks like is '
        'named and the exit status is 1: forget the source (`callkpi sources forget ID`) and load it again with '
        "--file-tz.\n\nExit status: 0 all loaded, 1 some lines quarantined or the file's times look wrong, 2 a file "
        'could not be loaded.',
        'Загрузить записи АТС. Повторная загрузка того же файла ничего не добавляет; из выросшего файла добавляются '
        'только новые строки. Ошибочные строки уходят в карантин, остальное загружается.\n\n--tz — часовой пояс работы '
        'центра (дни, часы и отчёты); --file-tz — пояс, в котором записано время в файле, он сохраняется вместе с '
        'источником. Если собственные часы файла (например, время эпохи в `uniqueid` Asterisk) показывают, что время '
        'записано в другом поясе, этот пояс называется и код выхода — 1: удалите источник (`callkpi sources forget '
        'ID`) и загрузите файл снова с --file-tz.\n\nКод выхода: 0 — загружено всё, 1 — часть строк в карантине или '
        'время в файле похоже на ошибочное, 2 — файл не удалось загрузить.',
    ),
    'cli.help.ingest.paths': (
        'files to load, or mysql://user@host/db, postgresql://user@host/db',
        'файлы для загрузки или базы АТС: `mysql://user@host/db`, `postgresql://user@host/db`',
    ),
    'cli.help.ingest.--file-tz': (
        "the zone the file's local times are written in, when it is not the business zone (e.g. UTC); default: --tz, "
        "else the settings' zone",
        'часовой пояс, в котором в файле записано местное время, если он не совпадает с поясом центра (например, '
        'UTC); по умолчанию — --tz, иначе пояс из настроек',
    ),
    'cli.help.ingest.--format': (
        'force a format: transcripts, qa-reviews, sql-dump, asterisk-queue-log, asterisk-queue-log-csv, '
        'pbxware-queue-log-table, asterisk-cel-table, asterisk-cel-csv, generic, asterisk-cdr, freeswitch-cdr-csv, '
        'freeswitch-json-cdr, business-xlsx, deals, surveys, costs, staff, teams, training, schedules',
        'указать формат явно: `transcripts`, `qa-reviews`, `sql-dump`, `asterisk-queue-log`, '
        '`asterisk-queue-log-csv`, `pbxware-queue-log-table`, `asterisk-cel-table`, `asterisk-cel-csv`, `generic`, '
        '`asterisk-cdr`, `freeswitch-cdr-csv`, `freeswitch-json-cdr`, `business-xlsx`, `deals`, `surveys`, `costs`, '
        '`staff`, `teams`, `training`, `schedules`',
    ),
    'cli.help.ingest.--mapping': (
        'mapping of a cloud-PBX export: a TOML/YAML file or a shipped name (twilio, bitrix24, mango, zadarma, '
        'yeastar, elastix-callcenter); see docs/formats.md',
        'сопоставление полей выгрузки облачной АТС: файл TOML/YAML или имя готового (`twilio`, `bitrix24`, `mango`, '
        '`zadarma`, `yeastar`, `elastix-callcenter`); см. docs/formats.md',
    ),
    'cli.help.quarantine': (
        'List the lines that could not be loaded, with file, line number and reason.',
        'Показать строки, которые не удалось загрузить: файл, номер строки и причина.',
    ),
    'cli.help.quarantine.--limit': ('at most this many lines (0 for all)', 'не больше стольких строк (0 — все)'),
    'cli.help.findings': (
        'List data-quality findings: legs without an end, sessions taken from logoff records...',
        'Показать замечания к качеству данных: плечи вызовов без окончания, сеансы, восстановленные по записям выхода…',
    ),
    'cli.help.findings.--format': (
        'auto (a table on a terminal, TSV when piped), table, tsv, json or csv',
        '`auto` (таблица в терминале, TSV при выводе в канал), `table`, `tsv`, `json` или `csv`',
    ),
    'cli.help.sources': (
        'List what was loaded; `forget ID` removes a source.',
        'Показать загруженные источники; `forget ID` удаляет источник.',
    ),
    'cli.help.sources forget': (
        'Remove a source and everything derived from it (its lines, quarantine and findings; the calls, agent time, '
        'rollups and callbacks rebuilt from what remains). Loading the file again then loads it as new, e.g. with '
        'another --file-tz.',
        'Удалить источник и всё, что из него получено (его строки, карантин и замечания; звонки, рабочее время '
        'операторов, сводки и перезвоны пересчитываются по оставшимся данным). Повторная загрузка файла затем '
        'загружает его как новый, например с другим --file-tz.',
    ),
    'cli.help.sources forget.source_id': ('the id `callkpi sources` shows', 'id, который показывает `callkpi sources`'),
    'cli.help.copy': (
        'Copy every table of a store to another (DuckDB <-> ClickHouse), in Arrow batches of bounded '
        'size.\n\n`callkpi kpi --db` the copy then gives the same numbers (docs/engines.md says what runs where).',
        'Скопировать все таблицы хранилища в другое (DuckDB <-> ClickHouse) пакетами Arrow ограниченного '
        'размера.\n\n`callkpi kpi --db` по копии затем даёт те же цифры (где что выполняется — в docs/engines.md).',
    ),
    'cli.help.copy.--to': (
        'the store to fill: chdb:///path/to/dir, clickhouse://user:password@host:8123/db, or a DuckDB file',
        'заполняемое хранилище: `chdb:///path/to/dir`, `clickhouse://user:password@host:8123/db` или файл DuckDB',
    ),
    'cli.help.copy.--from': (
        'the store to read (a DuckDB file or a ClickHouse URL; default: $CALLKPI_DB or ./callkpi.duckdb)',
        'хранилище, из которого читать (файл DuckDB или адрес ClickHouse; по умолчанию: $CALLKPI_DB или '
        './callkpi.duckdb)',
    ),
    'cli.help.copy.--replace': (
        'empty the tables the destination already fills',
        'очистить таблицы, которые в хранилище назначения уже заполнены',
    ),
    'cli.help.copy.--batch-rows': (
        'rows per Arrow batch (bounds the memory used)',
        'строк в пакете Arrow (ограничивает расход памяти)',
    ),
    'cli.help.compact': (
        "Rewrite the store into a new file with only its live rows and the raw events in the order that compresses "
        "best, then put it in the old file's place (the file never shrinks by itself).\n\nNeeds as much free disk "
        "as the store takes, and the store closed elsewhere (stop `callkpi serve`).",
        'Переписать хранилище в новый файл: только действующие строки, исходные события — в порядке, который '
        'лучше сжимается; затем поставить его на место старого (сам файл никогда не уменьшается).\n\nНужно '
        'столько свободного места на диске, сколько занимает хранилище, и хранилище не должно быть открыто '
        'другими процессами (остановите `callkpi serve`).',
    ),
    'cli.help.metrics': (
        'List every metric: id, unit, formula, parameters, description (EN/RU).',
        'Показать все показатели: id, единица, формула, параметры, описание (EN/RU).',
    ),
    'cli.help.metrics.--format': (
        'auto (a table on a terminal, TSV when piped), table, tsv, json or markdown',
        '`auto` (таблица в терминале, TSV при выводе в канал), `table`, `tsv`, `json` или `markdown`',
    ),
    'cli.help.metrics.--lang': (
        'descriptions in en, ru or both (default: both, or ru when the output is Russian)',
        'описания на `en`, `ru` или `both` — на обоих (по умолчанию — на обоих, а при русском выводе — `ru`)',
    ),
    'cli.help.simulate': (
        'Simulate a sales contact centre: Asterisk queue_log and CDR, CRM deals, surveys, QA, staff, costs, '
        'schedules, and the ground truth to check KPIs against.',
        'Смоделировать контакт-центр продаж: queue_log и CDR Asterisk, сделки CRM, опросы, оценки качества, '
        'сотрудники, затраты, графики и эталонные значения для проверки показателей.',
    ),
    'cli.help.simulate.--out': (
        'folder for queue_log, Master.csv, the CRM files and truth_*',
        'папка для queue_log, Master.csv, файлов CRM и truth_*',
    ),
    'cli.help.simulate.--scenario': (
        'scenario TOML (default: the built-in 30-agent Moscow centre)',
        'сценарий в TOML (по умолчанию — встроенный московский центр на 30 операторов)',
    ),
    'cli.help.simulate.--agents': ('agents at the start', 'операторов в начале'),
    'cli.help.simulate.--calls-per-day': (
        'inbound calls per day (weekly average); without --agents the head count scales with it',
        'входящих звонков в день (в среднем за неделю); без --agents численность операторов пропорциональна ему',
    ),
    'cli.help.simulate.--seed': (
        'random seed: the same seed gives the same bytes',
        'начальное значение генератора: с тем же значением получаются те же байты',
    ),
    'cli.help.simulate.--start': (
        'first local date, e.g. 2026-03-02',
        'первый день (местное время), например 2026-03-02',
    ),
    'cli.help.simulate.--timezone': (
        'business time zone, e.g. Europe/Moscow',
        'часовой пояс работы центра, например Europe/Moscow',
    ),
    'cli.help.simulate.--transcripts': (
        "write transcripts of the handled calls from the call types' scripts (transcripts-DATE.json, "
        "truth_transcripts.csv.gz); default: the scenario's (off)",
        'записать расшифровки обслуженных звонков по скриптам типов звонков (transcripts-DATE.json, '
        'truth_transcripts.csv.gz); по умолчанию — как в сценарии (выключено)',
    ),
    'cli.help.simulate.--lang': (
        'language of the transcripts: ru, en or mixed',
        'язык расшифровок: `ru`, `en` или `mixed` (смешанный)',
    ),
    'cli.help.simulate.--transcript-share': (
        'share of the handled calls that get a transcript',
        'доля обслуженных звонков, у которых будет расшифровка',
    ),
    'cli.help.demo': (
        'Simulate a 30-agent contact centre, load its records and show the KPIs.\n\nThe default scenario starts with '
        '30 agents; over the 30 days 2 leave and 2 are hired (32 agents), and the agent report also lists the 3 '
        'extensions calls are transferred to (2001, 2002, 2005). With --serve (the default) the dashboard then runs on '
        '127.0.0.1:--port; a port in use is said before anything is created.',
        'Смоделировать контакт-центр на 30 операторов, загрузить его записи и показать показатели.\n\nВ сценарии по '
        'умолчанию в начале 30 операторов; за 30 дней двое уходят и двое приходят (всего 32 оператора), а в отчёте по '
        'операторам есть и 3 внутренних номера, на которые переводят звонки (2001, 2002, 2005). С --serve (по '
        'умолчанию) затем запускается веб-панель на 127.0.0.1:--port; если порт занят, об этом говорится до того, как '
        'что-либо создано.',
    ),
    'cli.help.demo.--dir': (
        'where the simulated records and database go',
        'куда записать смоделированные записи и базу данных',
    ),
    'cli.help.demo.--days': ('days to simulate', 'сколько дней моделировать'),
    'cli.help.demo.--seed': (
        'random seed (the same seed gives the same records)',
        'начальное значение генератора (с тем же значением получаются те же записи)',
    ),
    'cli.help.demo.--serve': ('open the web dashboard afterwards', 'затем открыть веб-панель'),
    'cli.help.demo.--port': ('port of the dashboard on 127.0.0.1', 'порт веб-панели на 127.0.0.1'),
    'cli.help.demo.--transcripts': (
        'simulate call transcripts too and show the script KPIs',
        'смоделировать и расшифровки звонков и показать показатели скриптов',
    ),
    'cli.help.demo.--lang': (
        'language of the simulated transcripts: ru, en or mixed',
        'язык смоделированных расшифровок: `ru`, `en` или `mixed` (смешанный)',
    ),
    'cli.help.transcribe': (
        'Transcribe call recordings into the callkpi transcript layout.\n\nA recording that fails is reported and the '
        'others go on. Exit status: 0 all written, 1 some recordings failed, 2 the engine cannot run.',
        'Расшифровать записи звонков в формат расшифровок callkpi.\n\nЕсли запись не удалось расшифровать, об этом '
        'сообщается, а остальные обрабатываются дальше. Код выхода: 0 — записано всё, 1 — часть записей не '
        'расшифрована, 2 — движок распознавания не запускается.',
    ),
    'cli.help.transcribe.recordings': (
        'recording files (16-bit WAV; stereo: one party a channel)',
        'файлы записей (16-битный WAV; в стерео — по каналу на каждую сторону разговора)',
    ),
    'cli.help.transcribe.--engine': (
        'faster-whisper, vosk, or module:Class of your own engine',
        '`faster-whisper`, `vosk` или `модуль:Класс` собственного движка',
    ),
    'cli.help.transcribe.--model': (
        "path of the engine's model (downloaded by you)",
        'путь к модели движка (её скачиваете вы сами)',
    ),
    'cli.help.transcribe.--lang': ('language spoken: ru or en', 'язык разговора: `ru` или `en`'),
    'cli.help.transcribe.--out': ('folder for the transcripts (RECORDING.json)', 'папка для расшифровок (ЗАПИСЬ.json)'),
    'cli.help.transcribe.--ingest': (
        'load the transcripts written into --db afterwards',
        'затем загрузить записанные расшифровки в --db',
    ),
}
