"""Compression and caching of the web app (issue 15): pages are compressed only for same-origin requests
(a cross-site one could measure sizes to guess the CSRF token), static files always, and a static URL
with the file's content hash is cached for a year."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from callkpi.config import Settings
from callkpi.web.app import STATIC, create_app
from test_web_api import build_web_store, login


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = build_web_store(tmp_path_factory.mktemp("static"))
    with TestClient(create_app(data.path, Settings(), warm=False, alerts=False)) as session:
        login(session, "admin")
        yield session


def test_pages_are_compressed_for_the_same_origin_only(client: TestClient) -> None:
    for site, compressed in (("same-origin", True), ("none", True), ("cross-site", False), ("same-site", False)):
        response = client.get("/agents", headers={"Sec-Fetch-Site": site, "Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert (response.headers.get("content-encoding") == "gzip") is compressed, site
        assert response.headers["cache-control"] == "no-store"


def test_static_files_have_hashed_urls_cached_for_a_year(client: TestClient) -> None:
    page = client.get("/agents", headers={"Sec-Fetch-Site": "same-origin"}).text
    urls = re.findall(r'(?:href|src|data-echarts)="(/static/[^"?]+)\?v=([0-9a-f]+)"', page)
    assert {Path(u).name for u, _ in urls} >= {"app.css", "app.js", "htmx.min.js", "echarts.min.js"}
    assert "<script src=\"/static/echarts" not in page  # loaded by app.js only where a chart is
    for url, version in urls:
        assert version == hashlib.sha256((STATIC / Path(url).name).read_bytes()).hexdigest()[:12]
        response = client.get(f"{url}?v={version}", headers={"Sec-Fetch-Site": "cross-site", "Accept-Encoding": "gzip"})
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable", url
        assert response.headers.get("content-encoding") == "gzip", url
        assert client.get(f"{url}?v=0").headers["cache-control"] == "no-cache"


def test_table_cells_do_not_repeat_the_metric_hint(client: TestClient) -> None:
    page = client.get("/agents", params={"from": "2026-03-02", "to": "2026-03-03"}).text
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert 'class="kpi' in body and "title=" not in body
    head = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert 'href="/metrics#m-calls_handled" title="' in head


PRELOAD = re.compile(r'<link rel="preload" href="(/static/echarts\.min\.js\?v=[0-9a-f]+)" as="script">')


def test_chart_pages_preload_the_chart_library_and_others_do_not(client: TestClient) -> None:
    for chart_page in ("/", "/missed", "/queues"):
        page = client.get(chart_page).text
        found = PRELOAD.search(page)
        assert found, chart_page
        assert f'data-echarts="{found.group(1)}"' in page  # the very URL app.js loads, so the preload is used
    assert "rel=\"preload\"" not in client.get("/agents").text
    login_page = TestClient(client.app).get("/login")  # signed out: the login form itself
    assert login_page.status_code == 200 and 'type="password"' in login_page.text
    assert "rel=\"preload\"" not in login_page.text
