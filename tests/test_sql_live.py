"""Live PBX databases: `ingest mysql://...` / `postgresql://...` against real MariaDB and PostgreSQL
servers started by the tests (tests/sql_servers.py), with the FreePBX tables. Covered: a first load,
an incremental load, late rows inside the overlap window, a restart of the reader in a new process, a
connection lost mid-batch, a rotated table. Expected counts come from the rows the test inserted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from callkpi.config import Settings
from callkpi.ingest import formats
from callkpi.ingest.base import ImportError_
from callkpi.ingest.sqltables.dump import DumpReader
from callkpi.storage import Store
from conftest import SHARED
from sql_servers import PASSWORD, Server, mariadb, postgres

REAL_DUMP = SHARED / "data" / "real" / "freepbx-lab-2024" / "asteriskcdrdb.sql"
CDR_COLUMNS = ("calldate", "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata",
               "duration", "billsec", "disposition", "amaflags", "accountcode", "uniqueid", "userfield", "did",
               "recordingfile", "cnum", "cnam", "outbound_cnum", "outbound_cnam", "dst_cnam", "linkedid",
               "peeraccount", "sequence")
INTS = {"duration", "billsec", "amaflags", "sequence"}
QL_COLUMNS = ("time", "callid", "queuename", "agent", "event", "data1", "data2", "data3", "data4", "data5")
BASE = datetime(2024, 3, 1, 10, 0, 0)


def cdr_ddl(engine: str, name: str = "cdr") -> str:
    if engine == "mysql":
        cols = [f"`{c}` {'int NOT NULL DEFAULT 0' if c in INTS else 'varchar(255) NOT NULL DEFAULT %s'}"
                for c in CDR_COLUMNS[1:]]
        cols = [c.replace("%s", "''") for c in cols]
        return (f"CREATE TABLE `{name}` (`calldate` datetime NOT NULL DEFAULT '1000-01-01 00:00:00', "
                + ", ".join(cols) + ", INDEX `calldate` (`calldate`), INDEX `uniqueid` (`uniqueid`))")
    cols = [f'"{c}" {"integer NOT NULL DEFAULT 0" if c in INTS else "varchar(255) NOT NULL DEFAULT %s"}'
            for c in CDR_COLUMNS[1:]]
    cols = [c.replace("%s", "''") for c in cols]
    return f'CREATE TABLE "{name}" ("calldate" timestamp NOT NULL, ' + ", ".join(cols) + ")"


def ql_ddl(engine: str) -> str:
    if engine == "mysql":
        return ("CREATE TABLE `queue_log` (`id` bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, "
                "`time` datetime NOT NULL, `callid` varchar(40) NOT NULL DEFAULT '', `queuename` varchar(20) NOT NULL "
                "DEFAULT '', `agent` varchar(40) NOT NULL DEFAULT '', `event` varchar(20) NOT NULL DEFAULT '', "
                + ", ".join(f"`data{i}` varchar(40) NOT NULL DEFAULT ''" for i in range(1, 6)) + ")")
    return ('CREATE TABLE "queue_log" ("id" bigserial PRIMARY KEY, "time" timestamp NOT NULL, "callid" varchar(40) '
            "NOT NULL DEFAULT '', \"queuename\" varchar(20) NOT NULL DEFAULT '', \"agent\" varchar(40) NOT NULL "
            "DEFAULT '', \"event\" varchar(20) NOT NULL DEFAULT '', "
            + ", ".join(f"\"data{i}\" varchar(40) NOT NULL DEFAULT ''" for i in range(1, 6)) + ")")


def hand_cdr(i: int, when: datetime) -> tuple:
    uid = f"{int(when.timestamp())}.{i}"
    row = {"calldate": when.strftime("%Y-%m-%d %H:%M:%S"), "clid": f'"Caller {i}" <55500{i:03d}>',
           "src": f"55500{i:03d}", "dst": "200", "dcontext": "from-pstn", "channel": f"PJSIP/trunk-{i:08x}",
           "dstchannel": f"PJSIP/200-{i:08x}", "lastapp": "Dial", "lastdata": "PJSIP/200", "duration": 40,
           "billsec": 30, "disposition": "ANSWERED", "amaflags": 3, "uniqueid": uid, "linkedid": uid, "sequence": i}
    return tuple(row.get(c, "" if c not in INTS else 0) for c in CDR_COLUMNS)


def insert_cdr(server: Server, rows: list[tuple], table: str = "cdr") -> None:
    con = admin_db(server)
    q = "`" if server.engine == "mysql" else '"'
    sql = (f"INSERT INTO {q}{table}{q} (" + ", ".join(f"{q}{c}{q}" for c in CDR_COLUMNS) + ") VALUES ("  # noqa: S608
           + ", ".join(["%s"] * len(CDR_COLUMNS)) + ")")
    with con.cursor() as cur:
        cur.executemany(sql, rows)
    con.close()


def execute(server: Server, *statements: str) -> None:
    con = admin_db(server)
    with con.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    con.close()


def admin_db(server: Server) -> object:
    con = server.admin()
    if server.engine == "mysql":
        con.select_db("asteriskcdrdb")
    return con


@pytest.fixture(scope="module", params=["mysql", "postgresql"])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    with (mariadb() if request.param == "mysql" else postgres()) as running:
        yield running


@pytest.fixture
def tables(server: Server) -> Iterator[Server]:
    execute(server, cdr_ddl(server.engine), ql_ddl(server.engine))
    if server.engine == "postgresql":
        execute(server, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO callkpi")
    yield server
    q = "`" if server.engine == "mysql" else '"'
    execute(server, *(f"DROP TABLE IF EXISTS {q}{t}{q}" for t in ("cdr", "cdr_old", "queue_log")))


@pytest.fixture(autouse=True)
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLKPI_DB_PASSWORD", PASSWORD)


def legs(store: Store) -> int:
    return store.fetch_all("SELECT count(*) FROM cdr_records")[0][0]


def settings(**sql: object) -> Settings:
    return Settings.model_validate({"sql": sql})


def test_first_then_incremental_then_late_rows(tables: Server, tmp_path: Path) -> None:
    server = tables
    store = Store(tmp_path / "store.duckdb")
    insert_cdr(server, [hand_cdr(i, BASE + timedelta(minutes=i)) for i in range(20)])
    first = formats.load_database(store, server.url(), settings(batch_rows=100))
    assert (first.lines_read, first.lines_loaded, first.quarantined) == (20, 20, 0), first.messages
    assert any("table cel: not found" in m for m in first.messages)
    assert legs(store) == 20

    again = formats.load_database(store, server.url(), settings(batch_rows=100))
    assert again.lines_loaded == 0 and legs(store) == 20  # the window's rows are re-read, not loaded again

    insert_cdr(server, [hand_cdr(i, BASE + timedelta(minutes=i)) for i in range(20, 25)])
    grown = formats.load_database(store, server.url(), settings(batch_rows=100))
    assert grown.lines_loaded == 5 and legs(store) == 25

    late = BASE + timedelta(minutes=24) - timedelta(minutes=6)  # older than the newest, inside 10 min
    insert_cdr(server, [hand_cdr(99, late)])
    assert formats.load_database(store, server.url(), settings(batch_rows=100)).lines_loaded == 1
    assert legs(store) == 26
    assert formats.load_database(store, server.url(), settings(batch_rows=100)).lines_loaded == 0


def test_small_batches_and_queue_log(tables: Server, tmp_path: Path) -> None:
    server = tables
    store = Store(tmp_path / "store.duckdb")
    insert_cdr(server, [hand_cdr(i, BASE + timedelta(seconds=i)) for i in range(250)])
    q = "`" if server.engine == "mysql" else '"'
    events = [("2024-03-01 10:00:00", "c1", "sales", "NONE", "ENTERQUEUE", "", "555000", "1", "", ""),
              ("2024-03-01 10:00:05", "c1", "sales", "PJSIP/200", "CONNECT", "5", "c1.1", "2", "", ""),
              ("2024-03-01 10:01:05", "c1", "sales", "PJSIP/200", "COMPLETECALLER", "5", "60", "1", "", "")]
    con = admin_db(server)
    with con.cursor() as cur:
        cur.executemany(f"INSERT INTO {q}queue_log{q} (" + ", ".join(f"{q}{c}{q}" for c in QL_COLUMNS)  # noqa: S608
                        + ") VALUES (" + ", ".join(["%s"] * 10) + ")", events)
    con.close()
    batches: list[int] = []
    report = formats.load_database(store, server.url(), settings(batch_rows=100), on_batch=batches.append)
    assert batches[:3] == [100, 100, 50]
    assert legs(store) == 250
    assert store.fetch_all("SELECT count(*) FROM queue_log_events")[0][0] == 3
    assert report.lines_loaded == 253


def _kill_reader(server: Server) -> None:
    con = server.admin()
    with con.cursor() as cur:
        if server.engine == "mysql":
            cur.execute("SELECT id FROM information_schema.processlist WHERE user = 'callkpi'")
            for (pid,) in cur.fetchall():
                cur.execute(f"KILL {int(pid)}")
        else:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'callkpi'")
    con.close()


def test_connection_lost_mid_batch(tables: Server, tmp_path: Path) -> None:
    server = tables
    # three batches: two whole ones before the connection is lost, a shorter third (fewer batches
    # than that would not show a batch lost between whole ones)
    insert_cdr(server, [hand_cdr(i, BASE + timedelta(seconds=7 * i)) for i in range(250)])
    store = Store(tmp_path / "store.duckdb")
    seen: list[int] = []

    def kill_after_two(count: int) -> None:
        seen.append(count)
        if len(seen) == 2:
            threading.Thread(target=_kill_reader, args=(server,)).start()
            threading.Event().wait(1.0)

    with pytest.raises(ImportError_, match="reading stopped"):
        formats.load_database(store, server.url(), settings(batch_rows=100), on_batch=kill_after_two)
    assert legs(store) == 200  # the two whole batches; nothing of the third
    resumed = formats.load_database(store, server.url(), settings(batch_rows=100))
    assert legs(store) == 250 and resumed.lines_loaded == 50

    clean = Store(tmp_path / "clean.duckdb")
    formats.load_database(clean, server.url(), settings(batch_rows=100))
    count = "SELECT count(*), count(DISTINCT call_id) FROM calls"
    assert store.fetch_all(count) == clean.fetch_all(count)


def test_rotated_table(tables: Server, tmp_path: Path) -> None:
    server = tables
    store = Store(tmp_path / "store.duckdb")
    insert_cdr(server, [hand_cdr(i, BASE + timedelta(minutes=i)) for i in range(10)])
    formats.load_database(store, server.url(), Settings())
    q = "`" if server.engine == "mysql" else '"'
    rename = (f"RENAME TABLE {q}cdr{q} TO {q}cdr_old{q}" if server.engine == "mysql"
              else 'ALTER TABLE "cdr" RENAME TO "cdr_old"')
    execute(server, rename)
    gone = formats.load_database(store, server.url(), Settings())
    assert any("table cdr: not found" in m for m in gone.messages) and legs(store) == 10
    execute(server, cdr_ddl(server.engine))
    if server.engine == "postgresql":
        execute(server, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO callkpi")
    insert_cdr(server, [hand_cdr(i, BASE + timedelta(hours=1, minutes=i)) for i in range(10, 14)])
    assert formats.load_database(store, server.url(), Settings()).lines_loaded == 4
    assert legs(store) == 14
    execute(server, f"DELETE FROM {q}cdr{q}")  # noqa: S608 (truncated)
    insert_cdr(server, [hand_cdr(i, BASE + timedelta(hours=2, minutes=i)) for i in range(14, 16)])
    assert formats.load_database(store, server.url(), Settings()).lines_loaded == 2
    assert legs(store) == 16


def test_restart_in_a_new_process_with_real_rows(tables: Server, tmp_path: Path) -> None:
    server = tables
    if not REAL_DUMP.is_file():
        pytest.skip(f"real data not found at {REAL_DUMP}")
    rows = [r.values for r in DumpReader(REAL_DUMP).rows() if r.table == "cdr"]
    if server.engine == "postgresql":  # PostgreSQL has no zero dates
        rows = [r for r in rows if not str(r[0]).startswith("0000")]
    bogus = [r for r in rows if str(r[0]).startswith(("0000", "1000"))]
    zero = len(bogus)
    rows = [r for r in rows if r not in bogus]
    half = len(rows) // 2
    # the zero-date rows come first: later they would be older than the mark minus the window
    insert_cdr(server, bogus + rows[:half])
    db = tmp_path / "store.duckdb"

    def run() -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent / "src"), "CALLKPI_DB_PASSWORD": PASSWORD}
        return subprocess.run([sys.executable, "-m", "callkpi", "ingest", server.url(), "--db", str(db)],
                              capture_output=True, text=True, env=env, timeout=300, check=False)

    first = run()
    assert first.returncode in (0, 1), first.stderr
    insert_cdr(server, rows[half:])
    second = run()
    assert second.returncode in (0, 1), second.stderr
    with Store(db, read_only=True) as store:
        assert legs(store) == len(rows)
        assert store.fetch_all("SELECT count(*) FROM quarantine")[0][0] == zero


def test_password_in_the_address_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportError_, match="history"):
        formats.load_database(Store(tmp_path / "s.duckdb"), "mysql://callkpi:pw@127.0.0.1/asteriskcdrdb", Settings())


def test_serve_watch_polls_the_database(tables: Server, tmp_path: Path) -> None:
    from callkpi.web.db import Database
    from callkpi.web.watch import Watcher, WatchOptions

    server = tables
    insert_cdr(server, [hand_cdr(i, BASE + timedelta(minutes=i)) for i in range(5)])
    db = Database(tmp_path / "store.duckdb", settings(poll_s=600))
    watcher = Watcher(db, WatchOptions((), urls=(server.url(),), background=False))
    [report] = watcher.run_once()
    assert report.lines_loaded == 5
    assert watcher.run_once() == []  # polled again only after [sql] poll_s
    insert_cdr(server, [hand_cdr(i, BASE + timedelta(minutes=i)) for i in range(5, 8)])
    watcher._polled.clear()
    [report] = watcher.run_once()
    assert report.lines_loaded == 3
    assert [f.path for f in watcher.status().files] == [server.url()]
    assert legs(db.store()) == 8
    db.close()


CEL_COLUMNS = ("id", "eventtype", "eventtime", "cid_name", "cid_num", "cid_ani", "cid_rdnis", "cid_dnid", "exten",
               "context", "channame", "appname", "appdata", "amaflags", "accountcode", "uniqueid", "linkedid", "peer",
               "userdeftype", "extra")


def cel_ddl(engine: str) -> str:
    q = "`" if engine == "mysql" else '"'
    types = {"id": "bigint NOT NULL PRIMARY KEY", "eventtime": "datetime NOT NULL" if engine == "mysql"
             else "timestamp NOT NULL", "amaflags": "int NOT NULL", "extra": "varchar(512) NOT NULL"}
    return (f"CREATE TABLE {q}cel{q} (" + ", ".join(f"{q}{c}{q} {types.get(c, 'varchar(255) NOT NULL')}"
                                                    for c in CEL_COLUMNS) + ")")


def test_real_cel_rows_in_two_runs(tables: Server, tmp_path: Path) -> None:
    server = tables
    if not REAL_DUMP.is_file():
        pytest.skip(f"real data not found at {REAL_DUMP}")
    if "asterisk-cel-table" not in formats.FORMATS:
        pytest.skip("this callkpi has no CEL importer")
    rows = [r.values for r in DumpReader(REAL_DUMP).rows() if r.table == "cel"]
    q = "`" if server.engine == "mysql" else '"'
    execute(server, cel_ddl(server.engine))
    if server.engine == "postgresql":
        execute(server, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO callkpi")
    sql = (f"INSERT INTO {q}cel{q} VALUES (" + ", ".join(["%s"] * len(CEL_COLUMNS)) + ")")  # noqa: S608
    half = len(rows) // 2
    con = admin_db(server)
    with con.cursor() as cur:
        cur.executemany(sql, rows[:half])
    con.close()
    store = Store(tmp_path / "store.duckdb")
    try:
        first = formats.load_database(store, server.url(), settings(batch_rows=2500))  # one batch a run
        con = admin_db(server)
        with con.cursor() as cur:
            cur.executemany(sql, rows[half:])
        con.close()
        second = formats.load_database(store, server.url(), settings(batch_rows=2500))
        assert first.lines_loaded + second.lines_loaded == len(rows) == 4100
        assert store.fetch_all("SELECT count(*) FROM cel_events")[0][0] == 4100
    finally:
        execute(server, f"DROP TABLE {q}cel{q}")
