"""``POST /api/v1/cli``: a reading CLI command run by the server for a command beside it.

While ``callkpi serve`` holds the database, no other process may open it (DuckDB), so a reading
command (``callkpi kpi``...) sends its arguments here (see :mod:`callkpi.cli.served`). Only the
token of ``<db>.serve.json`` (random per start, in a file only the server's owner can read) is
accepted, not users' API tokens: whoever can read that file could stop the server and open the
database anyway. Any command that is not in the reading list is refused.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class CliBridge:
    """The endpoint's token; what tells a reading command and runs one over the server's connection
    (handed in by ``callkpi serve``, so the web imports nothing of the CLI); and what announces the
    server to commands at start and withdraws it at stop (in the app's lifespan: uvicorn ends the
    process by the signal it caught once the app has stopped)."""

    token: str
    is_reading: Callable[[list[str]], bool] = lambda _argv: False
    run: Callable[..., Any] | None = None  # (db path, connection, argv, config=, width=) -> stdout, stderr, ...
    announce: Callable[[], object] = lambda: None
    withdraw: Callable[[], object] = lambda: None


class CliRequest(BaseModel):
    argv: list[str] = Field(max_length=200)
    config: str | None = Field(default=None, max_length=1_000_000)  # the client's settings file
    width: int = Field(default=80, ge=20, le=1000)  # the client's terminal


def _authorised(request: Request) -> bool:
    bridge: CliBridge | None = getattr(request.app.state, "cli_bridge", None)
    expected = bridge.token if bridge else None
    given = request.headers.get("authorization", "")
    scheme, _, token = given.partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), expected.encode())


@router.post("/api/v1/cli")
def run_cli_command(request: Request, body: CliRequest) -> JSONResponse:
    if not _authorised(request):
        return JSONResponse({"error": "this endpoint takes the token of the server's .serve.json file"},
                            status_code=401, headers={"WWW-Authenticate": "Bearer"})
    bridge: CliBridge = request.app.state.cli_bridge
    if bridge.run is None or not bridge.is_reading(body.argv):
        return JSONResponse({"error": "only reading commands run through the server; stop it to run this one"},
                            status_code=403)
    db = request.app.state.web.db
    done = bridge.run(db.path, db.store().connection, body.argv, config=body.config, width=body.width)
    return JSONResponse({"stdout": done.stdout, "stderr": done.stderr, "exit_code": done.exit_code,
                         "files": done.files})
