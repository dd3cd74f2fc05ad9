"""SQL dump files (mysqldump, Navicat): the streaming reader's values, and `ingest` of a dump loading
its cdr (and cel) tables through spool files, the other tables listed as skipped.

The real freepbx-lab-2024 dump is checked against counts taken from its text with regular
expressions (one row per INSERT in that dump); skipped when ../shared is absent.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callkpi.config import Settings
from callkpi.ingest import formats
from callkpi.ingest.sqltables import dump as dump_module
from callkpi.ingest.sqltables.dump import DumpReader, looks_like_dump
from callkpi.storage import Store
from conftest import SHARED

REAL_DUMP = SHARED / "data" / "real" / "freepbx-lab-2024" / "asteriskcdrdb.sql"
CDR_COLUMNS = ("calldate", "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata",
               "duration", "billsec", "disposition", "amaflags", "accountcode", "uniqueid", "userfield", "did",
               "recordingfile", "cnum", "cnam", "outbound_cnum", "outbound_cnam", "dst_cnam", "linkedid",
               "peeraccount", "sequence")

HAND_DUMP = """-- MySQL dump 10.13  Distrib 5.7.42, for Linux (x86_64)
--
-- Host: localhost    Database: asteriskcdrdb
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*
 multi-line comment with INSERT INTO `cdr` VALUES ('x');
*/
DROP TABLE IF EXISTS `cdr`;
CREATE TABLE `cdr` (
  `calldate` datetime NOT NULL DEFAULT '1000-01-01 00:00:00',
  `src` varchar(80) NOT NULL DEFAULT '',
  `dst` varchar(80) NOT NULL DEFAULT '',
  `disposition` varchar(45) NOT NULL DEFAULT '',
  `billsec` int(11) NOT NULL DEFAULT '0',
  `userfield` varchar(255) DEFAULT NULL,
  KEY `calldate` (`calldate`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
LOCK TABLES `cdr` WRITE;
INSERT INTO `cdr` VALUES ('2024-01-02 10:00:00','101','200','ANSWERED',30,'it''s \\'quoted\\''),\
('2024-01-02 10:05:00','102','200','NO ANSWER',0,NULL),('2024-01-02 10:06:00','a,b','(x)','BUSY',-1,'semi;colon');
INSERT INTO `cdr` (`calldate`, `src`, `dst`, `disposition`, `billsec`, `userfield`) VALUES
('2024-01-02 11:00:00','103','200','ANSWERED',12,'line\\nbreak\\\\end'),
('2024-01-02 11:01:00','104','200','ANSWERED',1.5e1,'multi
line');
UNLOCK TABLES;
CREATE TABLE `other` (
  `id` int NOT NULL
);
INSERT INTO `other` VALUES (1),(2);
DELIMITER ;;
/*!50003 CREATE*/ /*!50003 TRIGGER `t` AFTER INSERT ON `cdr` FOR EACH ROW BEGIN
INSERT INTO `cdr` VALUES ('2099-01-01 00:00:00','9','9','ANSWERED',1,'');
END */;;
DELIMITER ;
"""


def write(tmp_path: Path, text: str, name: str = "asteriskcdrdb.sql") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("piece", [1 << 20, 7, 1])
def test_reader_values_whatever_the_piece_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, piece: int) -> None:
    monkeypatch.setattr(dump_module, "PIECE_CHARS", piece)
    reader = DumpReader(write(tmp_path, HAND_DUMP))
    rows = [(r.table, r.values, r.line_no) for r in reader.rows()]
    cdr = [values for table, values, _ in rows if table == "cdr"]
    assert cdr == [
        ("2024-01-02 10:00:00", "101", "200", "ANSWERED", "30", "it's 'quoted'"),
        ("2024-01-02 10:05:00", "102", "200", "NO ANSWER", "0", None),
        ("2024-01-02 10:06:00", "a,b", "(x)", "BUSY", "-1", "semi;colon"),
        ("2024-01-02 11:00:00", "103", "200", "ANSWERED", "12", "line\nbreak\\end"),
        ("2024-01-02 11:01:00", "104", "200", "ANSWERED", "1.5e1", "multi\nline"),
    ]
    assert [line for table, _, line in rows if table == "cdr"] == [19, 19, 19, 21, 22]
    assert reader.tables["cdr"] == ("calldate", "src", "dst", "disposition", "billsec", "userfield")
    assert reader.counts == {"cdr": 5, "other": 2}
    assert not reader.problems


def test_reader_lines_are_where_rows_begin(tmp_path: Path) -> None:
    rows = [r for r in DumpReader(write(tmp_path, HAND_DUMP)).rows() if r.table == "cdr"]
    assert [r.line_no for r in rows] == [19, 19, 19, 21, 22]


def test_bad_values_are_reported_not_loaded(tmp_path: Path) -> None:
    text = HAND_DUMP.replace("('2024-01-02 10:05:00','102','200','NO ANSWER',0,NULL)", "('2024-01-02 10:05:00')")
    reader = DumpReader(write(tmp_path, text))
    assert sum(1 for r in reader.rows() if r.table == "cdr") == 4
    assert [p.line_no for p in reader.problems] == [19]


def test_a_row_the_dump_cannot_give_is_read_and_quarantined(tmp_path: Path) -> None:
    """Lines read = loaded + quarantined + duplicates, also when the dump itself is damaged."""
    text = HAND_DUMP.replace("('2024-01-02 10:05:00','102','200','NO ANSWER',0,NULL)", "('2024-01-02 10:05:00')")
    report = formats.load_file(Store(tmp_path / "store.duckdb"), write(tmp_path, text), Settings())
    assert (report.lines_read, report.lines_loaded, report.quarantined) == (5, 3, 2)
    assert sorted(i.line_no for i in report.issues) == [19, 19]  # the short row and billsec -1


def test_a_row_the_dump_cannot_give_is_in_the_quarantine_once(tmp_path: Path) -> None:
    text = HAND_DUMP.replace("('2024-01-02 10:05:00','102','200','NO ANSWER',0,NULL)", "('2024-01-02 10:05:00')")
    path = write(tmp_path, text)
    store = Store(tmp_path / "store.duckdb")
    assert formats.load_file(store, path, Settings()).status == "loaded"
    listed = store.connection.execute("SELECT line_no, reason FROM quarantine WHERE path = ?", [str(path)])
    assert listed.fetchall() == [(19, "cdr: 1 values, the table has 6 columns")]
    assert formats.load_file(store, path, Settings()).status == "unchanged"
    assert store.connection.execute("SELECT count(*) FROM quarantine").fetchall()[0][0] == 2  # + billsec -1


def test_a_dump_cut_inside_an_insert_says_so(tmp_path: Path) -> None:
    cut = HAND_DUMP.index("('2024-01-02 10:05:00'") + len("('2024-01-02 10:05")
    path = write(tmp_path, HAND_DUMP[:cut])
    store = Store(tmp_path / "store.duckdb")
    report = formats.load_file(store, path, Settings())
    assert report.status == "loaded"
    assert report.lines_read == report.lines_loaded + report.quarantined + report.duplicates
    listed = store.connection.execute("SELECT line_no, reason FROM quarantine WHERE path = ?", [str(path)])
    assert listed.fetchall() == [(19, "the dump ends inside an INSERT INTO cdr")]
    assert formats.load_file(store, path, Settings()).status == "unchanged"


def test_detection_takes_dumps_and_only_dumps(tmp_path: Path) -> None:
    assert formats.detect(write(tmp_path, HAND_DUMP)) == "sql-dump"
    assert looks_like_dump(b"/*\n Navicat Premium Data Transfer\n*/\nSET NAMES utf8mb4;\nCREATE TABLE `cdr` (\n")
    assert not looks_like_dump(b"calldate,src,dst,disposition\n2024-01-01 00:00:00,1,2,ANSWERED\n")
    assert not looks_like_dump(b"1700000000|NONE|NONE|NONE|QUEUESTART|\n")
    assert not looks_like_dump(b"-- a comment only, no table\nSELECT 1;\n")
    assert not looks_like_dump(b'{"text": "INSERT INTO x"}')


def test_ingest_hand_dump(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.duckdb")
    path = write(tmp_path, HAND_DUMP)
    report = formats.load_file(store, path, Settings())
    assert (report.format, report.status) == ("sql-dump", "loaded")
    assert (report.lines_read, report.lines_loaded, report.quarantined) == (5, 4, 1)
    assert [(i.line_no, i.reason) for i in report.issues] == [(19, "cdr: negative duration")]  # billsec -1
    assert any("table other: skipped" in m for m in report.messages)
    spool = next((tmp_path / "spool").glob("asteriskcdrdb.sql-*/cdr.csv"))
    assert spool.read_text(encoding="utf-8").splitlines()[0] == "calldate,src,dst,disposition,billsec,userfield"
    again = formats.load_file(store, path, Settings())
    assert again.lines_loaded == 0 and again.status == "unchanged"
    grown = write(tmp_path, HAND_DUMP.replace(
        "UNLOCK TABLES;", "INSERT INTO `cdr` VALUES ('2024-01-02 12:00:00','105','200','ANSWERED',5,'');\n"
        "UNLOCK TABLES;"))
    later = formats.load_file(store, grown, Settings())
    assert (later.lines_read, later.lines_loaded) == (1, 1)


def test_real_freepbx_dump(tmp_path: Path) -> None:
    if not REAL_DUMP.is_file():
        pytest.skip(f"real data not found at {REAL_DUMP}")
    text = REAL_DUMP.read_text(encoding="utf-8", errors="replace")
    cdr_lines = [n for n, line in enumerate(text.splitlines(), 1) if line.startswith("INSERT INTO `cdr` VALUES")]
    zero_lines = [n for n, line in enumerate(text.splitlines(), 1)
                  if re.match(r"INSERT INTO `cdr` VALUES \('(0000-00-00|1000-01-01)", line)]
    cel_rows = len(re.findall(r"^INSERT INTO `cel` VALUES", text, re.MULTILINE))
    assert (len(cdr_lines), len(zero_lines), cel_rows) == (574, 38, 4100)  # the issue's figures

    store = Store(tmp_path / "store.duckdb")
    report = formats.load_file(store, REAL_DUMP, Settings())
    assert report.format == "sql-dump"
    cdr = next(m for m in report.messages if m.startswith("table cdr:"))
    assert "574 rows read, 536 loaded, 38 quarantined" in cdr
    cdr_issues = [i for i in report.issues if i.reason.startswith("cdr:")]
    assert sorted(i.line_no for i in cdr_issues) == zero_lines  # the dump's own lines
    assert all("zero date" in i.reason or "plausible window" in i.reason for i in cdr_issues)
    assert any(m.startswith("table replicate_cdr: skipped") for m in report.messages)
    assert any(m.startswith("table queuelog: skipped (no rows") for m in report.messages)
    cel = next(m for m in report.messages if m.startswith("table cel:"))
    assert "4100 rows" in cel
    if "asterisk-cel-table" in formats.FORMATS:  # the CEL importer (ingest/cel)
        assert "4100 rows read, 4100 loaded, 0 quarantined" in cel
        assert (report.lines_read, report.lines_loaded, report.quarantined) == (4674, 4636, 38)
    assert report.lines_read == report.lines_loaded + report.quarantined + report.duplicates
    assert formats.load_file(store, REAL_DUMP, Settings()).lines_loaded == 0
