"""Scheduled reports sent through a real SMTP server (aiosmtpd on loopback, started here): the
message, its headers, its body (headline KPIs against targets) and its attachment (the overview PDF
read with pypdf, the XLSX opened with openpyxl), the CLI and the admin page, and a server that is
down: the send fails, is logged with its error and attempts, and is retried with backoff.

The day is ``test_alerts``'s Monday 2 March 2026 (UTC): 24 calls, all answered; ``sales`` 12 calls,
six waiting 5 s and six 60 s (service level 6/12, ASA (6*5 + 6*60)/12 = 32.5 s); ``support`` 12 calls
waiting 5 s. Together: 24 inbound calls, service level 18/24 = 75 %.
"""

from __future__ import annotations

import email
import io
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from callkpi.cli import _register_commands, app
from callkpi.config import MailSettings, Settings
from callkpi.queries.schedules import Schedule, add_schedule, get_schedule, recent_runs
from callkpi.queries.targets import save_target
from callkpi.queries.web_tables import ensure_web_schema
from callkpi.storage import Store
from callkpi.web.app import create_app
from callkpi.web.auth import create_user
from callkpi.web.db import Database
from callkpi.web.features import scheduled_reports
from conftest import load_text
from test_alerts import _day_log
from test_web_watch import PASSWORD, login

RUN_DAY = datetime(2026, 3, 3, 10, tzinfo=UTC)  # the morning after: last-day is Monday 2 March


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Inbox:
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd calls it by this name
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=default_policy))
        return "250 OK"


@dataclass
class Smtp:
    port: int
    inbox: Inbox
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp(_free_port(), Inbox())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _settings(port: int) -> Settings:
    return Settings(mail=MailSettings(host="127.0.0.1", port=port, security="none", sender="kpi@example.com",
                                      timeout_s=5))


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "mail.duckdb"
    with Store(path) as store:
        ensure_web_schema(store)
        load_text(store, tmp_path, _day_log())
        save_target(store, "all", "*", "service_level", 0.8, 0.7, "test")  # 75 %: amber
    return path


def _schedule(**changes: Any) -> Schedule:
    base = {"schedule_id": 0, "every": "daily 09:00", "report": "overview", "period": "last-day",
            "format": "pdf", "recipients": ("boss@example.com", "head@example.com")}
    return Schedule(**{**base, **changes})


def _attachment(message: EmailMessage) -> tuple[str, bytes, str]:
    parts = list(message.iter_attachments())
    assert len(parts) == 1
    part = parts[0]
    return part.get_filename(), part.get_content(), part.get_content_type()


def _body(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return body.get_content()


def test_the_overview_pdf_arrives_with_headers_attachment_and_the_kpis_against_targets(
        store_path: Path, smtp: Smtp) -> None:
    db = Database(store_path, _settings(smtp.port))
    try:
        new_id = add_schedule(db.store(), _schedule(), datetime(2026, 3, 1))
        record = scheduled_reports.run_now(db, get_schedule(db.store(), new_id), RUN_DAY)
    finally:
        db.close()
    assert record.status == "sent" and record.attempts == 1 and record.error is None
    assert (record.date_from.isoformat(), record.date_to.isoformat()) == ("2026-03-02", "2026-03-02")
    [message] = smtp.inbox.messages
    assert message["From"] == "kpi@example.com"
    assert message["To"] == "boss@example.com, head@example.com"
    assert set(smtp.inbox.envelopes[0].rcpt_tos) == {"boss@example.com", "head@example.com"}
    assert "overview" in message["Subject"] and "2026" in message["Subject"]
    assert message["Message-ID"] and message["Date"]
    name, content, mime = _attachment(message)
    assert name == "callkpi-overview-2026-03-02-2026-03-02.pdf" and mime == "application/pdf"
    assert content[:5] == b"%PDF-" and len(content) > 2000
    from pypdf import PdfReader

    text = " ".join("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())
    assert "callkpi — Overview" in text
    assert re.search(r"Inbound calls 24\b", text), text[:600]  # 12 + 12 calls entered a queue
    body = _body(message)
    # service level 18 of 24 within 20 s = 75 %, between the warning level 70 % and the target 80 %
    assert re.search(r"Service level[^\n]*: 75(\.0)?\s?% \(target 80(\.0)?\s?%: near target\)", body), body
    assert re.search(r"Inbound calls: 24 \(no target\)", body), body
    # ASA (18*5 + 6*60) / 24 = 18.75 s, over the default target of 15 s and within its warning level
    assert "Average speed of answer: 18.8 s (target 15.0 s: near target)" in body.replace("\xa0", " ")


def test_the_xlsx_of_one_queue_carries_its_kpis(store_path: Path, smtp: Smtp) -> None:
    import openpyxl

    db = Database(store_path, _settings(smtp.port))
    try:
        new_id = add_schedule(db.store(), _schedule(format="xlsx", queues=("sales",), lang="ru"), datetime(2026, 3, 1))
        record = scheduled_reports.run_now(db, get_schedule(db.store(), new_id), RUN_DAY)
    finally:
        db.close()
    assert record.status == "sent"
    [message] = smtp.inbox.messages
    name, content, mime = _attachment(message)
    assert name.endswith(".xlsx") and mime == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, [cell.value for cell in sheet[2]], strict=False))
    assert row["calls_inbound"] == 12  # the sales queue only
    assert row["asa_s"] == pytest.approx((6 * 5 + 6 * 60) / 12)  # 32.5 s
    assert row["service_level"] == pytest.approx(6 / 12)
    assert "Отчёт callkpi" in _body(message) and "Очереди: sales" in _body(message)


def test_a_server_down_fails_is_logged_and_is_retried_with_backoff(store_path: Path) -> None:
    port = _free_port()  # nothing listens yet
    db = Database(store_path, _settings(port))
    server = Smtp(port, Inbox())
    try:
        new_id = add_schedule(db.store(), _schedule(every="tue 09:00"), datetime(2026, 3, 1))
        due = datetime(2026, 3, 3, 9, 1, tzinfo=UTC)  # Tuesday 09:01 UTC
        [failed] = scheduled_reports.run_due(db, due)
        assert failed.status == "failed" and failed.attempts == 1
        assert (failed.error or "").startswith("MailError: ConnectionRefusedError"), failed.error
        assert failed.next_retry_utc == due.replace(tzinfo=None) + timedelta(seconds=60)
        assert scheduled_reports.run_due(db, due + timedelta(seconds=30)) == []  # not yet, nor the slot again
        [again] = scheduled_reports.run_due(db, due + timedelta(seconds=61))  # still down
        assert again.attempts == 2 and again.next_retry_utc == (due + timedelta(seconds=61 + 240)).replace(tzinfo=None)
        server.start()
        [sent] = scheduled_reports.run_due(db, due + timedelta(seconds=61 + 241))
        assert sent.status == "sent" and sent.attempts == 3 and sent.slot == "2026-03-03T09:00"
        assert len(server.inbox.messages) == 1
        assert scheduled_reports.run_due(db, due + timedelta(hours=2)) == []  # sent: never again
        [logged] = recent_runs(db.store(), new_id)
        assert logged.status == "sent" and logged.attempts == 3 and logged.first_utc == due.replace(tzinfo=None)
    finally:
        server.stop()
        db.close()


def _config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "callkpi.toml"
    path.write_text(f'[mail]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nsender = "kpi@example.com"\n'
                    'timeout_s = 5\n', encoding="utf-8")
    return path


def test_the_cli_adds_lists_runs_and_removes_schedules(store_path: Path, tmp_path: Path, smtp: Smtp) -> None:
    _register_commands()
    runner = CliRunner()
    common = ["--db", str(store_path), "--config", str(_config(tmp_path, smtp.port))]
    added = runner.invoke(app, ["schedule", "add", "--every", "tue 09:00", "--report", "agents", "--period",
                                "last-day", "--format", "xlsx", "--to", "boss@example.com", *common])
    assert added.exit_code == 0, added.output
    assert "schedule 1 added" in added.output
    bad = runner.invoke(app, ["schedule", "add", "--every", "someday", "--report", "agents", "--to", "a@b.c", *common])
    assert bad.exit_code != 0 and "cannot read" in bad.output
    listed = runner.invoke(app, ["schedule", "list", *common])
    assert listed.exit_code == 0 and "never sent" in listed.output and "tue 09:00" in listed.output
    # created now (after 3 March), so 3 March's slot is not due; run-now sends at once
    sent = runner.invoke(app, ["schedule", "run-now", "1", *common])
    assert sent.exit_code == 0, sent.output
    assert "sent" in sent.output and len(smtp.inbox.messages) == 1
    listed = runner.invoke(app, ["schedule", "list", *common])
    assert "sent" in listed.output and "1 attempt" in listed.output
    removed = runner.invoke(app, ["schedule", "remove", "1", *common])
    assert removed.exit_code == 0 and runner.invoke(app, ["schedule", "list", *common]).output.strip() == ""


def test_run_due_from_the_cli_reports_a_failure_with_exit_status_1(store_path: Path, tmp_path: Path) -> None:
    _register_commands()
    runner = CliRunner()
    common = ["--db", str(store_path), "--config", str(_config(tmp_path, _free_port()))]
    with Store(store_path) as store:
        add_schedule(store, _schedule(every="tue 09:00"), datetime(2026, 3, 1))
    result = runner.invoke(app, ["schedule", "run-due", "--now", "2026-03-03T09:05", *common])
    assert result.exit_code == 1 and "failed" in result.output and "retry at 2026-03-03 09:06" in result.output
    listed = runner.invoke(app, ["schedule", "list", *common])
    assert "failed" in listed.output and "1 attempt" in listed.output


def test_admins_manage_schedules_on_the_admin_page(store_path: Path, smtp: Smtp) -> None:
    with Store(store_path) as store:
        create_user(store, "admin", PASSWORD, "admin")
        create_user(store, "sup", PASSWORD, "supervisor")
    application = create_app(store_path, _settings(smtp.port), warm=False, alerts=False, schedules=False)
    with TestClient(application) as client:
        login(client)
        page = client.get("/admin/schedules")
        assert page.status_code == 200 and "new-schedule" in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        form = {"action": "add", "every": "mon 09:00", "report": "overview", "period": "last-week",
                "format": "pdf", "to": "boss@example.com", "lang": "en"}
        assert client.post("/admin/schedules", data=form, follow_redirects=False).status_code == 403  # no CSRF
        assert client.post("/admin/schedules", data={**form, "csrf_token": csrf},
                           follow_redirects=False).status_code == 303
        bad = client.post("/admin/schedules", data={**form, "format": "docx", "csrf_token": csrf})
        assert bad.status_code == 400 and "pdf or xlsx" in bad.text
        page = client.get("/admin/schedules")
        assert 'data-schedule="1"' in page.text and "mon 09:00" in page.text
        ran = client.post("/admin/schedules", data={"action": "run-now", "schedule_id": "1", "csrf_token": csrf})
        assert ran.status_code == 200 and 'id="schedule-shown"' in ran.text and 'data-status="sent"' in ran.text
        assert len(smtp.inbox.messages) == 1
        client.post("/logout", data={"csrf_token": csrf})
        login(client, "sup")
        assert client.get("/admin/schedules").status_code == 403


@pytest.mark.parametrize(("report", "agent", "rows"), [
    ("agents", None, 24),  # every call was answered by an agent of its own: 24 agents
    ("qa", None, None),
    ("scorecard", "sales0", None),
])
def test_the_other_reports_arrive_as_xlsx(store_path: Path, smtp: Smtp, report: str, agent: str | None,
                                          rows: int | None) -> None:
    import openpyxl

    db = Database(store_path, _settings(smtp.port))
    try:
        new_id = add_schedule(db.store(), _schedule(report=report, format="xlsx", agent=agent), datetime(2026, 3, 1))
        record = scheduled_reports.run_now(db, get_schedule(db.store(), new_id), RUN_DAY)
    finally:
        db.close()
    assert record.status == "sent", record.error
    [message] = smtp.inbox.messages
    name, content, _ = _attachment(message)
    assert name.startswith(f"callkpi-{report}-2026-03-02")
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    if rows is not None:
        assert sheet.max_row - 1 == rows
        header = [cell.value for cell in sheet[1]]
        handled = [row[header.index("calls_handled")] for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert handled == [1] * 24
    assert len(book.worksheets) == 2  # the definitions sheet travels with the numbers


def test_sales_without_business_data_fails_with_the_reason(store_path: Path, smtp: Smtp) -> None:
    db = Database(store_path, _settings(smtp.port))
    try:
        new_id = add_schedule(db.store(), _schedule(report="sales", format="xlsx"), datetime(2026, 3, 1))
        record = scheduled_reports.run_now(db, get_schedule(db.store(), new_id), RUN_DAY)
    finally:
        db.close()
    assert record.status == "failed" and "no sales data" in (record.error or "")
    assert smtp.inbox.messages == []


def test_serve_sends_a_report_missed_while_it_was_down_once_at_start(store_path: Path, smtp: Smtp) -> None:
    with Store(store_path) as store:  # the slot of 00:00 today (UTC) passed while no server ran
        add_schedule(store, _schedule(every="daily 00:00"), datetime(2026, 1, 1))
    for _restart in range(2):
        application = create_app(store_path, _settings(smtp.port), warm=False, alerts=False)
        with TestClient(application):
            runner = application.state.schedules
            assert runner is not None
            deadline = datetime.now(UTC) + timedelta(seconds=20)
            while runner.checked_utc is None and datetime.now(UTC) < deadline:
                time.sleep(0.1)
            assert runner.checked_utc is not None  # the first check runs at start
    assert len(smtp.inbox.messages) == 1  # the second start finds the slot taken
    with Store(store_path) as store:
        [run] = recent_runs(store)
    assert run.status == "sent" and run.slot == datetime.now(UTC).strftime("%Y-%m-%dT00:00")


@pytest.mark.parametrize(("report", "agent", "expected"), [
    ("agents", None, [f"{queue}{n}" for queue in ("sales", "support") for n in range(12)]),
    ("scorecard", "sales0", ["Scorecard: sales0", "Calls handled 1"]),  # one call, waited 5 s
    ("qa", None, ["Call quality"]),
])
def test_the_other_reports_arrive_as_pdf(store_path: Path, smtp: Smtp, report: str, agent: str | None,
                                         expected: list[str]) -> None:
    from pypdf import PdfReader

    db = Database(store_path, _settings(smtp.port))
    try:
        new_id = add_schedule(db.store(), _schedule(report=report, format="pdf", agent=agent), datetime(2026, 3, 1))
        record = scheduled_reports.run_now(db, get_schedule(db.store(), new_id), RUN_DAY)
    finally:
        db.close()
    assert record.status == "sent", record.error
    [message] = smtp.inbox.messages
    name, content, mime = _attachment(message)
    assert name.endswith(".pdf") and mime == "application/pdf" and content[:5] == b"%PDF-"
    text = " ".join("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())
    missing = [word for word in expected if word not in text]
    assert missing == [], text[:1500]


@pytest.mark.parametrize("to", ["boss", "a@b", "a b@c.d", "a@b.c\nBcc: x@y.z", "a@b.c\n", "<a@b.c>"])
def test_a_recipient_that_is_no_plain_address_is_refused(to: str) -> None:
    with pytest.raises(scheduled_reports.BadSchedule, match="e-mail address"):
        scheduled_reports.check_schedule(_schedule(recipients=(to,)))


def test_the_login_takes_its_password_from_the_named_environment_variable(
        store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    seen: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        seen.append((data.login, data.password))
        # (no wrong password is tried: aiosmtpd delays a refusal past the client timeout)
        return AuthResult(success=data.password == b"s3cret from env")

    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    settings = _settings(port)
    settings = settings.model_copy(update={"mail": settings.mail.model_copy(
        update={"user": "reports", "password_env": "CALLKPI_TEST_SMTP_PASSWORD"})})
    db = Database(store_path, settings)
    try:
        new_id = add_schedule(db.store(), _schedule(), datetime(2026, 3, 1))
        monkeypatch.setenv("CALLKPI_TEST_SMTP_PASSWORD", "s3cret from env")
        sent = scheduled_reports.run_now(db, get_schedule(db.store(), new_id), RUN_DAY)
        assert sent.status == "sent", sent.error
    finally:
        db.close()
        controller.stop()
    assert seen[-1] == (b"reports", b"s3cret from env") and len(inbox.messages) == 1


def test_admins_see_a_failed_send_with_its_error_and_next_try(store_path: Path) -> None:
    with Store(store_path) as store:
        create_user(store, "admin", PASSWORD, "admin")
        add_schedule(store, _schedule(every="tue 09:00"), datetime(2026, 3, 1))
    application = create_app(store_path, _settings(_free_port()), warm=False, alerts=False, schedules=False)
    with TestClient(application) as client:
        login(client)
        page = client.get("/admin/schedules")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        ran = client.post("/admin/schedules", data={"action": "run-now", "schedule_id": "1", "csrf_token": csrf})
        assert 'id="schedule-shown"' in ran.text and "ConnectionRefusedError" in ran.text
        page = client.get("/admin/schedules")
        row = re.search(r'<tr data-run="1:now:[^"]+" data-status="failed">(.*?)</tr>', page.text, re.S)
        assert row, page.text
        cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
        assert cells[3] == "1" and "UTC" in cells[4] and "ConnectionRefusedError" in cells[5]
        assert "failed, will retry" in page.text


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made with the openssl command; skip without it)."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_starttls_upgrades_the_connection_and_checks_the_certificate(
        store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    cert, key = _certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=server_context, require_starttls=True)
    controller.start()
    settings = _settings(port)
    settings = settings.model_copy(update={"mail": settings.mail.model_copy(update={"security": "starttls"})})
    db = Database(store_path, settings)
    try:
        new_id = add_schedule(db.store(), _schedule(), datetime(2026, 3, 1))
        untrusted = scheduled_reports.run_now(db, get_schedule(db.store(), new_id), RUN_DAY)
        assert untrusted.status == "failed" and "CERTIFICATE_VERIFY_FAILED" in (untrusted.error or "")
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # a private CA, as OpenSSL reads it
        trusted = scheduled_reports.run_now(db, get_schedule(db.store(), new_id), RUN_DAY + timedelta(seconds=1))
        assert trusted.status == "sent", trusted.error
    finally:
        db.close()
        controller.stop()
    assert len(inbox.messages) == 1
