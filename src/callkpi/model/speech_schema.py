"""Tables of call transcripts and script checks (loaded by :mod:`callkpi.ingest.transcripts`)."""

from __future__ import annotations

from callkpi.model.schema import Table

TRANSCRIPTS = Table(
    "transcripts",
    "one row per call transcript: what identifies its call, the call it was matched to, what its speaking "
    "time shows, and how the agent followed the script of the call type",
    (
        ("transcript_id", "VARCHAR"),
        ("source_id", "BIGINT"),
        ("line_no", "BIGINT"),  # the transcript's place in its file (1 for a file of one)
        ("call_id_given", "VARCHAR"),
        ("recording", "VARCHAR"),  # the recording's file name, as the transcript names it
        ("phone_norm", "VARCHAR"),
        ("started_utc", "TIMESTAMP"),
        ("call_type_given", "VARCHAR"),
        ("lang", "VARCHAR"),
        ("call_id", "VARCHAR"),  # the matched call
        ("matched_by", "VARCHAR"),  # call_id | recording | number | NULL (no call found)
        ("agent", "VARCHAR"),
        ("queue", "VARCHAR"),
        ("campaign", "VARCHAR"),
        ("direction", "VARCHAR"),
        ("slice_id", "BIGINT"),  # the call's start (the transcript's when no call matched)
        ("utterances", "INTEGER"),
        ("span_s", "DOUBLE"),
        ("agent_speech_s", "DOUBLE"),
        ("customer_speech_s", "DOUBLE"),
        ("silence_s", "DOUBLE"),
        ("agent_longest_monologue_s", "DOUBLE"),
        ("agent_interruptions", "INTEGER"),
        ("customer_interruptions", "INTEGER"),
        ("call_type", "VARCHAR"),  # the script checked (NULL: no script for this call)
        ("script_version", "INTEGER"),
        ("required_stages", "INTEGER"),
        ("required_done", "INTEGER"),
        ("stages_in_order", "BOOLEAN"),
        ("forbidden_said", "INTEGER"),
    ),
)

UTTERANCES = Table(
    "utterances",
    "what was said in a transcript, one row per utterance",
    (
        ("transcript_id", "VARCHAR"),
        ("seq", "INTEGER"),
        ("speaker", "VARCHAR"),  # agent | customer
        ("start_s", "DOUBLE"),
        ("end_s", "DOUBLE"),
        ("text", "VARCHAR"),
    ),
)

SCRIPT_STAGES = Table(
    "script_stages",
    "each stage of the script checked on a transcript: done or not, at which utterance, in order or not",
    (
        ("transcript_id", "VARCHAR"),
        ("call_type", "VARCHAR"),
        ("stage", "VARCHAR"),
        ("position", "INTEGER"),
        ("required", "BOOLEAN"),
        ("done", "BOOLEAN"),
        ("utterance_seq", "INTEGER"),
        ("in_order", "BOOLEAN"),
        ("agent", "VARCHAR"),
        ("queue", "VARCHAR"),
        ("campaign", "VARCHAR"),
        ("slice_id", "BIGINT"),
    ),
)

SPEECH_SCRIPTS = Table(
    "speech_scripts",
    "call scripts per call type, every change a new version (the content as JSON)",
    (
        ("call_type", "VARCHAR"),
        ("version", "INTEGER"),
        ("created_by", "VARCHAR"),
        ("created_utc", "TIMESTAMP"),
        ("content", "VARCHAR"),
    ),
)

SPEECH_TABLES = (TRANSCRIPTS, UTTERANCES, SCRIPT_STAGES, SPEECH_SCRIPTS)
