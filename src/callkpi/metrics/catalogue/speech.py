"""Transcript KPIs: script adherence and its stages, forbidden phrases, and what the speaking time
shows (talk/listen split, silence, monologues, interruptions), on the same registry as every KPI.

The facts are the transcripts matched to their calls (timed at the call's start; grouped by agent,
team, queue, campaign and the call type of the script checked) and each stage of the script checked
on each transcript (also by ``script_stage``). How phrases are matched: docs/speech.md.
"""

from __future__ import annotations

from typing import Any

from callkpi.metrics.catalogue._build import REGISTRY, count, measure, metric, stored_or_empty, total
from callkpi.metrics.registry import BuiltFact, Ratio, Value
from callkpi.model.speech_schema import SCRIPT_STAGES, TRANSCRIPTS
from callkpi.storage.lazy import ibis

SPEECH = "speech"
_TABLES = {"transcripts": TRANSCRIPTS, "script_stages": SCRIPT_STAGES}


def _stored(name: str) -> Any:
    return lambda backend: stored_or_empty(backend, name, _TABLES)


_DIMS = {"agent": "agent", "queue": "queue", "campaign": "campaign", "call_type": "call_type"}
REGISTRY.add_fact(BuiltFact("transcripts", "transcripts", "slice_id", _DIMS,
                            "call transcripts, timed at their call's start", build=_stored("transcripts")))
REGISTRY.add_fact(BuiltFact("script_stages", "script_stages", "slice_id", {**_DIMS, "script_stage": "stage"},
                            "each stage of the script checked on each transcript", build=_stored("script_stages")))


def _scripted(t: ibis.Table, p: Any) -> ibis.Value:
    return t.call_type.notnull()


tr_count = count("tr_transcripts", "transcripts", text="count(transcripts)")
tr_scripted = count("tr_scripted", "transcripts", _scripted, text="transcripts checked against a script")
tr_required = total("tr_required", "transcripts", "required_stages", text="sum(required stages of the scripts)")
tr_required_done = total("tr_required_done", "transcripts", "required_done", text="sum(required stages done)")
tr_in_order = count("tr_in_order", "transcripts", lambda t, p: _scripted(t, p) & t.stages_in_order.fill_null(False),
                    text="transcripts whose stages done came in the script's order")
tr_forbidden = count("tr_forbidden", "transcripts", lambda t, p: _scripted(t, p) & (t.forbidden_said > 0),
                     text="transcripts where the agent said a forbidden phrase")
tr_agent = total("tr_agent_speech_s", "transcripts", "agent_speech_s", text="sum(agent speaking time)")
tr_customer = total("tr_customer_speech_s", "transcripts", "customer_speech_s", text="sum(customer speaking time)")
tr_silence = total("tr_silence_s", "transcripts", "silence_s", text="sum(time nobody speaks)")
tr_span = total("tr_span_s", "transcripts", "span_s", text="sum(transcript length)")
tr_monologue = measure("tr_longest_monologue_s", "transcripts", "max", lambda t, p, c: t.agent_longest_monologue_s,
                       empty="null", text="max(the agent's longest monologue)")
tr_interruptions = total("tr_interruptions", "transcripts", "agent_interruptions",
                         text="sum(times the agent started speaking while the customer spoke)")
st_stages = count("st_stages", "script_stages", text="count(stages checked)")
st_done = count("st_done", "script_stages", lambda t, p: t.done.fill_null(False), text="stages done")

metric(
    "transcripts", SPEECH, "count", "neutral", ("Transcribed calls", "Звонки с расшифровкой"),
    ("Call transcripts loaded, at the time of their call.", "Загруженные расшифровки звонков, по времени звонка."),
    kind=Value(tr_count),
)
metric(
    "script_adherence", SPEECH, "ratio", "higher_is_better", ("Script adherence", "Соблюдение скрипта"),
    ("Required stages of the call type's script the agent did (said one of the stage's phrases), over all "
     "required stages, over the transcripts checked against a script.",
     "Обязательные этапы скрипта типа звонка, которые оператор выполнил (произнёс одну из фраз этапа), ко "
     "всем обязательным этапам, по расшифровкам, проверенным по скрипту."),
    kind=Ratio((tr_required_done,), (tr_required,)),
)
metric(
    "stage_completion", SPEECH, "ratio", "higher_is_better", ("Stage completion", "Выполнение этапа"),
    ("Stages done over stages checked (required and optional); by script_stage: how often each stage is done.",
     "Выполненные этапы к проверенным (обязательные и необязательные); по этапам (script_stage): как часто "
     "выполняется каждый этап."),
    kind=Ratio((st_done,), (st_stages,)),
)
metric(
    "script_order_rate", SPEECH, "ratio", "higher_is_better", ("Stages in order", "Этапы по порядку"),
    ("Transcripts whose stages done came in the order of the script, over the transcripts checked.",
     "Расшифровки, в которых выполненные этапы шли в порядке скрипта, к проверенным расшифровкам."),
    kind=Ratio((tr_in_order,), (tr_scripted,)),
)
metric(
    "forbidden_phrase_rate", SPEECH, "ratio", "lower_is_better", ("Forbidden phrases", "Запрещённые фразы"),
    ("Transcripts where the agent said a phrase the script forbids (stop words, competitors, rudeness), over "
     "the transcripts checked.",
     "Расшифровки, в которых оператор произнёс запрещённую скриптом фразу (стоп-слова, конкуренты, грубость), "
     "к проверенным расшифровкам."),
    kind=Ratio((tr_forbidden,), (tr_scripted,)),
)
metric(
    "agent_talk_share", SPEECH, "ratio", "neutral", ("Agent talk share (talk/listen)", "Доля речи оператора"),
    ("The agent's speaking time over the speaking time of both parties: the talk/listen split (0.4 = the agent "
     "talks 40 % and listens 60 %).",
     "Время речи оператора ко времени речи обеих сторон: соотношение «говорит/слушает» (0,4 — оператор говорит "
     "40 % и слушает 60 %)."),
    kind=Ratio((tr_agent,), (tr_agent, tr_customer)),
)
metric(
    "customer_talk_share", SPEECH, "ratio", "neutral", ("Customer talk share", "Доля речи клиента"),
    ("The customer's speaking time over the speaking time of both parties.",
     "Время речи клиента ко времени речи обеих сторон."),
    kind=Ratio((tr_customer,), (tr_agent, tr_customer)),
)
metric(
    "silence_share", SPEECH, "ratio", "lower_is_better", ("Silence", "Доля тишины"),
    ("Time nobody speaks over the length of the transcripts.", "Время, когда никто не говорит, к длине расшифровок."),
    kind=Ratio((tr_silence,), (tr_span,)),
)
metric(
    "longest_monologue_s", SPEECH, "seconds", "lower_is_better", ("Longest monologue", "Самый длинный монолог"),
    ("The agent's longest stretch of speech the customer does not answer into (pauses under 2 s inside it), "
     "the longest in the scope.",
     "Самый длинный отрезок речи оператора, в который клиент не вступает (паузы короче 2 с внутри), "
     "наибольший в выборке."),
    kind=Value(tr_monologue),
)
metric(
    "interruptions_per_call", SPEECH, "per_call", "lower_is_better",
    ("Interruptions per call", "Перебивания на звонок"),
    ("Times the agent started speaking while the customer was speaking, per transcript.",
     "Сколько раз оператор начинал говорить, пока говорил клиент, на одну расшифровку."),
    kind=Ratio((tr_interruptions,), (tr_count,)),
)
