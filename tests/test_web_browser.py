"""The dashboard in headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

A real uvicorn server runs in a thread on the store of ``test_web_api``; the browser signs in,
opens every page (screenshots go to ``test-artifacts/``), checks a number against the API,
changes the period, sorts the agent table, opens a call, exports XLSX and reads it back,
marks a missed call handled and switches to Russian.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, serving, signed_in_tab
from callkpi.config import Settings
from test_web_api import PASSWORD, WebStore, build_web_store

pytestmark = pytest.mark.browser

PERIOD = {"from": "2026-03-02", "to": "2026-03-03"}
PAGES = {
    "overview": "/?from=2026-03-02&to=2026-03-03",
    "agents": "/agents?from=2026-03-02&to=2026-03-03",
    "agent": "/agents/1001?from=2026-03-02&to=2026-03-03",
    "queues": "/queues?from=2026-03-02&to=2026-03-03&interval=60",
    "calls": "/calls?from=2026-03-02&to=2026-03-03",
    "missed": "/missed?from=2026-03-02&to=2026-03-03",
    "outbound": "/outbound?from=2026-03-02&to=2026-03-03",
    "metrics": "/metrics",
    "wallboard": "/wallboard",
    "alerts": "/alerts",
    "targets": "/admin/targets",
    "users": "/admin/users",
}

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@dataclass
class Server:
    base: str
    data: WebStore

    def api(self, path: str, **params: Any) -> Any:
        response = httpx.get(self.base + path, params=params, timeout=30,
                             headers={"Authorization": f"Bearer {self.data.tokens['admin']}"})
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from callkpi.web.app import create_app

    data = build_web_store(tmp_path_factory.mktemp("browser"))
    with serving(create_app(data.path, Settings())) as base:
        yield Server(base, data)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def page(browser: Any, server: Server) -> Iterator[Any]:
    """One signed-in tab for the whole module (pages are opened in the order of the tests)."""
    with signed_in_tab(browser, server.base, PASSWORD, accept_downloads=True) as tab:
        yield tab


def _number(tab: Any, selector: str) -> float | None:
    raw = tab.locator(selector).first.get_attribute("data-value")
    return float(raw) if raw else None


def test_every_page_opens_and_draws(page: Any, server: Server) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for name, path in PAGES.items():
        page.goto(server.base + path)
        page.wait_for_load_state("networkidle")
        assert page.locator("main h1").count() >= 1, name
        charts = page.locator(".chart[data-chart]")
        for i in range(charts.count()):
            page.wait_for_function("el => el.dataset.ready === '1'", arg=charts.nth(i).element_handle())
            assert charts.nth(i).locator("svg").count() >= 1, (name, i)
        page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)
    assert page.errors == []


def test_overview_number_equals_the_api(page: Any, server: Server) -> None:
    page.goto(server.base + PAGES["overview"])
    api = server.api("/api/v1/kpi", **PERIOD)[0]
    for metric in ("answer_rate", "service_level", "asa_s", "calls_inbound"):
        assert _number(page, f".card-value [data-metric={metric}]") == pytest.approx(api[metric]), metric
    assert page.locator(".card-value [data-metric=service_level]").get_attribute("href") == "/metrics#m-service_level"


def test_changing_the_period(page: Any, server: Server) -> None:
    page.goto(server.base + PAGES["overview"])
    page.fill("form.period input[name=from]", "2026-03-03")
    page.fill("form.period input[name=to]", "2026-03-03")
    page.click("#apply-period")
    page.wait_for_url("**/?from=2026-03-03&to=2026-03-03*")
    api = server.api("/api/v1/kpi", **{"from": "2026-03-03", "to": "2026-03-03"})[0]
    assert _number(page, ".card-value [data-metric=calls_inbound]") == api["calls_inbound"] == 9
    page.click("a[data-preset='day']")
    page.wait_for_url("**preset=day*")
    assert _number(page, ".card-value [data-metric=calls_inbound]") == 9  # the latest day with data


def test_sorting_the_agent_table(page: Any, server: Server) -> None:
    page.goto(server.base + PAGES["agents"])
    header = page.locator("#agents-table th[data-metric=calls_handled]")
    column = page.locator("#agents-table thead th").evaluate_all(
        "ths => ths.findIndex(th => th.dataset.metric === 'calls_handled')")

    def values() -> list[float]:
        cells = page.locator(f"#agents-table tbody tr td:nth-child({column + 1})")
        return [float(v) for v in cells.evaluate_all("tds => tds.map(td => td.dataset.value)")]

    header.click(position={"x": 2, "y": 2})
    assert values() == sorted(values(), reverse=True)
    header.click(position={"x": 2, "y": 2})
    assert values() == sorted(values())
    api = {r["agent"]: r["calls_handled"] for r in server.api("/api/v1/kpi", by="agent", **PERIOD)}
    assert sorted(values()) == sorted(float(v) for v in api.values())


def test_opening_a_call(page: Any, server: Server) -> None:
    page.goto(server.base + PAGES["calls"])
    page.locator("#calls-list th a[data-sort-key=talk]").click()  # htmx swaps the table
    page.wait_for_url("**sort=talk*")
    page.locator("#calls-list th a[data-sort-key=talk]").click()
    page.wait_for_url("**sort=-talk*")
    first = page.locator("#calls-list tbody tr").first
    call_id = first.get_attribute("data-call")
    longest = server.api("/api/v1/calls", sort="-talk", limit=1, **PERIOD)["items"][0]
    assert call_id == longest["call_id"]
    first.locator("a.call-link").click()
    page.wait_for_url(f"**/calls/{call_id}")
    assert page.locator("#call-id").inner_text() == call_id
    assert page.locator("#timeline li").count() == len(server.api(f"/api/v1/calls/{call_id}")["events"])
    page.screenshot(path=str(ARTIFACTS / "web-call.png"), full_page=True)


def test_exporting_xlsx(page: Any, server: Server) -> None:
    from openpyxl import load_workbook

    page.goto(server.base + PAGES["agents"])
    with page.expect_download() as info:
        page.click("a[data-export=xlsx]")
    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert book.sheetnames == ["agents", "definitions"]
    rows = list(book["agents"].values)
    header = list(rows[0])
    api = {r["agent"]: r for r in server.api("/api/v1/kpi", by="agent", **PERIOD)}
    assert {row[0] for row in rows[1:]} == set(api)
    for row in rows[1:]:
        record = dict(zip(header, row, strict=True))
        assert record["aht_s"] == pytest.approx(api[record["agent"]]["aht_s"])
    definitions = [row[0] for row in book["definitions"].values]
    assert "aht_s" in definitions and "sl_threshold_s" in definitions


def test_marking_a_missed_call_handled(page: Any, server: Server) -> None:
    page.goto(server.base + PAGES["missed"])
    rows = page.locator("#missed-table tbody tr[data-call]")
    before = rows.count()
    assert before >= 1
    rows.first.locator("button").click()
    page.wait_for_selector("#missed-table tr.handled")
    assert page.locator("#missed-table tr[data-call]").count() == before - 1
    page.reload()
    assert page.locator("#missed-table tbody tr[data-call]").count() == before - 1


def test_switching_language(page: Any, server: Server) -> None:
    page.goto(server.base + PAGES["overview"])
    page.click("header a[data-lang=ru]")
    page.wait_for_selector("html[lang=ru]")
    assert page.locator("main h1").first.inner_text() == "Обзор"
    shown = page.locator(".card-value [data-metric=answer_rate]").inner_text()
    assert "," in shown and "%" in shown  # 66,7 %
    page.screenshot(path=str(ARTIFACTS / "web-overview-ru.png"), full_page=True)
    page.click("header a[data-lang=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.locator("main h1").first.inner_text() == "Overview"
