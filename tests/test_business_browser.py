"""The business pages in headless Chromium on the store of ``test_business_web``: the training
effect against the API, a scorecard and its XLSX export read back, the sales page, Russian.
Screenshots go to ``test-artifacts/``."""

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
from test_business_sales import RU
from test_business_web import PASSWORD, PROGRAMME, BusinessStore, build_business_store

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

TRAINING = f"/training?programme={PROGRAMME.replace(' ', '+')}&window_days=19"
DAY = "from=2026-03-02&to=2026-03-02"


@dataclass
class Server:
    base: str
    data: BusinessStore

    def api(self, path: str, **params: Any) -> Any:
        response = httpx.get(self.base + path, params=params, timeout=60,
                             headers={"Authorization": f"Bearer {self.data.tokens['admin']}"})
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from callkpi.web.app import create_app

    data = build_business_store(tmp_path_factory.mktemp("business-browser"))
    with serving(create_app(data.path, Settings(phone=RU.phone), warm=False)) as base:
        yield Server(base, data)


@pytest.fixture(scope="module")
def page(server: Server) -> Iterator[Any]:
    """One signed-in admin tab (tests run in file order)."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            with signed_in_tab(browser, server.base, PASSWORD, timeout_ms=30_000, accept_downloads=True) as tab:
                yield tab
        finally:
            browser.close()


def _shot(tab: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)


def test_training_page_equals_the_api(page: Any, server: Server) -> None:
    page.click("header a[data-nav=training]")
    page.wait_for_url("**/training")
    page.select_option("#training-form select[name=programme]", PROGRAMME)
    page.fill("#training-form input[name=window_days]", "19")
    page.click("#apply-training")
    page.wait_for_url("**window_days=19*")
    api = {e["metric"]: e for e in server.api("/api/v1/training-effect", programme=PROGRAMME, window_days=19)}
    row = page.locator(f"section[data-programme='{PROGRAMME}'] tr[data-metric=conversion_rate]")
    assert float(row.locator("td.effect").get_attribute("data-value")) == pytest.approx(
        api["conversion_rate"]["effect"])
    assert row.get_attribute("data-verdict") == api["conversion_rate"]["verdict"]
    assert page.locator("tr[data-metric=csat]").get_attribute("data-verdict") == "not_enough_data"
    chart = page.locator(f"section[data-programme='{PROGRAMME}'] figure[data-metric=conversion_rate] .chart")
    chart.locator("svg").first.wait_for()  # the before/after chart with its intervals was drawn
    assert chart.get_attribute("data-ready") == "1"
    assert chart.locator("svg path").count() > 4  # means, their line and the whiskers
    _shot(page, "training")
    assert page.errors == []


def test_scorecard_and_its_xlsx(page: Any, server: Server) -> None:
    from openpyxl import load_workbook

    page.goto(f"{server.base}/agents/1001?{DAY}")
    page.click("#scorecard-link")
    page.wait_for_url("**/agents/1001/scorecard?*")
    api = server.api("/api/v1/agents/1001/scorecard", **{"from": "2026-03-02", "to": "2026-03-02"})
    rows = {r["metric"]: r for r in api["rows"]}
    shown = page.locator("#scorecard-table tr[data-metric=revenue] td.agent a").get_attribute("data-value")
    assert float(shown) == rows["revenue"]["agent"]
    assert page.locator("#profile [data-field=team]").inner_text().startswith("north")
    assert page.locator("[data-rule=attribution]").count() == 1
    _shot(page, "scorecard")
    with page.expect_download() as info:
        page.click("a[data-export=xlsx]")
    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert book.sheetnames == ["scorecard_1001", "definitions"]
    records = {r[1]: r for r in list(book.worksheets[0].values)[1:]}
    for metric in ("calls_handled", "deals_won", "revenue", "conversion_rate"):
        assert records[metric][3] == pytest.approx(rows[metric]["agent"]), metric
        assert records[metric][4] == pytest.approx(rows[metric]["team"]), metric


def test_sales_page_grouped_by_team(page: Any, server: Server) -> None:
    page.goto(f"{server.base}/sales?{DAY}")
    page.select_option("#sales-by", "team")
    page.click("#apply-period")
    page.wait_for_url("**by=team*")
    api = {r["team"]: r for r in server.api("/api/v1/kpi", by="team", metrics="csat,cost", **{
        "from": "2026-03-02", "to": "2026-03-02"})}
    north = page.locator("#sales-table tbody tr:has(td[data-value=north])")
    for metric in ("csat", "cost"):
        shown = north.locator(f"a[data-metric={metric}]").get_attribute("data-value")
        assert float(shown) == pytest.approx(api["north"][metric]), metric
    _shot(page, "sales")


def test_switching_language_on_the_training_page(page: Any, server: Server) -> None:
    page.goto(server.base + TRAINING)
    page.click("header a[data-lang=ru]")
    page.wait_for_selector("html[lang=ru]")
    assert page.locator("main h1").first.inner_text() == "Эффект обучения"
    verdicts = page.locator("ul.verdicts").first.inner_text()
    assert "недостаточно данных" in verdicts and "показатель «Конверсия звонков в сделки»" in verdicts
    effect = page.locator("tr[data-metric=conversion_rate] td.effect").inner_text()
    assert "," in effect and "п.п." in effect  # +4,1 п.п.
    _shot(page, "training-ru")
    page.click("header a[data-lang=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.errors == []
