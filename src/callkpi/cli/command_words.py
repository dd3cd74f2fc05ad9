"""What `callkpi copy`, `compact`, `scripts`, `sales`, `training-effect`, `survey-list`, `relink`, `qa`, `serve`,
`user`, `token`, `schedule`, `simulate`, `demo` and `transcribe` say, in English and Russian (the other
commands' words are in :mod:`callkpi.cli.words`). ``say("cli.copy.done", rows=...)`` is the text in the command's
language; ``./dev i18n`` writes the table into the catalogues."""

from __future__ import annotations

from callkpi.report import language

COMMAND_STRINGS: dict[str, tuple[str, str]] = {
    # copy
    "cli.copy.same_store": ("--from and --to name the same store", "--from и --to указывают одно и то же хранилище"),
    "cli.copy.batch_rows": ("--batch-rows must be at least 1", "--batch-rows: нужно не меньше 1"),
    "cli.copy.table": ("  {name}: {rows}", "  {name}: {rows}"),
    "cli.copy.done": ("copied {rows} in {tables} from {origin} to {destination}",
                      "скопировано: {rows} в {tables} из {origin} в {destination}"),
    # compact
    "cli.compact.done": ("compacted {path}: {before} MiB -> {after} MiB",
                         "хранилище {path} сжато: {before} МиБ -> {after} МиБ"),
    "cli.compact.failed": ("the store was left as it was: {error}", "хранилище оставлено как было: {error}"),
    # scripts
    "cli.scripts.version": ("{call_type}: version {version}", "{call_type}: версия {version}"),
    "cli.scripts.no_file": ("{path}: no such file", "{path}: файл не найден"),
    "cli.scripts.no_transcript": ("no transcript of call {call_id}", "нет расшифровки звонка {call_id}"),
    "cli.scripts.summary": ("script {call_type}: done {done}; required, not done: {missed}; forbidden phrases: "
                            "{forbidden}",
                            "скрипт {call_type}: выполнено {done}; обязательные, не выполнены: {missed}; "
                            "запрещённых фраз: {forbidden}"),
    # sales
    "cli.sales.title": ("Sales & money {start} .. {end}", "Продажи и деньги с {start} по {end}"),
    "cli.sales.maturing": ("maturing:", "сделки созревают:"),
    "cli.sales.maturing_text": (
        "calls after {until} have had less than {window} days for their deals; {share} of the deals attributed to "
        "this period's calls are still open, so conversion, revenue and ROI can still grow",
        "у звонков после {until} было меньше {window} дн. на сделки; {share} сделок, атрибутированных звонкам "
        "периода, ещё открыты, поэтому конверсия, выручка и ROI ещё могут вырасти"),
    "cli.sales.cost_incomplete": ("cost incomplete:", "затраты неполные:"),
    "cli.sales.uncosted": ("{agents} with calls have no labour cost (no rate, or no working time for it): {names}",
                           "без затрат на труд (нет ставки или рабочего времени для неё), хотя звонки есть: "
                           "{agents} — {names}"),
    "cli.sales.cohorts_title": ("Deals by the day of their call", "Сделки по дню звонка"),
    "cli.sales.maturing_state": ("maturing", "созревает"),
    "cli.sales.matured_state": ("matured", "созрел"),
    "cli.from_after_to": ("--from is after --to", "--from позже, чем --to"),
    # training-effect
    "cli.training.none": ("no training programme in the database; load a training file with `callkpi ingest`",
                          "в базе нет программ обучения; загрузите файл обучения командой `callkpi ingest`"),
    "cli.training.verdict.improved": ("improved", "улучшение"),
    "cli.training.verdict.worsened": ("worsened", "ухудшение"),
    "cli.training.verdict.no_significant_change": ("no significant change", "значимых изменений нет"),
    "cli.training.verdict.not_enough_data": ("not enough data", "недостаточно данных"),
    "cli.training.title": ("Training effect ({days} each side)", "Эффект обучения ({days} до и после)"),
    # survey-list
    "cli.survey.wrote": ("wrote {path}: {numbers}", "записан файл {path}: {numbers}"),
    # relink
    "cli.relink.done": ("relinked: {counts}", "связи пересобраны: {counts}"),
    # qa
    "cli.qa.version": ("{call_type}: version {version}", "{call_type}: версия {version}"),
    "cli.qa.unknown_rules": ("unknown rule(s) {rules}; known: {known}",
                             "неизвестные правила: {rules}; доступны: {known}"),
    "cli.qa.no_calls": ("no calls loaded; load records with `callkpi ingest`",
                        "звонки не загружены; загрузите данные командой `callkpi ingest`"),
    "cli.qa.sample_title": ("QA sample ({share})", "Выборка на проверку ({share})"),
    "cli.qa.queue_title": ("QA review queue", "Звонки к проверке"),
    "cli.qa.reviews_title": ("QA reviews", "Проверки качества"),
    "cli.qa.weakest_title": ("Weakest criteria per agent", "Самые слабые критерии по операторам"),
    "cli.qa.calibration_title": ("Reviewer calibration (same call, two reviewers)",
                                 "Калибровка проверяющих (один звонок, два проверяющих)"),
    "cli.qa.cqr_title": ("CQR by {dims}", "CQR {dims}"),
    "cli.qa.cqr_by.day": ("day", "по дням"),
    "cli.qa.cqr_by.week": ("week", "по неделям"),
    "cli.qa.cqr_by.month": ("month", "по месяцам"),
    "cli.qa.cqr_by.agent": ("agent", "по операторам"),
    "cli.qa.bad_report": ("report must be weakest, calibration, trend or agents",
                          "отчёт: допустимо weakest, calibration, trend или agents"),
    # serve, user, token
    "cli.serve.admin": ("Created user admin with password {password}",
                        "Создан пользователь admin с паролем {password}"),
    "cli.serve.admin_once": ("(shown once; change it with `callkpi user passwd admin`).",
                             "(пароль показан один раз; сменить — `callkpi user passwd admin`)."),
    "cli.serve.listening": ("callkpi dashboard on http://{host}:{port}/  (API: /api/v1, docs: /docs)",
                            "панель callkpi: http://{host}:{port}/  (API: /api/v1, документация: /docs)"),
    "cli.serve.no_watch_on_clickhouse": (
        "--watch loads into a DuckDB file; on a ClickHouse store load with `callkpi ingest --db URL` "
        "(docs/engines.md)",
        "--watch загружает записи в файл DuckDB; в хранилище ClickHouse загружайте их командой "
        "`callkpi ingest --db URL` (docs/engines.md)"),
    # the server's own log lines (their English is the format the code logs: see serve_cmd._log_like_uvicorn)
    "cli.serve.log.watch_failed": ("watching the record files failed", "не удалось проверить файлы записей"),
    "cli.serve.log.loaded": ("%s: %d new lines loaded, %d quarantined",
                             "%s: загружено новых строк: %d, в карантин: %d"),
    "cli.serve.log.loads_again": ("%s loads again", "%s снова загружается"),
    "cli.serve.log.not_loaded": ("watched file not loaded: %s", "отслеживаемый файл не загружен: %s"),
    "cli.serve.log.report_failed": ("scheduled report %s (%s) failed: %s",
                                    "рассылка отчёта %s (%s) не удалась: %s"),
    "cli.serve.log.schedule_unread": ("schedule %s: %r cannot be read", "рассылка %s: не читается расписание %r"),
    "cli.serve.log.reports_failed": ("running the scheduled reports failed", "не удалось выполнить рассылки отчётов"),
    "cli.serve.log.alerts_failed": ("checking the alerts failed", "не удалось проверить оповещения"),
    "cli.serve.log.webhooks_failed": ("posting alerts to the webhooks failed",
                                      "не удалось отправить оповещения на вебхуки"),
    "cli.serve.log.live_failed": ("following the queue_log for the wallboard failed",
                                  "не удалось следить за queue_log для табло"),
    "cli.serve.log.unhandled": ("unhandled error on %s", "необработанная ошибка на %s"),
    "cli.serve.log.forwarded_failed": ("forwarded command %s failed", "переданная серверу команда %s не удалась"),
    "cli.serve.watching": ("loading what is new in {paths} every {seconds} s",
                           "новые записи из {paths} загружаются каждые {seconds} с"),
    "cli.user.created": ("created {role} {name}", "создан пользователь {name} с ролью {role}"),
    "cli.user.with_password": (" with password {password}", ", пароль {password}"),
    "cli.user.all": ("all", "все"),
    "cli.user.disabled": ("disabled", "отключён"),
    "cli.user.password_changed": ("password of {name} changed", "пароль пользователя {name} изменён"),
    "cli.user.password_to": (" to {password}", ": {password}"),
    "cli.user.deleted": ("deleted {name}", "пользователь {name} удалён"),
    "cli.user.no_user": ("no user {name!r}", "нет пользователя {name!r}"),
    "cli.user.password_prompt": ("password", "пароль"),
    "cli.user.password_repeat": ("the same password again", "пароль ещё раз"),
    "cli.user.password_mismatch": ("the two passwords differ: nothing changed",
                                   "пароли не совпали: ничего не изменено"),
    "cli.user.no_stdin_password": ("--password-stdin: standard input has no password line",
                                   "--password-stdin: во входном потоке нет строки с паролем"),
    "cli.token.revoked": ("revoked {tokens} of {user}", "у пользователя {user} отозвано: {tokens}"),
    "cli.role.admin": ("admin", "администратор"),
    "cli.role.supervisor": ("supervisor", "супервайзер"),
    "cli.role.agent": ("agent", "оператор"),
    # schedule
    "cli.schedule.added": ("schedule {id} added: {report} ({period}, {format}) {every} to {recipients}",
                           "рассылка {id} добавлена: {report} ({period}, {format}) {every}, получатели: "
                           "{recipients}"),
    "cli.schedule.edit_in_web": (" (or edit schedules at /admin/schedules)",
                                 " (или измените рассылки на странице /admin/schedules)"),
    "cli.schedule.never_sent": ("never sent", "ещё не отправлялся"),
    "cli.schedule.all_queues": ("all queues", "все очереди"),
    "cli.schedule.next": ("next {when} {tz}", "следующий {when} {tz}"),
    "cli.schedule.run": ("{status} {when} UTC ({attempts})", "{status} {when} UTC ({attempts})"),
    "cli.schedule.retry": ("; retry at {when} UTC", "; повтор в {when} UTC"),
    "cli.schedule.status.sent": ("sent", "отправлен"),
    "cli.schedule.status.failed": ("failed", "не отправлен"),
    "cli.schedule.status.retrying": ("retrying", "повторяется"),
    "cli.schedule.no_schedule": ("no schedule {id}", "нет рассылки {id}"),
    "cli.schedule.removed": ("schedule {id} removed", "рассылка {id} удалена"),
    "cli.schedule.nothing_due": ("nothing due", "отправлять нечего"),
    # simulate
    "cli.simulate.no_scenario": ("no scenario file {path}", "нет файла сценария {path}"),
    "cli.simulate.scenario": ("scenario: {error}", "сценарий: {error}"),
    "cli.simulate.progress": ("simulating", "моделирование"),
    "cli.simulate.days": ("days", "дн."),
    "cli.simulate.calls": ("{calls} calls", "звонков: {calls}"),
    "cli.simulate.calls_line": ("{calls}, {legs} ({answered}, {abandoned}, {flowed}), {dials}",
                                "{calls}, {legs} ({answered}, {abandoned}, {flowed}), {dials}"),
    "cli.simulate.files_line": ("{files}, {size} MB in {folder}: {names}", "{files}, {size} МБ в {folder}: {names}"),
    "cli.simulate.speed": ("{seconds} s ({rate} calls/s)", "{seconds} с ({rate} звонков/с)"),
    # demo
    "cli.demo.simulating": ("Simulating {days} into {folder}/ …",
                            "Моделирование: {days} в {folder}/ …"),
    "cli.demo.failed": ("simulation failed", "моделирование не удалось"),
    "cli.demo.loading": ("Loading {files} …", "Загрузка: {files} …"),
    "cli.demo.whole": ("Whole period", "Весь период"),
    "cli.demo.by_queue": ("By queue", "По очередям"),
    "cli.demo.by_agent": ("By agent", "По операторам"),
    "cli.demo.speech": ("Script and speech by agent", "Скрипт и речь по операторам"),
    "cli.demo.stages": ("Script stages", "Этапы скрипта"),
    "cli.demo.try": ("Database: {db}. Try: {command}", "База: {db}. Попробуйте: {command}"),
    "cli.demo.dashboard": ("Dashboard on http://127.0.0.1:{port} (Ctrl+C to stop)",
                           "Панель: http://127.0.0.1:{port} (остановить — Ctrl+C)"),
    # transcribe
    "cli.transcribe.bad_lang": ("--lang expects ru or en, got {value!r}",
                                "--lang: допустимо ru или en, получено {value!r}"),
    "cli.transcribe.done": ("{written} written to {out}, {failed} failed",
                            "записано в {out}: {written}; не удалось: {failed}"),
}

COMMAND_PLURALS: dict[str, dict[str, tuple[str, ...]]] = {
    "cli.n_tables": {"en": ("{n} table", "{n} tables"), "ru": ("{n} таблице", "{n} таблицах", "{n} таблицах")},
    "cli.n_agents_uncosted": {"en": ("{n} agent", "{n} agents"),
                              "ru": ("{n} оператор", "{n} оператора", "{n} операторов")},
    "cli.n_numbers": {"en": ("{n} number", "{n} numbers"), "ru": ("{n} номер", "{n} номера", "{n} номеров")},
    "cli.n_tokens": {"en": ("{n} token", "{n} tokens"), "ru": ("{n} токен", "{n} токена", "{n} токенов")},
    "cli.n_attempts": {"en": ("{n} attempt", "{n} attempts"), "ru": ("{n} попытка", "{n} попытки", "{n} попыток")},
    "cli.n_inbound_calls": {"en": ("{n} inbound call", "{n} inbound calls"),
                            "ru": ("{n} входящий звонок", "{n} входящих звонка", "{n} входящих звонков")},
    "cli.n_queue_legs": {"en": ("{n} queue leg", "{n} queue legs"),
                         "ru": ("{n} заход в очередь", "{n} захода в очередь", "{n} заходов в очередь")},
    "cli.n_answered": {"en": ("{n} answered", "{n} answered"), "ru": ("принят {n}", "принято {n}", "принято {n}")},
    "cli.n_abandoned": {"en": ("{n} abandoned", "{n} abandoned"),
                        "ru": ("потерян {n}", "потеряно {n}", "потеряно {n}")},
    "cli.n_flowed_out": {"en": ("{n} flowed out", "{n} flowed out"),
                         "ru": ("перенаправлен {n}", "перенаправлено {n}", "перенаправлено {n}")},
    "cli.n_outbound_dials": {"en": ("{n} outbound dial", "{n} outbound dials"),
                             "ru": ("{n} исходящий набор", "{n} исходящих набора", "{n} исходящих наборов")},
    "cli.n_files": {"en": ("{n} file", "{n} files"), "ru": ("{n} файл", "{n} файла", "{n} файлов")},
    "cli.n_transcripts": {"en": ("{n} transcript", "{n} transcripts"),
                          "ru": ("{n} расшифровка", "{n} расшифровки", "{n} расшифровок")},
    "cli.n_recordings": {"en": ("{n} recording", "{n} recordings"),
                         "ru": ("{n} запись", "{n} записи", "{n} записей")},
}


def say(key: str, /, **fields: object) -> str:
    return language.say(COMMAND_STRINGS, key, **fields)


def counted(key: str, n: int) -> str:
    return language.count(COMMAND_PLURALS, key, n)
