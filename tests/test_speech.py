"""Transcripts and scripts (issue 20): reading the layouts, the speaking-time figures, stage detection
against the stages a person marked, and the transcript KPIs by agent.

tests/transcripts/marked.json holds 12 hand-written qualification calls (8 Russian, 4 English) with
``marked``: the stages a person heard the agent do, and ``marked_forbidden``: whether the agent said
a phrase the script forbids. They include what a matcher must get right: word forms ("оформим
заказ" for "оформить заказ"), recognition errors ("кампания", "завут", "заказик"), a customer saying
a stage's phrase (it does not count), an optional stage (objections) and skipped stages.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callkpi.config import Settings
from callkpi.ingest.formats import load_file
from callkpi.speech.stats import speech_stats
from callkpi.speech.transcript import AGENT, CUSTOMER, parse_json, parse_text
from callkpi.storage import Store
from conftest import T0, by_key, kpis, load_text, ql_line, query_rows, total

MARKED = Path(__file__).parent / "transcripts" / "marked.json"
REQUIRED = ("greeting", "needs", "presentation", "close", "farewell")  # of the shipped qualification script
# Floors of stage detection on the marked calls (measured: precision 1.00, recall 0.95: the two
# greetings without "здравствуйте ... компания" or "меня зовут" in that order are missed).
PRECISION_FLOOR, RECALL_FLOOR = 0.95, 0.90


def _marked() -> list[dict]:
    return json.loads(MARKED.read_text(encoding="utf-8"))["transcripts"]


@pytest.fixture
def marked_store(store: Store) -> Store:
    report = load_file(store, MARKED, Settings(), timezone="UTC")
    assert (report.format, report.lines_read, report.lines_loaded, report.quarantined) == ("transcripts", 12, 12, 0)
    return store


def test_stage_detection_against_the_stages_a_person_marked(marked_store: Store) -> None:
    found = {r["call"]: set(r["done"] or []) for r in query_rows(marked_store, """
        SELECT t.call_id_given AS call, list(s.stage) FILTER (WHERE s.done) AS done
        FROM transcripts t JOIN script_stages s USING (transcript_id) GROUP BY ALL""")}
    tp = fp = fn = 0
    for call in _marked():
        marked, got = set(call["marked"]), found[call["call_id"]]
        tp, fp, fn = tp + len(got & marked), fp + len(got - marked), fn + len(marked - got)
    assert tp / (tp + fp) >= PRECISION_FLOOR
    assert tp / (tp + fn) >= RECALL_FLOOR


def test_transcript_kpis_follow_the_marks(marked_store: Store) -> None:
    calls = _marked()
    row = total(marked_store, metrics=["transcripts", "script_adherence", "forbidden_phrase_rate"])
    assert row["transcripts"] == 12
    by_marks = sum(len(set(c["marked"]) & set(REQUIRED)) for c in calls) / (len(REQUIRED) * len(calls))
    assert abs(row["script_adherence"] - by_marks) <= 0.05  # 40 / 60 by the marks
    assert row["forbidden_phrase_rate"] == sum(c["marked_forbidden"] for c in calls) / len(calls)  # 3 / 12
    stages = by_key(kpis(marked_store, ["script_stage"], metrics=["stage_completion"]), "script_stage")
    objections = sum("objections" in c["marked"] for c in calls) / len(calls)  # optional: 2 of 12
    assert stages["objections"]["stage_completion"] == pytest.approx(objections)


def test_speaking_time_worked_out_by_hand() -> None:
    vtt = """WEBVTT

00:00:00.000 --> 00:00:04.000
<v Оператор>Добрый день, компания Окна Плюс, меня зовут Анна.

00:00:03.000 --> 00:00:06.000
<v Клиент>Да, здравствуйте.

00:00:08.000 --> 00:00:10.000
Оператор: Чем могу помочь?

00:00:10.500 --> 00:00:20.000
Оператор: Могу предложить вам профиль эконом.

00:00:12.000 --> 00:00:13.000
Клиент: ага

00:00:21.000 --> 00:00:25.000
Клиент: Спасибо, подумаю.

00:00:24.000 --> 00:00:26.000
Оператор: Всего доброго.
"""
    (transcript,) = parse_text(vtt, "1")
    assert [u.speaker for u in transcript.utterances] == [AGENT, CUSTOMER, AGENT, AGENT, CUSTOMER, CUSTOMER, AGENT]
    stats = speech_stats(transcript.utterances)
    assert stats.span_s == 26.0
    assert stats.agent_speech_s == 4 + 2 + 9.5 + 2  # 0-4, 8-10, 10.5-20, 24-26
    assert stats.customer_speech_s == 3 + 1 + 4  # 3-6, 12-13, 21-25
    # speech covers 0-6, 8-10, 10.5-20, 21-26: silence 6-8, 10-10.5, 20-21
    assert stats.silence_s == 3.5
    # 8-20 is one monologue (a 0.5 s pause; the customer's "ага" inside it does not end it)
    assert stats.agent_longest_monologue_s == 12.0
    assert (stats.agent_interruptions, stats.customer_interruptions) == (1, 2)  # 24 s; 3 s and 12 s


def test_speechkit_voicekit_and_srt_layouts() -> None:
    speechkit = {"response": {"chunks": [
        {"channelTag": "1", "alternatives": [{"text": "добрый день", "startTime": "0.5s", "endTime": "1.9s"}]},
        {"channelTag": "2", "alternatives": [{"text": "здравствуйте", "startTime": "2.1s", "endTime": "3s"}]}]}}
    voicekit = {"results": [
        {"channel": 0, "start_time": "0.4s", "end_time": "1.5s", "alternatives": [{"transcript": "алло"}]},
        {"channel": 1, "start_time": "1.6s", "end_time": "2.5s", "alternatives": [{"transcript": "да"}]}]}
    (sk,) = parse_json(speechkit, agent_channel="1")
    assert [(u.speaker, u.start_s, u.end_s, u.text) for u in sk.utterances] == [
        (AGENT, 0.5, 1.9, "добрый день"), (CUSTOMER, 2.1, 3.0, "здравствуйте")]
    (vk,) = parse_json(voicekit, agent_channel="1")
    assert [u.speaker for u in vk.utterances] == [CUSTOMER, AGENT]
    srt = "1\n00:00:01,000 --> 00:00:02,500\nAgent: Hello\n\n2\n00:00:03,000 --> 00:00:04,000\nCustomer: Hi\n"
    (transcript,) = parse_text(srt, "1")
    assert [(u.speaker, u.start_s, u.end_s) for u in transcript.utterances] == [(AGENT, 1.0, 2.5), (CUSTOMER, 3.0, 4.0)]


def test_a_bad_transcript_is_quarantined_the_rest_load_and_again_adds_nothing(store: Store, tmp_path: Path) -> None:
    good = {"call_id": "c1", "utterances": [{"speaker": "agent", "start": 0, "end": 2, "text": "меня зовут Анна"}]}
    bad = {"call_id": "c2", "utterances": [{"speaker": "agent", "start": 5, "end": 1, "text": "назад во времени"}]}
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps([good, bad], ensure_ascii=False), encoding="utf-8")
    report = load_file(store, path, Settings(), timezone="UTC")
    assert (report.lines_read, report.lines_loaded, report.quarantined) == (2, 1, 1)
    assert "transcript 2" in report.issues[0].reason and "ends before it starts" in report.issues[0].reason
    assert query_rows(store, "SELECT line_no FROM quarantine") == [{"line_no": 2}]
    again = load_file(store, path, Settings(), timezone="UTC")
    assert again.status == "unchanged"
    assert query_rows(store, "SELECT count(*) AS n FROM transcripts") == [{"n": 1}]


def test_transcripts_loaded_before_their_calls_are_matched_to_them(store: Store, tmp_path: Path) -> None:
    """A transcript naming call 1772442000.1, loaded first; then the queue_log where agent 1001 answers it."""
    transcript = {"call_id": f"{T0}.1", "utterances": [
        {"speaker": "agent", "start": 0, "end": 3, "text": "Добрый день, компания Окна Плюс, меня зовут Анна"},
        {"speaker": "customer", "start": 3.5, "end": 9.5, "text": "Я хочу заказать окна"}]}
    path = tmp_path / "t.json"
    path.write_text(json.dumps(transcript, ensure_ascii=False), encoding="utf-8")
    load_file(store, path, Settings(), timezone="UTC")
    assert query_rows(store, "SELECT call_id, agent FROM transcripts") == [{"call_id": None, "agent": None}]
    call = f"{T0}.1"
    lines = [ql_line(T0, call, "sales", "NONE", "ENTERQUEUE", "", "79161234567", 1),
             ql_line(T0 + 5, call, "sales", "SIP/1001", "CONNECT", 5, f"{T0}.2", 3),
             ql_line(T0 + 65, call, "sales", "SIP/1001", "COMPLETECALLER", 5, 60, 1)]
    load_text(store, tmp_path, "\n".join(lines) + "\n")
    assert query_rows(store, "SELECT call_id, matched_by, agent FROM transcripts") == [
        {"call_id": call, "matched_by": "call_id", "agent": "1001"}]
    row = by_key(kpis(store, ["agent"], metrics=["transcripts", "agent_talk_share"]), "agent")["1001"]
    assert row["transcripts"] == 1 and row["agent_talk_share"] == pytest.approx(3 / 9)  # 3 s of 3 + 6 s
