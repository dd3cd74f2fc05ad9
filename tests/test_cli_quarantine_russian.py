"""`callkpi --lang ru ingest` and `quarantine`: why a line went to the quarantine reads in Russian
(the store keeps the English; JSON and CSV give it as stored)."""

from __future__ import annotations

import json

from conftest import write_log

BAD_LINES = "\n".join((
    "1772000000",  # truncated
    "17720000z0|x|q1|NONE|ENTERQUEUE|a|b",  # not a time
    "1772000000|x|q1|NONE|WEIRD EVENT|a|b",  # not an event
    "1772000000||q1|NONE|ENTERQUEUE|a|b",  # no callid
    "1772000001|1772000001.5|q1|SIP/1001|CONNECT|abc",  # not a number
    "1772000001|1772000001.5|q1|SIP/1001|CONNECT|-5|1772000001.5|3",  # out of range
    "1772000001|1772000001.5|q1|SIP/1001|CONNECT|5|1772000001.5|3",  # fine
)) + "\n"
ENGLISH = ("truncated", "field(s)", "is not", "empty callid", "needs", "got", "out of range", "window")


def test_quarantine_reasons_read_in_russian(cli, tmp_path) -> None:
    db = tmp_path / "q.duckdb"
    log = write_log(tmp_path, BAD_LINES, "queue_log")
    loaded = cli("--lang", "ru", "ingest", "--db", db, "--tz", "UTC", "--format", "asterisk-queue-log", log)
    assert loaded.exit_code == 1
    printed = [line for line in loaded.stderr.splitlines() if "queue_log:" in line]
    assert len(printed) == 6
    listed = cli("--lang", "ru", "quarantine", "--db", db, "--format", "tsv")
    reasons = [line.split("\t")[2] for line in listed.stdout.splitlines()[1:]]
    assert len(reasons) == 6
    for text in (*printed, *reasons):
        assert not [word for word in ENGLISH if word in text], text
    stored = json.loads(cli("--lang", "ru", "quarantine", "--db", db, "--format", "json").stdout)
    assert any(row["reason"].startswith("truncated line") for row in stored)  # JSON: as stored
    english = cli("quarantine", "--db", db, "--format", "tsv").stdout
    assert "truncated line" in english


def test_a_leg_without_its_end_is_a_finding_in_russian(cli, tmp_path) -> None:
    db = tmp_path / "f.duckdb"
    cut = "1772000000|1772000000.1|support|NONE|ENTERQUEUE||79991234567|1\n"  # the log ends in the queue
    assert cli("ingest", "--db", db, "--tz", "UTC", "--format", "asterisk-queue-log",
               write_log(tmp_path, cut, "queue_log")).exit_code in (0, 1)
    english = cli("findings", "--db", db, "--format", "tsv").stdout
    assert "queue leg in support has no closing event" in english
    russian = cli("--lang", "ru", "findings", "--db", db, "--format", "tsv").stdout
    detail = [line.split("\t")[5] for line in russian.splitlines()[1:] if "\tleg_without_end\t" in line]
    assert detail and all("support" in text and "queue leg" not in text and "unknown" not in text
                          for text in detail)
