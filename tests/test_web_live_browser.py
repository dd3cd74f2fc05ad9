"""The live wallboard in headless Chromium: a line appended to the watched queue_log turns an agent's
tile from idle to on a call without a reload (server-sent events), and the kiosk view has no menu.

The log (times relative to now): 1001 joins sales 5 min ago; call b1 enters sales 20 s ago.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, serving, signed_in_tab
from callkpi.config import Settings
from conftest import ql_line
from test_web_watch import PASSWORD, build_store

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from callkpi.web.app import create_app
    from callkpi.web.watch import WatchOptions

    directory = tmp_path_factory.mktemp("live_browser")
    build_store(directory / "store.duckdb")
    log = directory / "queue_log"
    now = int(time.time())
    log.write_text(ql_line(now - 300, "NONE", "sales", "SIP/1001", "ADDMEMBER", "") + "\n"
                   + ql_line(now - 20, "b1", "sales", "NONE", "ENTERQUEUE", "", "74953330003", 1) + "\n",
                   encoding="utf-8")
    app = create_app(directory / "store.duckdb", Settings(), warm=False, alerts=False,
                     watch=WatchOptions((log,), background=False))
    with serving(app) as base:
        yield base, log
        hub = getattr(app.state, "live_hub", None)
        if hub is not None:
            hub.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def test_a_tile_changes_state_without_a_reload(browser: Any, served: tuple[str, Path]) -> None:
    base, log = served
    with signed_in_tab(browser, base, PASSWORD) as tab:
        tab.goto(base + "/wallboard?kiosk=1")
        tile = tab.locator('[data-agent="1001"]')
        assert tile.get_attribute("data-state") == "idle"
        assert tab.locator("header.top").count() == 0
        tab.wait_for_selector("#live[data-connected='1']")
        tab.evaluate("window.__notReloaded = true")
        with log.open("a", encoding="utf-8") as handle:
            handle.write(ql_line(int(time.time()), "b1", "sales", "SIP/1001", "CONNECT", 20, "b1.1", 3) + "\n")
        tab.wait_for_selector('[data-agent="1001"][data-state="on_call"]', timeout=10_000)
        assert tab.evaluate("window.__notReloaded") is True
        assert tab.locator("#live-waiting tr[data-callid]").count() == 0  # b1 left the waiting list
        first = tab.locator('[data-agent="1001"] .at-time').inner_text()
        tab.wait_for_timeout(2100)
        assert tab.locator('[data-agent="1001"] .at-time').inner_text() != first  # the time in state counts on
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / "web-wallboard-kiosk.png"), full_page=True)
        assert tab.errors == []
