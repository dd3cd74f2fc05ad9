"""Small fixtures of every importable format and hypothesis strategies that damage them.

Each fixture is a handful of valid lines written here (never the real data of ../shared). The
mutations are those real files suffer: byte flips, truncation, a field deleted or repeated, a huge
field, NUL bytes, invalid UTF-8, cp1251 text, CR or CRLF line ends, a BOM, shuffled lines, extreme
numbers and dates.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import strategies as st

T0 = datetime(2026, 3, 2, 9, 0, 0)
T0_EPOCH = 1772442000


@dataclass(frozen=True)
class Fixture:
    name: str  # importer under test
    filename: str
    data: bytes
    fmt: str | None = None  # None: detected from the content, as `callkpi ingest` does
    mapping: str = ""  # generic CDR exports: the shipped mapping to read them with
    one_record_a_line: bool = True  # False: a document (a transcript) or statements (a SQL dump)


def _stamp(offset_s: float) -> str:
    return (T0 + timedelta(seconds=offset_s)).strftime("%Y-%m-%d %H:%M:%S")


def _csv(rows: list[list[object]], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def _ql(offset: int, callid: str, queue: str, agent: str, event: str, *data: object) -> list[object]:
    return [T0_EPOCH + offset, callid, queue, agent, event, *data]


QUEUE_LOG_EVENTS = [
    _ql(-600, "MANAGER", "sales", "SIP/1001", "ADDMEMBER", ""),
    _ql(0, "c1", "sales", "NONE", "ENTERQUEUE", "", "74951111111", 1),
    _ql(15, "c1", "sales", "SIP/1002", "RINGNOANSWER", 15000),
    _ql(20, "c1", "sales", "SIP/1001", "CONNECT", 20, "c1b", 5),
    _ql(120, "c1", "sales", "SIP/1001", "COMPLETECALLER", 20, 100, 1),
    _ql(300, "NONE", "sales", "SIP/1001", "PAUSE", "ACW"),
    _ql(360, "NONE", "sales", "SIP/1001", "UNPAUSE", ""),
    _ql(600, "c2", "sales", "NONE", "ENTERQUEUE", "", "74952222222", 1),
    _ql(660, "c2", "sales", "NONE", "ABANDON", 1, 1, 60),
    _ql(900, "c3", "sales", "NONE", "ENTERQUEUE", "", "74953333333", 1),
    _ql(930, "c3", "sales", "SIP/1001", "CONNECT", 30, "c3b", 4),
    _ql(990, "c3", "sales", "SIP/1001", "BLINDTRANSFER", "200", "ctx", 30, 60, 1),
    _ql(3600, "MANAGER", "sales", "SIP/1001", "REMOVEMEMBER", ""),
]


def _queue_log_plain() -> bytes:
    return "".join("|".join(str(v) for v in event) + "\n" for event in QUEUE_LOG_EVENTS).encode()


def _queue_log_table() -> bytes:
    header = ["time", "callid", "queuename", "agent", "event", "data1", "data2", "data3", "data4", "data5"]
    rows = [[_stamp(int(e[0]) - T0_EPOCH), *e[1:5], *[*e[5:], "", "", "", "", ""][:5]] for e in QUEUE_LOG_EVENTS]
    return _csv([header, *rows])


def _master_row(src: str, dst: str, channel: str, dstchannel: str, start: int, answer: int | None, end: int,
                disposition: str, linkedid: str, sequence: int) -> list[object]:
    billsec = 0 if answer is None else end - answer
    return ["", src, dst, "from-trunk", f'"{src}" <{src}>', channel, dstchannel, "Dial", "SIP/101,30",
            _stamp(start), "" if answer is None else _stamp(answer), _stamp(end), end - start, billsec, disposition,
            "DOCUMENTATION", linkedid, "", "", linkedid, sequence]


MASTER_ROWS = [
    _master_row("79161234567", "4951112233", "SIP/trunk1-00000001", "SIP/101-00000002", 0, None, 12, "NO ANSWER",
                "1000.1", 1),
    _master_row("79161234567", "4951112233", "SIP/trunk1-00000001", "SIP/102-00000003", 0, 12, 132, "ANSWERED",
                "1000.1", 2),
    _master_row("79031112233", "4951112233", "SIP/trunk1-00000010", "SIP/101-00000011", 3600, 3605, 3665,
                "ANSWERED", "2000.1", 10),
    _master_row("101", "79035556677", "SIP/101-00000020", "SIP/trunk1-00000021", 7200, None, 7230, "BUSY",
                "3000.1", 20),
]
CDR_TABLE_HEADER = ["accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
                    "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
                    "uniqueid", "userfield", "peeraccount", "linkedid", "sequence"]


def _cdr_table() -> bytes:
    """The cdr table exported with a header (calldate instead of start/answer/end, as FreePBX has it)."""
    header = ["calldate", "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata",
              "duration", "billsec", "disposition", "amaflags", "accountcode", "uniqueid", "userfield", "linkedid",
              "sequence"]
    rows = [[r[9], r[4], r[1], r[2], r[3], r[5], r[6], r[7], r[8], r[12], r[13], r[14], 3, "", r[16], "", r[19],
             r[20]] for r in MASTER_ROWS]
    return _csv([header, *rows])


def _freeswitch_csv() -> bytes:
    def line(number: str, dest: str, context: str, start: int, answer: int | None, end: int, cause: str,
             uuid: str, bleg: str = "") -> list[object]:
        billsec = 0 if answer is None else end - answer
        return ["Customer", number, dest, context, _stamp(start), "" if answer is None else _stamp(answer),
                _stamp(end), end - start, billsec, cause, uuid, bleg, "", "PCMA", "PCMA"]

    a1, b1, a2 = (f"{n:08x}-0000-4000-8000-000000000000" for n in range(1, 4))
    rows = [line("79161234567", "1001", "default", 0, 8, 68, "NORMAL_CLEARING", b1),
            line("79161234567", "3000", "public", 0, 0, 68, "NORMAL_CLEARING", a1, b1),
            line("1001", "74951234567", "default", 1200, 1205, 1235, "NORMAL_CLEARING", a2),
            line("79031112233", "3000", "public", 1800, None, 1820, "NO_ANSWER", "0000000a-0000-4000-8000-0")]
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def _freeswitch_json() -> bytes:
    def leg(uuid: str, caller: str, dest: str, context: str, start: int, answer: int | None, end: int,
            cause: str) -> dict[str, object]:
        values = {"uuid": uuid, "start_epoch": str(T0_EPOCH + start),
                  "answer_epoch": str(T0_EPOCH + answer) if answer else "0", "end_epoch": str(T0_EPOCH + end),
                  "duration": str(end - start), "billsec": str(end - answer) if answer else "0",
                  "hangup_cause": cause, "channel_name": f"sofia/internal/{dest}"}
        return {"core-uuid": "core", "variables": values,
                "callflow": [{"caller_profile": {"caller_id_number": caller, "destination_number": dest,
                                                 "context": context, "uuid": uuid}}]}

    legs = [leg("00000001-0000-4000-8000-000000000000", "79161234567", "1001", "public", 0, 5, 65, "NORMAL_CLEARING"),
            leg("00000002-0000-4000-8000-000000000000", "1001", "74951234567", "default", 600, None, 620,
                "NO_ANSWER"),
            leg("00000003-0000-4000-8000-000000000000", "79031112233", "1002", "public", 900, 910, 1000,
                "NORMAL_CLEARING")]
    return "".join(json.dumps(item) + "\n" for item in legs).encode()


def _twilio() -> bytes:
    def rfc(second: int) -> str:
        moment = T0 + timedelta(seconds=second)
        return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")

    header = ["sid", "parent_call_sid", "date_created", "start_time", "end_time", "duration", "status",
              "direction", "from", "to", "queue_time", "price"]
    rows = [["CA01", "", rfc(0), rfc(0), rfc(70), "60", "completed", "inbound", "+79161234567", "+74951112233",
             "4000", ""],
            ["CA02", "", rfc(600), rfc(600), rfc(630), "", "no-answer", "inbound", "+79031112233", "+74951112233",
             "", ""],
            ["CA03", "", rfc(900), rfc(900), rfc(1020), "100", "completed", "outbound-api", "+74951112233",
             "+79031112233", "", "-0.02"]]
    return _csv([header, *rows])


DEALS = _csv([
    ["deal_id", "created_at", "closed_at", "status", "amount", "currency", "customer_phone", "owner_agent", "call_id",
     "product", "campaign"],
    ["D1", "2026-03-02 10:00", "2026-03-03 12:30", "won", "14 900,50", "", "+7 (495) 123-45-67", "1001", "", "Basic",
     ""],
    ["D2", "02.03.2026 11:00", "04.03.2026 12:00", "lost", "1,234.56", "RUB", "8 495 123 45 67", "", "c1", "Pro",
     "spring"],
    ["D3", "2026-03-02T08:00:00Z", "", "open", "", "", "74951234567; 8-916-765-43-21", "", "", "", ""],
    ["D4", "2026-03-02 11:00", "2026-03-05 10:00", "won", "10", "", "", "", "", "", ""],
])
SURVEYS = _csv([["call_id", "phone", "answered_at", "survey_type", "score"],
                ["c1", "", "2026-03-02 09:03", "csat", "5"], ["", "8 495 222-22-22", "2026-03-02 11:10", "csat", "2"],
                ["c1", "", "2026-03-02 09:10:00", "nps", "9"], ["c2", "", "2026-03-02 10:10:00", "nps", "3"]])
COSTS = _csv([["cost_type", "agent", "amount", "valid_from", "description"], ["agent_hourly", "1001", "300", "", ""],
              ["telecom_per_minute", "", "1,5", "", ""], ["fixed_monthly", "", "31000", "2026-03", "rent"]])
STAFF = _csv([["agent", "name", "team", "hired", "left", "leave_reason"], ["A1", "Anna", "sales", "2025-01-10", "", ""],
              ["A2", "Boris", "sales", "2025-06-01", "2026-03-16", "voluntary"],
              ["A3", "Vera", "support", "2026-03-10", "", ""]])
TEAMS = _csv([["team", "lead", "description"], ["support", "1010", "second line"], ["sales", "1001", "first line"]])
TRAINING = _csv([["agent", "programme", "date"], ["2001", "Objection handling", "2026-03-01"],
                 ["2002", "Objection handling", "2026-03-01"], ["2003", "Products", "2026-03-05"]])
SCHEDULES = _csv([["agent", "start", "end", "activity"], ["1001", "2026-03-02 09:00", "2026-03-02 13:00", "work"],
                  ["1001", "2026-03-02 11:00", "2026-03-02 11:30", "lunch"],
                  ["1002", "2026-03-02 09:00", "2026-03-02 18:00", "work"]])
QA_REVIEWS = _csv([
    ["review_id", "call_id", "agent", "reviewer", "reviewed_at", "call_type", "criterion", "weight", "fatal", "score"],
    ["QA-1", "c1", "1001", "qa.orlova", "2026-03-02T12:00:00+03:00", "objection", "greeting", "1", "0", "1"],
    ["QA-1", "c1", "1001", "qa.orlova", "2026-03-02T12:00:00+03:00", "objection", "objection handling", "4", "0",
     "0.5"],
    ["QA-2", "c3", "1001", "qa.orlova", "2026-03-02T13:00:00+03:00", "objection", "greeting", "1", "0", "NA"],
    ["QA-2", "c3", "1001", "qa.orlova", "2026-03-02T13:00:00+03:00", "objection", "objection handling", "4", "1",
     "0"],
])
XLSX_DEALS: list[list[object]] = [
    ["ID", "Название сделки", "Стадия сделки", "Сумма", "Валюта", "Ответственный", "Дата создания", "Дата закрытия",
     "Телефон"],
    [501, "Заказ", "Сделка успешна", 25000.5, "RUB", "1002", datetime(2026, 3, 2, 10, 0), datetime(2026, 3, 6, 18, 0),
     74951234567],
    [502, "Заказ 2", "C2:WON", "3 000,00", "RUB", "1002", datetime(2026, 3, 2, 10, 0), datetime(2026, 3, 6, 18, 0),
     "8 (495) 765-43-21"],
    [503, "Заказ 3", "Подготовка документов", None, "RUB", "1003", datetime(2026, 3, 2, 10, 0), None, None],
]

def _cel_master() -> bytes:
    """The first calls of the hand-made CEL scenario (cel_custom Master.csv, 20 fields)."""
    path = Path(__file__).parent / "scenarios" / "cel_scenarios.cel.csv"
    return b"".join(path.read_bytes().splitlines(keepends=True)[:45])


def _cel_table() -> bytes:
    columns = ["eventtype", "eventtime", "cid_name", "cid_num", "cid_ani", "cid_rdnis", "cid_dnid", "exten",
               "context", "channame", "appname", "appdata", "amaflags", "accountcode", "uniqueid", "linkedid",
               "peer", "userfield", "userdeftype", "extra"]
    rows = list(csv.reader(io.StringIO(_cel_master().decode())))
    return _csv([["id", *columns], *([n, *row] for n, row in enumerate(rows, 1))])


def _transcripts_json() -> bytes:
    """Three of the hand-marked transcripts in callkpi's JSON layout."""
    path = Path(__file__).parent / "transcripts" / "marked.json"
    marked = json.loads(path.read_text(encoding="utf-8"))["transcripts"][:3]
    return json.dumps({"transcripts": marked}, ensure_ascii=False, indent=1).encode()


WEBVTT = """WEBVTT

1
00:00:00.000 --> 00:00:04.000
<v agent>Добрый день, компания Окна Плюс, меня зовут Анна.

2
00:00:04.500 --> 00:00:07.000
<v customer>Здравствуйте, я насчёт окон.

3
00:00:07.500 --> 00:00:12.000
<v agent>Оформим заказ на завтра? Спасибо за звонок, до свидания.
""".encode()

SRT = b"""1
00:00:00,000 --> 00:00:03,500
Agent: Good morning, Windows Plus, this is Anna speaking.

2
00:00:04,000 --> 00:00:06,000
Customer: Hello, I am calling about the windows.

3
00:00:06,500 --> 00:00:10,000
Agent: Shall we place the order? Thank you for calling, goodbye.
"""


def _sql_value(value: str) -> str:
    if value == "":
        return "''"
    if re.fullmatch(r"-?\d+", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _sql_dump() -> bytes:
    """A mysqldump of asteriskcdrdb: its cdr and cel tables (the CSV fixtures' rows), one INSERT each."""
    parts = ["-- MySQL dump 10.13  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)\n",
             "-- Host: localhost    Database: asteriskcdrdb\n", "/*!40101 SET NAMES utf8mb4 */;\n"]
    for table, data in (("cdr", _cdr_table()), ("cel", _cel_table())):
        header, *rows = list(csv.reader(io.StringIO(data.decode())))
        columns = ",\n".join(f"  `{c}` varchar(80) NOT NULL DEFAULT ''" for c in header)
        values = ",".join("(" + ",".join(_sql_value(v) for v in row) + ")" for row in rows)
        parts += [f"DROP TABLE IF EXISTS `{table}`;\n",
                  f"CREATE TABLE `{table}` (\n{columns}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n",
                  f"LOCK TABLES `{table}` WRITE;\n", f"INSERT INTO `{table}` VALUES {values};\n",  # noqa: S608 - a fixture's own text
                  "UNLOCK TABLES;\n"]
    return "".join(parts).encode()


TEXT_FIXTURES: list[Fixture] = [
    Fixture("queue_log", "queue_log", _queue_log_plain()),
    Fixture("queue_log_table", "queue_log_table.csv", _queue_log_table(), fmt="asterisk-queue-log-csv"),
    Fixture("asterisk_master_csv", "Master.csv", _csv(MASTER_ROWS)),
    Fixture("asterisk_cdr_table", "cdr.csv", _cdr_table()),
    Fixture("asterisk_cel_csv", "Master.csv", _cel_master()),
    Fixture("asterisk_cel_table", "cel.csv", _cel_table()),
    Fixture("freeswitch_csv", "fs_cdr.csv", _freeswitch_csv()),
    Fixture("freeswitch_json", "fs_cdr.json", _freeswitch_json()),
    Fixture("generic_twilio", "twilio.csv", _twilio(), fmt="generic", mapping="twilio"),
    Fixture("deals", "deals.csv", DEALS),
    Fixture("surveys", "surveys.csv", SURVEYS),
    Fixture("costs", "costs.csv", COSTS),
    Fixture("staff", "staff.csv", STAFF),
    Fixture("teams", "teams.csv", TEAMS),
    Fixture("training", "training.csv", TRAINING),
    Fixture("schedules", "schedules.csv", SCHEDULES),
    Fixture("qa_reviews", "qa_reviews.csv", QA_REVIEWS),
    Fixture("transcripts_json", "transcripts.json", _transcripts_json(), fmt="transcripts", one_record_a_line=False),
    Fixture("transcripts_vtt", "m01.vtt", WEBVTT, fmt="transcripts", one_record_a_line=False),
    Fixture("transcripts_srt", "m02.srt", SRT, fmt="transcripts", one_record_a_line=False),
    Fixture("sql_dump", "asteriskcdrdb.sql", _sql_dump(), one_record_a_line=False),
]

SCORECARDS_YAML = """scorecards:
  - call_type: objection
    name: Objection handling
    queues: [sales]
    criteria:
      - {name: greeting, weight: 1}
      - {name: objection handling, weight: 4, fatal: true}
"""

# -- mutations -------------------------------------------------------------------------------

EXTREME_NUMBERS = ["1e22", "1e24", "-1e22", "inf", "-inf", "NaN", "nan", "1e308", "-1", "0", "99999999999",
                   "9" * 40, "0x10", "1_000", "", " "]
EXTREME_DATES = ["4102444800", "253402300799", "0", "1", "2100-01-01 00:00:00", "9999-12-31 23:59:59",
                 "0000-00-00 00:00:00", "1900-01-01", "1970-01-01 00:00:00", "2026-02-30 10:00", "31.12.1899 00:00:00",
                 "2026-03-02T09:00:00+99:00", "1300000000", "1985-05-05 05:05:05", "4102444800000"]
_TOKEN = re.compile(rb"[^|,;\t\n\r\"]+")
_NUMBER = re.compile(rb"-?\d+(?:[.,]\d+)?")
_DATE = re.compile(rb"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?|\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}|\b1\d{9}\b")


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _replace_match(data: bytes, pattern: re.Pattern[bytes], index: int, value: bytes) -> bytes:
    matches = list(pattern.finditer(data))
    if not matches:
        return data
    match = matches[index % len(matches)]
    return data[:match.start()] + value + data[match.end():]


@st.composite
def mutation(draw: st.DrawFn, data: bytes) -> tuple[str, bytes]:
    """One damage done to ``data``: (what was done, the damaged bytes)."""
    kind = draw(st.sampled_from([
        "flip", "truncate", "delete_field", "duplicate_field", "huge_field", "nul", "invalid_utf8", "cp1251",
        "crlf", "cr", "bom", "shuffle", "number", "date", "duplicate_line", "delete_line",
    ]))
    size = max(len(data), 1)
    at = draw(st.integers(0, size - 1))
    pick = draw(st.integers(0, 10_000))
    if kind == "flip":
        if not data:
            return kind, data
        return kind, data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1:]
    if kind == "truncate":
        return kind, data[:at]
    if kind in ("delete_field", "duplicate_field"):
        matches = list(_TOKEN.finditer(data))
        if not matches:
            return kind, data
        match = matches[pick % len(matches)]
        if kind == "delete_field":
            return kind, data[:match.start()] + data[match.end():]
        separator = data[match.end():match.end() + 1] if data[match.end():match.end() + 1] in b"|,;\t" else b","
        return kind, data[:match.end()] + separator + match.group() + data[match.end():]
    if kind == "huge_field":
        filler = draw(st.sampled_from([b"x", b"9", b"\xd0\xaf", b'"']))
        return kind, _replace_match(data, _TOKEN, pick, filler * draw(st.sampled_from([70_000, 140_000])))
    if kind == "nul":
        return kind, data[:at] + b"\x00" + data[at:]
    if kind == "invalid_utf8":
        bad = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf0\x28\x8c"]))
        return kind, data[:at] + bad + data[at:]
    if kind == "cp1251":
        return kind, _replace_match(data, _TOKEN, pick, "Привет, мир".encode("cp1251"))
    if kind == "crlf":
        return kind, data.replace(b"\n", b"\r\n")
    if kind == "cr":
        return kind, data.replace(b"\n", b"\r")
    if kind == "bom":
        return kind, b"\xef\xbb\xbf" + data
    if kind == "shuffle":
        lines = _lines(data)
        return kind, b"\n".join(draw(st.permutations(lines)))
    if kind == "number":
        return kind, _replace_match(data, _NUMBER, pick, draw(st.sampled_from(EXTREME_NUMBERS)).encode())
    if kind == "date":
        return kind, _replace_match(data, _DATE, pick, draw(st.sampled_from(EXTREME_DATES)).encode())
    lines = _lines(data)
    index = pick % len(lines)
    if kind == "duplicate_line":
        return kind, b"\n".join([*lines[:index + 1], lines[index], *lines[index + 1:]])
    return kind, b"\n".join([*lines[:index], *lines[index + 1:]])  # delete_line


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> tuple[list[str], bytes]:
    """``data`` after one to three mutations, and their names."""
    done: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        kind, data = draw(mutation(data))
        done.append(kind)
    return done, data


XLSX_VALUES: list[object] = [*EXTREME_NUMBERS, *EXTREME_DATES, 1e22, float("inf"), float("nan"), -1e308, 10**30,
                             datetime(1900, 1, 1), datetime(9999, 12, 31), "x" * 40_000, "Привет", None, True]


@st.composite
def damaged_workbook_rows(draw: st.DrawFn) -> list[list[object]]:
    """The XLSX deals with some cells replaced by extreme or wrong values (a workbook cannot hold bytes)."""
    rows = [list(row) for row in XLSX_DEALS]
    for _ in range(draw(st.integers(1, 4))):
        row = draw(st.integers(0, len(rows) - 1))
        column = draw(st.integers(0, len(rows[0]) - 1))
        rows[row][column] = draw(st.sampled_from(XLSX_VALUES))
    if draw(st.booleans()):
        rows.append(list(rows[draw(st.integers(1, len(rows) - 1))]))
    return rows
