"""What every browser test module shares: Debian's Chromium and its flags, a uvicorn server in a
thread, and a signed-in tab that records the page's script errors (``tab.errors``)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


@contextmanager
def signed_in_tab(browser: Any, base: str, password: str, *, timeout_ms: int = 15_000,
                  accept_downloads: bool = False) -> Iterator[Any]:
    """A new tab signed in as ``admin``; ``tab.errors`` collects page errors and console errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=accept_downloads,
                                  locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(timeout_ms)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.errors = errors
    tab.goto(base + "/")
    assert "/login" in tab.url  # nothing is shown before signing in
    tab.fill("input[name=username]", "admin")
    tab.fill("input[name=password]", password)
    tab.click("form[action='/login'] button[type=submit]")
    tab.wait_for_url(base + "/", timeout=max(timeout_ms, 60_000))  # the first page of a store renders cold
    try:
        yield tab
    finally:
        context.close()
