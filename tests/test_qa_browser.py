"""The review page in headless Chromium: draw the sample, open a call, play its recording, score it
while the CQR is computed live in the page (static/qa.js), save, and find the server's CQR in the
reviews table. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import math
import struct
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, serving, signed_in_tab
from callkpi.config import Settings
from callkpi.storage import Store
from test_web_api import PASSWORD, build_web_store

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

PERIOD = "from=2026-03-02&to=2026-03-03"
# qualification scorecard: greeting 1, problem identification 3, needs questions 2, product presentation 2,
# next step agreed 2, personal data consent 1 (fatal)
CHOICES = {"greeting": "1", "problem identification": "0.5", "needs questions": "na", "product presentation": "1",
           "next step agreed": "0", "personal data consent": "1"}
EXPECTED_CQR = 100 * (1 + 1.5 + 2 + 0 + 1) / (1 + 3 + 2 + 2 + 1)


@dataclass
class Server:
    base: str
    call_id: str


def write_tone(path: Path, seconds: float = 3.0, rate: int = 8000) -> Path:
    """A 440 Hz tone: a recording the browser can play."""
    frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                      for i in range(int(seconds * rate)))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from callkpi.web.app import create_app

    folder = tmp_path_factory.mktemp("qa-browser")
    data = build_web_store(folder)
    tone = write_tone(folder / "call.wav")
    with Store(data.path) as store:
        call_id = store.connection.execute(
            "SELECT min(call_id) FROM agent_legs WHERE agent = '1001' AND outcome = 'answered'").fetchall()[0][0]
        store.connection.execute("UPDATE calls SET recording = ? WHERE call_id = ?", [str(tone), call_id])
    with serving(create_app(data.path, Settings(), warm=False)) as base:
        yield Server(base, call_id)


@pytest.fixture(scope="module")
def page(server: Server) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"])
        try:
            with signed_in_tab(browser, server.base, PASSWORD) as tab:
                yield tab
        finally:
            browser.close()


def played_seconds(tab: Any, timeout_s: float = 10) -> float:
    """How far the recording got (polled: the page's CSP forbids wait_for_function's eval)."""
    deadline = time.monotonic() + timeout_s
    position = 0.0
    while time.monotonic() < deadline and position <= 0.2:
        position = float(tab.evaluate("document.querySelector('#qa-audio').currentTime"))
        time.sleep(0.1)
    return position


def live_cqr(tab: Any) -> float | None:
    raw = tab.locator("#qa-live-cqr").get_attribute("data-value")
    return float(raw) if raw else None


def test_drawing_the_sample_fills_the_review_queue(page: Any, server: Server) -> None:
    page.goto(f"{server.base}/qa?{PERIOD}")
    page.fill("#qa-sample-form input[name=day]", "2026-03-02")
    page.click("#qa-sample-form button[type=submit]")
    page.wait_for_url("**/qa?from=2026-03-02&to=2026-03-02")
    assert page.locator("#qa-queue tbody tr[data-call]").count() == 3  # one call of each agent's two
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "qa-queue.png"), full_page=True)


def test_playing_scoring_and_saving_a_review(page: Any, server: Server) -> None:
    page.goto(f"{server.base}/qa/review/{server.call_id}?call_type=qualification")
    assert page.locator("#call-id").inner_text() == server.call_id
    page.evaluate("document.querySelector('#qa-audio').play()")
    assert played_seconds(page) > 0.2
    assert live_cqr(page) is None
    for name, value in CHOICES.items():
        page.locator(f"tr.qa-criterion[data-criterion='{name}'] input[value='{value}']").check()
    assert live_cqr(page) == pytest.approx(EXPECTED_CQR)
    page.locator("tr.qa-criterion[data-criterion='personal data consent'] input[value='0']").check()
    assert live_cqr(page) == 0  # a failed fatal criterion
    page.locator("tr.qa-criterion[data-criterion='personal data consent'] input[value='1']").check()
    assert page.locator("#qa-live-cqr").inner_text() == f"{EXPECTED_CQR:.1f}"
    page.fill("tr.qa-criterion[data-criterion='next step agreed'] input[type=text]", "no next step agreed")
    page.screenshot(path=str(ARTIFACTS / "qa-review-form.png"), full_page=True)
    page.click("#qa-save")
    page.wait_for_url("**/qa/reviews/R-*")
    saved = float(page.locator("#qa-saved-cqr").get_attribute("data-value"))
    assert saved == pytest.approx(EXPECTED_CQR)
    review_id = page.locator("#qa-review-view").get_attribute("data-review")
    page.goto(f"{server.base}/qa?{PERIOD}")
    cell = page.locator(f"#qa-reviews tr[data-review='{review_id}'] td.qa-cqr")
    assert float(cell.get_attribute("data-value")) == pytest.approx(EXPECTED_CQR)
    assert cell.inner_text().startswith(f"{EXPECTED_CQR:.1f}")
    weakest = page.locator("#qa-weakest tbody tr").first.locator("td")
    # criteria read by their title
    assert [weakest.nth(0).inner_text(), weakest.nth(1).inner_text()] == ["1001", "Next step agreed"]
    page.screenshot(path=str(ARTIFACTS / "qa-reviews.png"), full_page=True)
    assert page.errors == []
