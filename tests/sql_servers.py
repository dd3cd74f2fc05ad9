"""Real MariaDB and PostgreSQL servers for the live SQL source tests, started on loopback in a
temporary folder from the Debian packages (``./dev test`` installs ``mariadb-server`` and
``postgresql``). A server that cannot be found or started skips its tests, saying why.

PostgreSQL refuses to run as root: as root, its folder belongs to ``nobody`` and it runs through
``runuser``. MariaDB runs as the invoking user (``--user=root`` when that is root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_DIRS = ("/usr/local/bin", "/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin")
PASSWORD = "s3cret-pw"


@dataclass(frozen=True)
class Server:
    engine: str
    port: int
    folder: Path
    admin: object  # a function () -> an admin DB-API connection

    def url(self, user: str = "callkpi", db: str = "asteriskcdrdb") -> str:
        scheme = "mysql" if self.engine == "mysql" else "postgresql"
        return f"{scheme}://{user}@127.0.0.1:{self.port}/{db}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(argv: list[str], **kw: object) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, **kw)


def _wait_port(port: int, seconds: float = 60) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.2)
    return False


@contextmanager
def mariadb() -> Iterator[Server]:
    daemon, install = shutil.which("mariadbd") or shutil.which("mysqld", path="/usr/sbin:/usr/bin"), shutil.which(
        "mariadb-install-db")
    if not daemon or not install:
        pytest.skip("MariaDB is not installed (apt-get install mariadb-server)")
    pymysql = pytest.importorskip("pymysql", reason="PyMySQL is not installed (pip install 'callkpi[sql]')")
    folder = Path(tempfile.mkdtemp(prefix="callkpi-mariadb-"))
    root = ["--user=root"] if os.geteuid() == 0 else []
    done = _run([install, "--no-defaults", f"--datadir={folder / 'data'}", "--auth-root-authentication-method=normal",
                 "--skip-test-db", *root])
    if done.returncode:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"mariadb-install-db failed: {done.stderr[-300:]}")
    port = free_port()
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen(
        [daemon, "--no-defaults", f"--datadir={folder / 'data'}", f"--socket={folder / 'sock'}", f"--port={port}",
         "--bind-address=127.0.0.1", f"--pid-file={folder / 'pid'}", "--skip-log-bin", *root],
        stdout=log, stderr=log)
    try:
        if not _wait_port(port):
            pytest.skip(f"MariaDB did not start: {(folder / 'server.log').read_text()[-300:]}")

        def admin() -> object:
            return pymysql.connect(host="127.0.0.1", port=port, user="root", password="", autocommit=True,
                                   charset="utf8mb4")

        con = admin()
        with con.cursor() as cur:
            cur.execute("CREATE DATABASE asteriskcdrdb")
            cur.execute("CREATE USER 'callkpi'@'127.0.0.1' IDENTIFIED BY %s", [PASSWORD])
            cur.execute("CREATE USER 'callkpi'@'localhost' IDENTIFIED BY %s", [PASSWORD])
            cur.execute("GRANT SELECT ON asteriskcdrdb.* TO 'callkpi'@'127.0.0.1'")
            cur.execute("GRANT SELECT ON asteriskcdrdb.* TO 'callkpi'@'localhost'")
        con.close()
        yield Server("mysql", port, folder, admin)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def postgres() -> Iterator[Server]:
    bindir = next((d for d in PG_DIRS if Path(d, "pg_ctl").is_file() and Path(d, "initdb").is_file()), None)
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'callkpi[sql]')")
    folder = Path(tempfile.mkdtemp(prefix="callkpi-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "nobody", "nogroup")
        folder.chmod(0o700)
        as_user = ["runuser", "-u", "nobody", "--"]
    data = folder / "data"
    done = _run([*as_user, f"{bindir}/initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"])
    if done.returncode:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"initdb failed: {done.stderr[-300:]}")
    port = free_port()
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    started = _run([*as_user, f"{bindir}/pg_ctl", "-D", str(data), "-o", options, "-l", str(folder / "log"),
                    "-w", "start"])
    try:
        if started.returncode or not _wait_port(port):
            pytest.skip(f"PostgreSQL did not start: {started.stderr[-300:]}")

        def admin(db: str = "asteriskcdrdb") -> object:
            return psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname=db, autocommit=True)

        con = admin("postgres")
        con.execute("CREATE DATABASE asteriskcdrdb")
        con.execute(f"CREATE ROLE callkpi LOGIN PASSWORD '{PASSWORD}'")
        con.close()
        con = admin()
        con.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO callkpi")
        con.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO callkpi")
        con.close()
        yield Server("postgresql", port, folder, admin)
    finally:
        _run([*as_user, f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(folder, ignore_errors=True)
