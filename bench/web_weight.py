"""Page weight and first-visit times of the dashboard, in Debian's Chromium (Playwright).

    ./dev bench weight                 # the demo centre (30 days), every main page
    ./dev bench weight --reuse-db      # the database of an earlier run

For each page it opens a fresh browser context (an empty cache, as a first visit), signs in and
records: the bytes on the wire (compressed bodies plus headers, from Chromium's own accounting),
the uncompressed bytes, the number of requests, the HTML document alone, and the time to the load
event; then it opens the same page again in the same context (a repeat visit: what the cache
saves). Prints a Markdown table; it is not a test (times depend on the machine).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser_support import CHROMIUM, CHROMIUM_ARGS, serving  # noqa: E402
from callkpi.config import Settings  # noqa: E402
from callkpi.storage import Store  # noqa: E402

USER, PASSWORD = "bench-weight", "bench-weight-password"
PAGES = ("/login", "/", "/agents", "/queues", "/calls", "/missed", "/wallboard", "/qa", "/sales", "/metrics")


@dataclass
class Visit:
    wire_bytes: int = 0
    body_bytes: int = 0
    requests: int = 0
    html_wire_bytes: int = 0
    load_ms: float = 0.0


def build_store(workdir: Path, reuse: bool) -> Path:
    db = workdir / "callkpi.duckdb"
    if not (reuse and db.exists()):
        subprocess.run([sys.executable, "-m", "callkpi", "demo", "--dir", str(workdir), "--no-serve"],
                       check=True, stdout=subprocess.DEVNULL)
    from callkpi.queries.web_tables import ensure_web_schema
    from callkpi.web.auth import create_user, get_user

    with Store(db) as store:
        ensure_web_schema(store)
        if get_user(store, USER) is None:
            create_user(store, USER, PASSWORD, "admin")
    return db


def sign_in(tab: Any, base: str) -> None:
    tab.goto(base + "/login")
    tab.fill("input[name=username]", USER)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("form[action='/login'] button[type=submit]")
    tab.wait_for_url(base + "/")


def visit(tab: Any, cdp: Any, url: str) -> Visit:
    """One page load: what went over the wire for it (Chromium's encodedDataLength: compressed bodies and
    headers; 0 for what came from the cache) and when its load event fired."""
    wire: dict[str, int] = {}
    cached: set[str] = set()
    kinds: dict[str, str] = {}
    cdp.on("Network.responseReceived", lambda e: kinds.__setitem__(e["requestId"], e["type"]))
    cdp.on("Network.requestServedFromCache", lambda e: cached.add(e["requestId"]))
    cdp.on("Network.loadingFinished", lambda e: wire.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    bodies: list[int] = []
    tab.on("response", lambda r: bodies.append(len(r.body())) if r.ok and r.request.method == "GET" else None)
    tab.goto(url, wait_until="load")
    tab.wait_for_load_state("networkidle")
    result = Visit(load_ms=tab.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; }"))
    for request_id, size in wire.items():
        if request_id in cached or size == 0:
            continue
        result.requests += 1
        result.wire_bytes += size
        if kinds.get(request_id) == "Document":
            result.html_wire_bytes = size
    result.body_bytes = sum(bodies)
    return result


def measure(db: Path) -> list[tuple[str, Visit, Visit]]:
    from playwright.sync_api import sync_playwright

    from callkpi.web.app import create_app

    rows = []
    with serving(create_app(db, Settings(), warm=True, alerts=False)) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        while any(t.name == "callkpi-warm-up" and t.is_alive() for t in threading.enumerate()):
            time.sleep(0.2)
        login = browser.new_context(locale="en-US")
        sign_in(login.new_page(), base)
        session = login.storage_state()
        login.close()
        for path in PAGES:
            # a new context per page: an empty cache, as on a first visit
            context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US",
                                          storage_state=None if path == "/login" else session)
            tab = context.new_page()
            cdp = context.new_cdp_session(tab)
            cdp.send("Network.enable")
            first = visit(tab, cdp, base + path)
            context.close()
            context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US",
                                          storage_state=None if path == "/login" else session)
            tab = context.new_page()
            tab.goto(base + path, wait_until="load")  # fills the cache
            cdp = context.new_cdp_session(tab)
            cdp.send("Network.enable")
            again = visit(tab, cdp, base + path)
            rows.append((path, first, again))
            context.close()
        browser.close()
    return rows


def table(rows: list[tuple[str, Visit, Visit]]) -> str:
    lines = ["| page | first visit: on the wire KB | uncompressed KB | requests | HTML KB | load ms "
             "| repeat visit: on the wire KB | requests |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for path, first, again in rows:
        lines.append(f"| `{path}` | {first.wire_bytes / 1024:.0f} | {first.body_bytes / 1024:.0f} | {first.requests} "
                     f"| {first.html_wire_bytes / 1024:.0f} | {first.load_ms:.0f} | {again.wire_bytes / 1024:.0f} "
                     f"| {again.requests} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="bench/out/weight", type=Path)
    parser.add_argument("--reuse-db", action="store_true", help="use the database of an earlier run")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is needed (apt-get install chromium)")
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(table(measure(build_store(args.workdir, args.reuse_db))))


if __name__ == "__main__":
    main()
