"""A reading request reads the data version once, and still sees a load made before it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import callkpi.web.db as web_db
from callkpi.web.app import create_app
from test_web_api import build_web_store


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[TestClient, list[int], Path]:
    store = build_web_store(tmp_path)
    reads: list[int] = []
    real = web_db.data_version

    def counting(store: object) -> tuple:
        if threading.current_thread().name != "callkpi-read-ahead":  # the keeper reads ahead on its own
            reads.append(1)
        return real(store)  # type: ignore[arg-type]

    monkeypatch.setattr(web_db, "data_version", counting)
    app = create_app(store.path, warm=False, alerts=False)
    return TestClient(app), reads, store.path


def test_a_page_reads_the_data_version_once(served: tuple[TestClient, list[int], Path]) -> None:
    client, reads, _ = served
    with client:
        token = client.app.state.web  # the app is up
        assert token is not None
        admin = {"Authorization": "Bearer " + _token(client)}
        reads.clear()
        response = client.get("/api/v1/kpi?by=agent", headers=admin)
        assert response.status_code == 200
        assert len(reads) == 1


def _token(client: TestClient) -> str:
    from callkpi.web.auth import create_token

    return create_token(client.app.state.web.db.store(), "admin")
