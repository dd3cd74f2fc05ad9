"""The web application: ``create_app(db_path, settings)`` builds it; ``callkpi serve`` runs it."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from callkpi.config import Settings, load_settings
from callkpi.metrics.backends import NotOnThisEngine
from callkpi.metrics.engine import QueryError
from callkpi.web import api
from callkpi.web.auth import signing_secret
from callkpi.web.db import Database
from callkpi.web.features import (
    admin,
    agents,
    business,
    calls,
    cli_bridge,
    definitions,
    exports,
    missed,
    outbound,
    overview,
    overview_pdf,
    qa,
    queues,
    speech,
    staffing,
    wallboard,
)
from callkpi.web.features import (
    alerts as alerts_page,
)
from callkpi.web.features.alert_monitor import AlertMonitor, MonitorOptions
from callkpi.web.features.cli_bridge import CliBridge
from callkpi.web.features.scheduled_reports import ScheduleRunner
from callkpi.web.kpi import BadRequest
from callkpi.web.page_answers import FastAnswers
from callkpi.web.read_memo import keep_fresh
from callkpi.web.scope import Forbidden, NotFound, Principal
from callkpi.web.security import (
    CsrfFailed,
    LoginRequired,
    NotAuthenticated,
    WebState,
    api_principal,
    session_principal,
)
from callkpi.web.ui import render
from callkpi.web.watch import Watcher, WatchOptions

HERE = Path(__file__).parent
log = logging.getLogger("callkpi.web")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "media-src 'self' https: http:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)
STATIC = HERE / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
# Pages carry the session's CSRF token beside text from the URL: compressing them for a cross-site
# request would let another site guess the token from response sizes (BREACH). Static files hold
# no secret and are always compressed.
SAME_ORIGIN_FETCHES = {b"same-origin", b"none"}


def request_threads(cores: int | None = None) -> int:
    """Threads that run requests (renders, queries): four per core. Kept answers never take one
    (:class:`FastAnswers`); more threads than this only fight over the cores and the GIL."""
    return max(4, 4 * (cores or os.cpu_count() or 1))


def static_versions(directory: Path = STATIC) -> dict[str, str]:
    """Each static file's content hash (12 hex digits): its URL carries it, so a changed file gets a
    new URL and an unchanged one may be cached for a year."""
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest()[:12] for f in directory.iterdir() if f.is_file()}


def static_url_builder(versions: dict[str, str]) -> Any:
    def static_url(name: str) -> str:
        return f"/static/{name}?v={versions[name]}"

    return static_url


class CompressWhenSafe:
    """GZip (Starlette's) for static files and for same-origin requests; cross-site ones stay plain."""

    def __init__(self, app: ASGIApp, minimum_size: int = 512) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _may_compress(scope):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class OneVersionPerRead:
    """A GET or HEAD request reads the data version once (:meth:`Database.reading`); any other
    request may write what pages show without a new data version, so rendered answers are dropped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD"):
            with Database.reading():
                await self.app(scope, receive, send)
        else:
            try:
                await self.app(scope, receive, send)
            finally:
                if scope["type"] == "http":  # a write (targets, users, a review) may change any page
                    _forget_pages(scope)


def _forget_pages(scope: Scope) -> None:
    state = getattr(getattr(scope.get("app"), "state", None), "web", None)
    if state is not None:
        state.db.reads.bump()
        state.db.pages.clear()


def _may_compress(scope: Scope) -> bool:
    if str(scope.get("path", "")).startswith("/static/"):
        return True
    headers = dict(scope.get("headers") or ())
    site = headers.get(b"sec-fetch-site")
    if site is not None:
        return site in SAME_ORIGIN_FETCHES
    return b"cookie" not in headers  # no browser session (API tokens, curl): nothing to guess


def create_app(
    db_path: Path | str,
    settings: Settings | None = None,
    *,
    secure_cookies: bool = False,
    warm: bool = True,
    watch: WatchOptions | None = None,
    alerts: bool | MonitorOptions = True,
    cli_commands: CliBridge | None = None,
    schedules: bool = True,
) -> FastAPI:
    """The dashboard and API over one store (created when missing, web tables added).
    ``warm``: compute the default pages in the background at start-up; ``watch``: load what is
    new in these files while serving (``callkpi serve --watch``); ``alerts``: check the alerts in
    the background (``MonitorOptions(background=False)``: only when ``run_once`` is called);
    ``cli_commands``: run reading CLI commands sent with its token (``POST /api/v1/cli``, see
    :mod:`callkpi.cli.served`), announced while the app runs; ``schedules``: send the scheduled
    reports that are due in the background (:class:`ScheduleRunner`)."""
    settings = settings or load_settings()
    bridge = cli_commands
    db = Database(db_path, settings)
    monitor = _alert_monitor(db, alerts)
    watcher = Watcher(db, watch, on_load=monitor.poke if monitor else None) if watch else None
    runner = ScheduleRunner(db) if schedules else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = request_threads()
        stop = threading.Event()
        worker = threading.Thread(target=overview.warm_up, args=(db, stop), name="callkpi-warm-up", daemon=True)
        if warm:
            worker.start()
        keeper = threading.Thread(target=keep_fresh, args=(db.reads, stop), name="callkpi-read-ahead", daemon=True)
        keeper.start()
        if watcher:
            watcher.start()
        if monitor:
            monitor.start()
        if runner:
            runner.start()
        if bridge:
            bridge.announce()
        yield
        if bridge:
            bridge.withdraw()
        stop.set()
        if watcher:
            watcher.stop()
        if monitor:
            monitor.stop()
        if runner:
            runner.stop()
        if worker.is_alive():
            worker.join(timeout=30)
        keeper.join(timeout=30)
        db.close()

    app = FastAPI(
        title="callkpi",
        version="1",
        description="Contact-centre KPIs from phone-system records. Authenticate with "
        "`Authorization: Bearer TOKEN` (create one with `callkpi token create USER`).",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    versions = static_versions()
    templates.env.globals["static_url"] = static_url_builder(versions)
    app.state.web = WebState(
        db=db, secret=signing_secret(db.store()), templates=templates, secure_cookies=secure_cookies,
        watcher=watcher, alerts=monitor,
    )
    app.state.schedules = runner
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(api.router)
    app.include_router(wallboard.api_router)
    if bridge:
        app.state.cli_bridge = bridge
        app.include_router(cli_bridge.router)
    for feature in (admin, overview, agents, queues, outbound, definitions, wallboard, calls, missed, qa, business,
                    alerts_page, staffing, speech):
        app.include_router(feature.router)
    app.include_router(overview_pdf.router)  # before exports: /export/{view}.{format} would take overview.pdf
    app.include_router(exports.router)
    _add_meta_routes(app)
    _add_error_handlers(app)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for name, value in _security_headers(request, versions).items():
            response.headers.setdefault(name, value)
        return response

    app.add_middleware(OneVersionPerRead)
    app.add_middleware(CompressWhenSafe)
    # outermost: a kept answer goes out compressed once (page_cache.Gzipped), not by CompressWhenSafe
    app.add_middleware(FastAnswers, headers=lambda request: _security_headers(request, versions),
                       compress=_may_compress)
    return app


def _security_headers(request: Request, versions: dict[str, str]) -> dict[str, str]:
    headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
    if request.url.path != "/docs":
        headers["Content-Security-Policy"] = CSP
        headers["X-Frame-Options"] = "DENY"
    headers["Cache-Control"] = _cache_control(request, versions)
    return headers


def _cache_control(request: Request, versions: dict[str, str]) -> str:
    """Versioned static files for a year; other static URLs revalidated (ETag); pages never stored."""
    path = request.url.path
    if not path.startswith("/static/"):
        return "no-store"
    name = path.removeprefix("/static/")
    if versions.get(name) and request.query_params.get("v") == versions[name]:
        return IMMUTABLE
    return "no-cache"


def _alert_monitor(db: Database, alerts: bool | MonitorOptions) -> AlertMonitor | None:
    if alerts is False:
        return None
    return AlertMonitor(db, alerts if isinstance(alerts, MonitorOptions) else MonitorOptions())


def _add_meta_routes(app: FastAPI) -> None:
    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/openapi.json", include_in_schema=False)
    def openapi(me: Principal = Depends(api_principal)) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> Response:
        if session_principal(request) is None:
            return RedirectResponse("/login?next=/docs", status_code=303)
        return get_swagger_ui_html(openapi_url="/api/v1/openapi.json", title="callkpi API")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _page_error(request: Request, status: int, key: str, detail: str = "") -> HTMLResponse:
    principal = session_principal(request)
    return render(request, principal, "error.html", status_code=status, key=key, detail=detail)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        return JSONResponse(
            {"error": str(exc) or "authentication required"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if request.headers.get("hx-request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        if _is_api(request):
            return JSONResponse({"error": "missing or wrong CSRF token (X-CSRF-Token header)"}, status_code=403)
        return _page_error(request, 403, "forbidden", "CSRF token missing or expired; reload the page.")

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        if _is_api(request):
            return JSONResponse({"error": str(exc) or "forbidden"}, status_code=403)
        return _page_error(request, 403, "forbidden", str(exc))

    @app.exception_handler(BadRequest)
    @app.exception_handler(QueryError)
    async def bad_request(request: Request, exc: Exception) -> Response:
        if _is_api(request):
            return JSONResponse({"error": str(exc)}, status_code=400)
        return _page_error(request, 400, "bad_request", str(exc))

    @app.exception_handler(NotOnThisEngine)
    async def not_on_engine(request: Request, exc: NotOnThisEngine) -> Response:
        # an analysis this store's engine does not run yet (callkpi.metrics.backends): said, not failed
        if _is_api(request):
            return JSONResponse({"error": str(exc), "reason": exc.reason}, status_code=501)
        return _page_error(request, 200, "not_on_engine", str(exc))

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        if _is_api(request):
            return JSONResponse({"error": f"not found: {exc.args[0] if exc.args else ''}"}, status_code=404)
        return _page_error(request, 404, "not_found")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        # each item keeps FastAPI's own loc/msg/type too: the OpenAPI schema documents 422 as that
        problems = [
            {"parameter": ".".join(str(p) for p in err.get("loc", ())[1:]) or str(err.get("loc")),
             "problem": err.get("msg", ""),
             "loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
            for err in exc.errors()
        ]
        text = "; ".join(f"{p['parameter']}: {p['problem']}" for p in problems)
        if _is_api(request):
            return JSONResponse({"error": text, "detail": problems}, status_code=422)
        return _page_error(request, 422, "bad_request", text)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request) or request.url.path.startswith("/static/"):
            return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)
        if exc.status_code == 404:
            return _page_error(request, 404, "not_found")
        return _page_error(request, exc.status_code, "bad_request", str(exc.detail))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        if _is_api(request):
            return JSONResponse({"error": "internal error; see the server log"}, status_code=500)
        return _page_error(request, 500, "bad_request", "internal error; see the server log")
