"""`callkpi --help` in Russian: the business commands (missed, sales, training-effect,
scorecard, survey-list, relink, staffing).

Keyed as callkpi.cli.help_text says; `./dev i18n` writes the table into the catalogues.
"""

from __future__ import annotations

BUSINESS_HELP_STRINGS: dict[str, tuple[str, str]] = {
    'cli.help.missed': (
        'Missed calls not yet returned: number, how many times, first/last, queue or DID, age.',
        'Пропущенные без перезвона: номер, сколько раз звонил, первый и последний звонок, очередь или DID, давность.',
    ),
    'cli.help.missed.--from': (
        'first local date of the missed calls',
        'первый день (местное время) пропущенных звонков',
    ),
    'cli.help.missed.--as-of': (
        'count ages up to this UTC time (default: now)',
        'считать давность до этого момента UTC (по умолчанию — сейчас)',
    ),
    'cli.help.sales': (
        'Sales & money of a period: totals, whether its deals are still maturing (calls less than '
        'attribution_window_d before the data end, with the share of their deals still open), the agents with calls '
        'but no labour cost, and the deals by the day of their call (the cohort view).',
        'Продажи и деньги за период: итоги; созревают ли ещё сделки (звонки позже чем за окно атрибуции '
        'attribution_window_d до конца данных и доля их открытых сделок); операторы со звонками, но без затрат на '
        'труд; сделки по дню их звонка (когорты).',
    ),
    'cli.help.sales.--from': (
        'first local date (default: 29 days before --to)',
        'первый день (местное время; по умолчанию — за 29 дней до --to)',
    ),
    'cli.help.sales.--to': (
        'last local date, inclusive (default: the data end)',
        'последний день (местное время), включительно (по умолчанию — конец данных)',
    ),
    'cli.help.sales.--queue': ('only these queues', 'только эти очереди'),
    'cli.help.sales.--param': (
        'NAME=VALUE, e.g. attribution_window_d=14',
        'ИМЯ=ЗНАЧЕНИЕ, например attribution_window_d=14',
    ),
    'cli.help.training-effect': (
        'Did training pay off? Trained agents before vs after, against untrained agents over the same windows '
        '(difference in differences): effect, 95 % confidence interval, p-value, sample sizes and a verdict in words '
        '("not enough data" when it is so).',
        'Окупилось ли обучение? Обученные операторы до и после — против необученных за те же периоды (разность '
        'разностей): эффект, 95-процентный доверительный интервал, p-значение, размеры выборок и вывод словами '
        '(«недостаточно данных», если это так).',
    ),
    'cli.help.training-effect.--programme': (
        'one programme (default: every programme)',
        'одна программа обучения (по умолчанию — все программы)',
    ),
    'cli.help.training-effect.--window-days': ('days before and after the training', 'дней до и после обучения'),
    'cli.help.training-effect.--metrics': (
        'comma list of conversion_rate, aov, arpc, fcr_rate, aht_s, att_s, csat, nps',
        'через запятую, из conversion_rate, aov, arpc, fcr_rate, aht_s, att_s, csat, nps',
    ),
    'cli.help.scorecard': (
        'One agent on one page: calls, handling, missed calls and callbacks, sales and money, CSAT/NPS, quality, '
        'adherence, tenure and trainings, with the team beside (counts per team agent).',
        'Оператор на одной странице: звонки, обработка, пропущенные и перезвоны, продажи и деньги, CSAT/NPS, '
        'качество, соблюдение графика, стаж и обучение — рядом с группой (количества на одного оператора группы).',
    ),
    'cli.help.scorecard.agent': ('agent id', 'id оператора'),
    'cli.help.scorecard.--from': ('first local date', 'первый день (местное время)'),
    'cli.help.scorecard.--format': (
        'auto (a table on a terminal, TSV when piped), table, tsv, json, xlsx',
        '`auto` (таблица в терминале, TSV при выводе в канал), `table`, `tsv`, `json`, `xlsx`',
    ),
    'cli.help.scorecard.--output': (
        'write to this file (needed for xlsx)',
        'записать в этот файл (для xlsx обязательно)',
    ),
    'cli.help.survey-list': (
        'The customers an auto-dial survey campaign should call, as a CSV a dialer accepts: one number per line with '
        'the call it follows up. Load the answers back with `callkpi ingest` (a survey file with call_id, survey_type, '
        'score).',
        'Клиенты для автообзвона с опросом — CSV для автодозвона: по номеру в строке вместе со звонком, по которому '
        'опрос. Ответы загружаются обратно командой `callkpi ingest` (файл опроса со столбцами `call_id`, '
        '`survey_type`, `score`).',
    ),
    'cli.help.survey-list.--since': (
        'first local date of the answered calls',
        'первый день (местное время) отвеченных звонков',
    ),
    'cli.help.survey-list.--until': (
        'last local date (default: all after --since)',
        'последний день (местное время; по умолчанию — всё после --since)',
    ),
    'cli.help.survey-list.--not-surveyed-days': (
        'skip numbers surveyed this recently',
        'пропускать номера, опрошенные за столько последних дней',
    ),
    'cli.help.survey-list.--output': (
        'CSV file for the dialer (default: stdout)',
        'CSV-файл для автодозвона (по умолчанию — стандартный вывод)',
    ),
    'cli.help.survey-list.--queue': ('only calls of these queues', 'только звонки этих очередей'),
    'cli.help.survey-list.--limit': ('at most this many numbers', 'не больше стольких номеров'),
    'cli.help.survey-list.--as-of': (
        "count 'recently' back from this UTC time (default: now)",
        'отсчитывать «последние дни» назад от этого момента UTC (по умолчанию — от текущего)',
    ),
    'cli.help.relink': (
        'Redo what joins business data to calls (deal attribution, survey matching, agent names and teams, headcount '
        'days, adherence, cost allocation): run it after loading calls that arrived after the deals, surveys, costs or '
        'schedules that concern them.',
        'Заново связать бизнес-данные со звонками (атрибуция сделок, сопоставление опросов, имена и группы '
        'операторов, дни численности, соблюдение графика, распределение затрат): запускайте после загрузки звонков, '
        'пришедших позже относящихся к ним сделок, опросов, затрат или графиков.',
    ),
    'cli.help.staffing': (
        'Agents needed per interval beside the agents scheduled and logged in.',
        'Сколько операторов нужно в каждом интервале — рядом с числом операторов по графику и в системе.',
    ),
    'cli.help.staffing.--service-level': (
        'target share answered within T',
        'целевая доля звонков, отвеченных за T секунд (уровень обслуживания)',
    ),
    'cli.help.staffing.--threshold-s': (
        'T in seconds (default sl_threshold_s)',
        'T в секундах (по умолчанию — sl_threshold_s)',
    ),
    'cli.help.staffing.--max-occupancy': ('upper bound of agent occupancy', 'верхняя граница занятости операторов'),
    'cli.help.staffing.--shrinkage': (
        'share of paid time agents are unavailable',
        'доля оплачиваемого времени, когда операторы недоступны (потери времени)',
    ),
    'cli.help.staffing.--model': (
        'auto (Erlang A where callers abandon), erlang-c, erlang-a',
        '`auto` (Erlang A, если звонящие бросают трубку), `erlang-c`, `erlang-a`',
    ),
    'cli.help.staffing.--typical-week': (
        'average week: weekday x time of day',
        'средняя неделя: день недели × время суток',
    ),
    'cli.help.staffing.--format': (
        'auto (a table on a terminal, TSV when piped), table, tsv, json, csv, xlsx',
        '`auto` (таблица в терминале, TSV при выводе в канал), `table`, `tsv`, `json`, `csv`, `xlsx`',
    ),
}
