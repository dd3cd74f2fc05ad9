"""The call page's transcript in headless Chromium, in Russian and in English: the stages the agent did
are highlighted with their names, the forbidden phrases are marked (the transcript of
tests/test_speech_web.py). Screenshots go to ``test-artifacts/``. One server, one browser and one
signed-in tab serve both languages (the tests only read; each switches the language first), since a
Chromium start and a sign-in cost seconds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, serving, signed_in_tab
from callkpi.config import Settings
from test_speech_web import add_transcript
from test_web_api import PASSWORD, build_web_store

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    from callkpi.web.app import create_app

    folder = tmp_path_factory.mktemp("speech-browser")
    data = build_web_store(folder)
    call_id = add_transcript(data, folder)
    with serving(create_app(data.path, Settings(), warm=False)) as base:
        yield base, call_id


@pytest.fixture(scope="module")
def tab(server: tuple[str, str]) -> Iterator[Any]:
    base, _ = server
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            with signed_in_tab(browser, base, PASSWORD, timeout_ms=90_000) as signed_in:
                yield signed_in
        finally:
            browser.close()


@pytest.mark.parametrize("lang,greeting,farewell,heading", [
    ("ru", "Приветствие с названием компании", "Прощание", "Расшифровка"),
    ("en", "Greeting with the company name", "Farewell", "Transcript"),
])
def test_the_call_page_shows_the_highlighted_stages(server: tuple[str, str], tab: Any, lang: str, greeting: str,
                                                    farewell: str, heading: str) -> None:
    base, call_id = server
    tab.errors.clear()
    tab.goto(f"{base}/lang/{lang}?next=/calls/{call_id}")
    tab.goto(f"{base}/calls/{call_id}")
    section = tab.locator("#transcript")
    section.wait_for()
    assert section.locator("h2").inner_text() == heading
    tags = section.locator(".stage-tag")
    assert tags.all_inner_texts() == [greeting, farewell]
    marked = section.locator("mark.stage-mark")
    assert marked.count() == 2 and marked.first.is_visible()
    background = marked.first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")  # really highlighted
    assert section.locator(".forbidden-mark").count() == 2
    assert tab.locator("#script-adherence").get_attribute("data-value") == "0.4"
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"call-transcript-{lang}.png"), full_page=True)
    assert tab.errors == []
