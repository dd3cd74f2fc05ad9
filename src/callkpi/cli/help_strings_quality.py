"""`callkpi --help` in Russian: call quality: qa and scripts.

Keyed as callkpi.cli.help_text says; `./dev i18n` writes the table into the catalogues.
"""

from __future__ import annotations

QUALITY_HELP_STRINGS: dict[str, tuple[str, str]] = {
    'cli.help.qa': (
        'Call quality: scorecards, the review sample, reviews and QA reports (docs/qa.md).',
        'Качество звонков: оценочные листы, выборка на прослушивание, оценки и отчёты (docs/qa.md).',
    ),
    'cli.help.qa import-scorecards': (
        'Import scorecards from YAML: a changed scorecard gets a new version, past reviews keep theirs.',
        'Загрузить оценочные листы из YAML: изменённый лист получает новую версию, прошлые оценки остаются со своей.',
    ),
    'cli.help.qa import-scorecards.file': ('YAML file with a `scorecards:` list', 'YAML-файл со списком `scorecards:`'),
    'cli.help.qa import-scorecards.--user': (
        'recorded as the author of the new versions',
        'записывается как автор новых версий',
    ),
    'cli.help.qa queue': ('Sampled calls still waiting for a review.', 'Звонки из выборки, которые ещё ждут оценки.'),
    'cli.help.qa report': (
        "QA reports: the weakest criteria per agent, reviewer calibration, the CQR trend, agents' CQR.",
        'Отчёты по качеству: самые слабые критерии по операторам, калибровка оценщиков, динамика CQR, CQR операторов.',
    ),
    'cli.help.qa report.kind': (
        'weakest | calibration | trend | agents',
        '`weakest` (слабые критерии) | `calibration` (калибровка) | `trend` (динамика) | `agents` (операторы)',
    ),
    'cli.help.qa report.--by': (
        'trend: day, week or month',
        'для `trend`: `day` (по дням), `week` (по неделям) или `month` (по месяцам)',
    ),
    'cli.help.qa report.--param': (
        'NAME=VALUE, e.g. qa_sample_share=0.2',
        'ИМЯ=ЗНАЧЕНИЕ, например qa_sample_share=0.2',
    ),
    'cli.help.qa reviews': (
        'Reviews (latest version of each), newest first.',
        'Оценки (последняя версия каждой), сначала новые.',
    ),
    'cli.help.qa sample': (
        "Draw qa_sample_share of each agent's handled calls per day, stratified by agent and call type.",
        'Отобрать долю qa_sample_share обслуженных звонков каждого оператора за день, с расслоением по операторам и '
        'типам звонков.',
    ),
    'cli.help.qa sample.--day': (
        'one local day (default: the latest day with calls)',
        'один день (местное время; по умолчанию — последний день со звонками)',
    ),
    'cli.help.qa sample.--from': ('first day of a range', 'первый день периода'),
    'cli.help.qa sample.--to': ('last day of a range', 'последний день периода'),
    'cli.help.qa sample.--seed': (
        'the same seed draws the same calls',
        'с тем же начальным значением отбираются те же звонки',
    ),
    'cli.help.qa sample.--rule': (
        'also pick by rule: new_agent, missed_plan, long_call, low_csat, low_adherence',
        'отбирать и по правилу: `new_agent` (новый оператор), `missed_plan` (план не выполнен), `long_call` (долгий '
        'звонок), `low_csat` (низкий CSAT), `low_adherence` (слабое следование скрипту)',
    ),
    'cli.help.qa sample.--min-talk-s': (
        'skip shorter calls (default: short_call_s)',
        'пропускать более короткие звонки (по умолчанию — short_call_s)',
    ),
    'cli.help.qa sample.--adherence-below': (
        "--rule low_adherence: calls whose transcript's script adherence is below this share",
        'для --rule low_adherence: звонки, в расшифровке которых следование скрипту ниже этой доли',
    ),
    'cli.help.qa scorecards': (
        'Export every scorecard (latest versions) as YAML; the defaults are created on first use.',
        'Выгрузить все оценочные листы (последние версии) в YAML; листы по умолчанию создаются при первом обращении.',
    ),
    'cli.help.qa scorecards.--output': (
        'write the YAML to this file (default: print it)',
        'записать YAML в этот файл (по умолчанию — вывести на экран)',
    ),
    'cli.help.scripts': (
        'Call scripts per call type and how transcripts follow them (docs/speech.md).',
        'Скрипты разговора по типам звонков и насколько расшифровки им следуют (docs/speech.md).',
    ),
    'cli.help.scripts export': (
        'Export the scripts in force (the shipped defaults until some are imported) as YAML.',
        'Выгрузить действующие скрипты в YAML (пока ни один не загружен — поставляемые по умолчанию).',
    ),
    'cli.help.scripts import': (
        'Import scripts from YAML (a changed script gets a new version) and check every transcript again.',
        'Загрузить скрипты из YAML (изменённый скрипт получает новую версию) и заново проверить все расшифровки.',
    ),
    'cli.help.scripts import.file': ('YAML file with a `scripts:` list', 'YAML-файл со списком `scripts:`'),
    'cli.help.scripts show': (
        "One call's transcript: who said what when, and the script stages the agent did (marked).",
        'Расшифровка одного звонка: кто, что и когда сказал, и какие этапы скрипта оператор выполнил (отмечены).',
    ),
    'cli.help.scripts show.call_id': (
        'the call (its call id, or the id its transcript names)',
        'звонок (его id или id, указанный в его расшифровке)',
    ),
    'cli.help.scripts show.--json': ('the transcript as JSON', 'расшифровка в JSON'),
    'cli.help.scripts stages-vs-deals': (
        'Per agent and script stage: completion on calls that led to a won deal vs on the other calls (agent * is '
        'every agent).',
        'По операторам и этапам скрипта: выполнение в звонках, которые привели к выигранной сделке, и в остальных '
        'звонках (оператор * — все операторы).',
    ),
    'cli.help.scripts stages-vs-deals.--agent': (
        'only these agents (repeat or comma-separate)',
        'только эти операторы (повторите параметр или перечислите через запятую)',
    ),
    'cli.help.scripts stages-vs-deals.--json': ('the rows as JSON', 'строки в JSON'),
}
