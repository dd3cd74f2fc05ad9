"""What a user sees in the browser (issue 15, web): page weight, accessibility (axe-core), the weekday
heat map's labels, the phone layout and the charts, in English and Russian.

Debian's Chromium through Playwright on the store of ``test_web_api`` (two days, Monday 2 and Tuesday
3 March 2026: a period without a Sunday). axe-core comes from the npm registry into tests/tools/
(``./dev test`` installs it); without it the accessibility test is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from browser_support import CHROMIUM, CHROMIUM_ARGS, serving
from callkpi.config import Settings
from test_web_api import PASSWORD, build_web_store

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "tools" / "node_modules" / "axe-core" / "axe.min.js"
QUERY = "from=2026-03-02&to=2026-03-03"
PERIOD = {"from": "2026-03-02", "to": "2026-03-03"}
PAGES = {
    "overview": f"/?{QUERY}",
    "agents": f"/agents?{QUERY}",
    "agent": f"/agents/1001?{QUERY}",
    "queues": f"/queues?{QUERY}&interval=60",
    "calls": f"/calls?{QUERY}",
    "missed": f"/missed?{QUERY}",
    "outbound": f"/outbound?{QUERY}",
    "metrics": "/metrics",
    "wallboard": "/wallboard",
    "alerts": "/alerts",
    "qa": f"/qa?{QUERY}",
    "qa_scorecards": "/qa/scorecards",
    "scripts": "/scripts",
    "sales": f"/sales?{QUERY}",
    "training": "/training",
    "targets": "/admin/targets",
    "users": "/admin/users",
    "sources": "/admin/sources",
    "schedules": "/admin/schedules",
}
# First visit, compressed, everything the page loads: a page with charts carries the chart library.
BUDGET_KB = {"charts": 450, "plain": 120}
WEEKDAYS = {"en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), "ru": ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")}

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server, with one QA review of agent 1001 (so that the QA page has its trends)."""
    import httpx

    from callkpi.web.app import create_app

    data = build_web_store(tmp_path_factory.mktemp("ux"))
    with serving(create_app(data.path, Settings(), alerts=False)) as url:
        auth = {"Authorization": f"Bearer {data.tokens['admin']}"}
        calls = httpx.get(url + "/api/v1/calls", params={"agent": "1001", "limit": 1, **PERIOD}, headers=auth)
        review = httpx.post(url + "/api/v1/qa/reviews", headers=auth, timeout=30, json={
            "call_id": calls.json()["items"][0]["call_id"], "call_type": "qualification",
            "scores": {"greeting": 1, "problem identification": 1, "needs questions": None, "product presentation": 1,
                       "next step agreed": 1, "personal data consent": 1}})
        assert review.status_code in (200, 201), review.text
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def session(browser: Any, base: str) -> dict[str, Any]:
    """The signed-in cookies of ``admin`` (each test opens its own contexts with them)."""
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(base + "/login")
    tab.fill("input[name=username]", "admin")
    tab.fill("input[name=password]", PASSWORD)
    tab.click("form[action='/login'] button[type=submit]")
    tab.wait_for_url(base + "/")
    state = context.storage_state()
    context.close()
    return state


def open_tab(browser: Any, base: str, session: dict[str, Any] | None, lang: str, width: int = 1400,
             bypass_csp: bool = False) -> Any:
    """A tab in a new context (an empty cache); ``bypass_csp`` lets a test inject axe-core's script."""
    context = browser.new_context(viewport={"width": width, "height": 900}, storage_state=session,
                                  locale="ru-RU" if lang == "ru" else "en-US", bypass_csp=bypass_csp)
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    if session is not None:
        tab.goto(f"{base}/lang/{lang}?next=/metrics")
    return tab


def wait_for_charts(tab: Any) -> int:
    charts = tab.locator(".chart[data-chart]")
    for i in range(charts.count()):
        tab.wait_for_function("el => el.dataset.ready === '1'", arg=charts.nth(i).element_handle())
    return charts.count()


def test_page_weight_within_budget_and_static_files_cached(browser: Any, base: str,
                                                           session: dict[str, Any]) -> None:
    for name, path in {"login": "/login", **PAGES}.items():
        tab = open_tab(browser, base, None if name == "login" else session, "en")
        cdp = tab.context.new_cdp_session(tab)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})  # a first visit
        wire: dict[str, int] = {}
        urls: dict[str, str] = {}
        cdp.on("Network.requestWillBeSent", lambda e, u=urls: u.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on("Network.loadingFinished", lambda e, w=wire: w.__setitem__(e["requestId"], e["encodedDataLength"]))
        responses: list[Any] = []
        tab.on("response", lambda r, seen=responses: seen.append(r))
        tab.goto(base + path)
        tab.wait_for_load_state("networkidle")
        charts = wait_for_charts(tab)
        total_kb = sum(wire.values()) / 1024
        kind = "charts" if charts else "plain"
        assert total_kb <= BUDGET_KB[kind], (name, round(total_kb), kind)
        loaded = " ".join(urls.values())
        assert ("echarts" in loaded) == bool(charts), name  # the chart library only where a chart is
        for response in responses:
            if "/static/" in response.url:
                headers = response.headers
                assert headers.get("cache-control") == "public, max-age=31536000, immutable", response.url
                assert "?v=" in response.url
                if response.url.split("?")[0].endswith((".js", ".css")):
                    assert headers.get("content-encoding") == "gzip", response.url
        tab.context.close()


def test_echarts_is_compressed_to_a_third(base: str) -> None:
    import httpx

    page = httpx.get(base + "/login").text
    href = page.split('data-echarts="', 1)[1].split('"', 1)[0]
    plain = httpx.get(base + href, headers={"Accept-Encoding": "identity"})
    with httpx.stream("GET", base + href, headers={"Accept-Encoding": "gzip"}) as packed:
        assert packed.headers["content-encoding"] == "gzip"
        wire = b"".join(packed.iter_raw())
    assert len(wire) < len(plain.content) / 3
    assert httpx.get(base + "/static/app.js?v=old").headers["cache-control"] == "no-cache"  # not this version


@pytest.mark.skipif(not AXE.exists(), reason="axe-core not installed (./dev test installs it into tests/tools)")
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_page_has_no_serious_accessibility_violation(browser: Any, base: str, session: dict[str, Any],
                                                           lang: str) -> None:
    tab = open_tab(browser, base, session, lang, bypass_csp=True)
    call_id = None
    found: dict[str, list[str]] = {}
    for name, path in {**PAGES, "call": None, "login": "/login"}.items():
        if name == "call":
            tab.goto(base + PAGES["calls"])
            call_id = tab.locator("#calls-list tbody tr[data-call]").first.get_attribute("data-call")
            path = f"/calls/{call_id}"
        if name == "login":
            tab.context.clear_cookies()
        response = tab.goto(base + path)
        assert response is not None and response.status == 200, (name, response.status if response else None)
        assert tab.locator("html").get_attribute("lang") == lang or name == "login"
        tab.wait_for_load_state("networkidle")
        wait_for_charts(tab)
        tab.add_script_tag(path=str(AXE))
        result = tab.evaluate("""async () => {
            const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
            const r = await axe.run(document, { runOnly: { type: 'tag', values: tags } });
            return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
        }""")
        if result:
            found[name] = result
    assert found == {}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_weekday_heat_map_labels_a_period_without_sunday(browser: Any, base: str, session: dict[str, Any],
                                                         lang: str) -> None:
    tab = open_tab(browser, base, session, lang)
    tab.goto(base + PAGES["queues"])
    heat = tab.locator(".chart[data-chart*='heatmap']")
    spec = json.loads(heat.get_attribute("data-chart"))
    first, last = date(2026, 3, 2), date(2026, 3, 3)
    expected = [WEEKDAYS[lang][(first + timedelta(days=i)).weekday()] for i in range((last - first).days + 1)]
    assert spec["y"] == expected  # Monday and Tuesday (2 and 3 March 2026), not Tuesday and Wednesday
    wait_for_charts(tab)
    drawn = [t.strip() for t in heat.locator("svg text").all_text_contents()]
    assert all(label in drawn for label in expected)
    assert WEEKDAYS[lang][2] not in drawn


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_phone_width_menu_folds_and_nothing_scrolls_sideways(browser: Any, base: str, session: dict[str, Any],
                                                            lang: str) -> None:
    tab = open_tab(browser, base, session, lang, width=390)
    for name, path in PAGES.items():
        tab.goto(base + path)
        tab.wait_for_load_state("networkidle")
        top = tab.evaluate("() => document.querySelector('main h1').getBoundingClientRect().top + window.scrollY")
        assert top < 120, (name, top)  # the menu is folded: content starts under a one-line header
        overflow = tab.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (name, overflow)
        for box in tab.locator(".table-wrap").all():
            assert box.evaluate("el => el.getBoundingClientRect().right") <= 390 + 0.5, name
    tab.goto(base + PAGES["overview"])
    cards = tab.evaluate("() => [...document.querySelectorAll('.card')].map(c => c.getBoundingClientRect())"
                         ".map(r => [Math.round(r.top), r.right])")
    assert len(cards) >= 4 and max(right for _, right in cards) <= 390
    per_row = max(sum(1 for top, _ in cards if top == row) for row, _ in cards)
    assert per_row <= 2  # the cards stack: at most two side by side
    toggle = tab.locator("#menu-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not tab.locator("#main-menu").is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert tab.locator("#main-menu a[data-nav=agents]").is_visible()


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_charts_on_missed_wallboard_and_qa_with_empty_hours_at_zero(browser: Any, base: str, session: dict[str, Any],
                                                                 lang: str) -> None:
    tab = open_tab(browser, base, session, lang)
    tab.goto(base + PAGES["missed"])
    wait_for_charts(tab)
    by_day = json.loads(tab.locator("#missed-by-day").get_attribute("data-chart"))
    assert len(by_day["labels"]) == 2
    by_hour = json.loads(tab.locator("#missed-by-hour").get_attribute("data-chart"))
    assert by_hour["labels"] == [f"{h:02d}" for h in range(24)]
    for spec in (by_day, by_hour):
        for line in spec["series"]:
            assert None not in line["data"] and all(v >= 0 for v in line["data"])
    assert tab.locator("#missed-by-hour svg").count() == 1
    tab.goto(base + "/wallboard")
    wait_for_charts(tab)
    hourly = json.loads(tab.locator("#wb-hourly").get_attribute("data-chart"))
    assert hourly["labels"] == [f"{h:02d}" for h in range(24)]
    assert tab.locator("#wb-hourly svg").count() == 1
    tab.goto(base + PAGES["qa"])
    wait_for_charts(tab)
    for chart_id in ("qa-cqr-trend", "qa-criterion-trend"):
        assert len(json.loads(tab.locator(f"#{chart_id}").get_attribute("data-chart"))["labels"]) == 2
        assert tab.locator(f"#{chart_id} svg").count() == 1


def test_sortable_header_sorts_from_the_keyboard(browser: Any, base: str, session: dict[str, Any]) -> None:
    tab = open_tab(browser, base, session, "en")
    tab.goto(base + PAGES["missed"])
    header = tab.locator("#missed-table th[data-sort=num]").first
    header.focus()
    tab.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "descending"
    tab.keyboard.press(" ")
    assert header.get_attribute("aria-sort") == "ascending"
    tab.goto(base + PAGES["overview"])
    tab.keyboard.press("Tab")
    skip = tab.locator("a.skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.evaluate("el => el.getBoundingClientRect().top >= 0")  # shown when focused
