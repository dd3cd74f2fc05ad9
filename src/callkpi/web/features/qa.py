"""Call quality in the web: the review queue and reviews (``/qa``), the review page with the
recording and the live CQR (``/qa/review/{call_id}``), one review with its versions, corrections
and the agent's answer (``/qa/reviews/{id}``), scorecards (``/qa/scorecards``, edited by admins),
and the same under ``/api/v1/qa``.

Who may do what: admins and supervisors score calls in their scope (supervisors: their queues and
teams); agents see only their own reviews and may acknowledge or dispute them; admins edit
scorecards. Every form carries the CSRF token; API writes by session need the CSRF header.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from callkpi.analyses.qa_suggestions import suggested_scores
from callkpi.metrics.engine import KpiQuery, compute
from callkpi.qa import reports
from callkpi.qa.review import (
    RESPONSES,
    ReviewError,
    ReviewFilter,
    call_agents,
    card_of_scores,
    correct_review,
    count_reviews,
    create_review,
    get_review,
    list_reviews,
    respond,
)
from callkpi.qa.sample import (
    DEFAULT_ADHERENCE_BELOW,
    DEFAULT_SEED,
    RULES,
    draw_sample,
    pick_by_rule,
    pick_call,
    review_queue,
    review_queue_size,
)
from callkpi.qa.scorecards import (
    Scorecard,
    ScorecardError,
    ensure_default_scorecards,
    import_scorecards,
    list_scorecards,
    load_scorecard,
    scorecard_versions,
    to_yaml,
)
from callkpi.queries import calls as call_log
from callkpi.storage import Store
from callkpi.web.features.calls import _recording
from callkpi.web.features.qa_charts import qa_trend_charts
from callkpi.web.features.qa_strings import QA_STRINGS
from callkpi.web.i18n import STRINGS
from callkpi.web.kpi import BadRequest, check_date_range, parse_date
from callkpi.web.scope import Forbidden, NotFound, Principal, require_role, scoped_filters
from callkpi.web.security import api_principal, check_form_csrf, page_principal, web_state
from callkpi.web.tables import Paging
from callkpi.web.ui import agent_namer, locale, page_query, render

STRINGS.update(QA_STRINGS)

router = APIRouter()
pages = APIRouter(include_in_schema=False)
# every status these routes answer is in the OpenAPI schema (a client may rely on it)
API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "malformed or impossible request; `error` says why"},
    401: {"description": "no or no valid bearer token"},
    403: {"description": "outside what this user may see, or not this role's to do"},
    404: {"description": "no such call, review or scorecard"},
}
api = APIRouter(prefix="/api/v1/qa", tags=["quality"], responses=API_ERRORS)
Me = Annotated[Principal, Depends(api_principal)]
QA_METRICS = ("qa_reviews", "qa_coverage", "cqr", "qa_pass_rate", "qa_fatal_rate")
SCORERS = ("admin", "supervisor")
QUEUE_PER_PAGE = 50
API_MAX_LIMIT = 1000


# -- scope ------------------------------------------------------------------------------------


def review_scope(me: Principal) -> dict[str, tuple[str, ...]]:
    """The review filter a user gets: agents their own agent id, supervisors their queues and teams."""
    if me.is_agent:
        if not me.user.agent:
            raise Forbidden("this agent user has no agent id")
        return {"agents": (me.user.agent,)}
    if me.role == "supervisor":
        return {"queues": me.user.queues, "teams": me.user.teams}
    return {}


def visible_review(store: Store, me: Principal, review_id: str, version: int | None = None) -> dict[str, Any]:
    """The review, or NotFound / Forbidden when it is not the user's to see."""
    review = get_review(store, review_id, version)
    if review is None:
        raise NotFound(review_id)
    if not me.is_admin:
        mine = list_reviews(store, ReviewFilter(**review_scope(me), call_id=review["call_id"], limit=1000))
        if not any(r["review_id"] == review_id for r in mine):
            raise Forbidden("this review belongs to somebody else")
    return review


def scorable_call(store: Store, me: Principal, call_id: str, hide_numbers: bool) -> dict[str, Any]:
    """The call's detail when the user may score it (admins, supervisors within their scope)."""
    require_role(me, *SCORERS)
    detail = call_log.call_detail(store, call_id, scoped_filters(me, {}), hide_numbers=hide_numbers)
    if detail is None:
        raise NotFound(call_id)
    return detail


def _store(request: Request) -> Store:
    store = web_state(request).db.store()
    ensure_default_scorecards(store)
    return store


def _reviews_changed(request: Request) -> None:
    """Saved reviews change KPIs (CQR on the overview) without changing the data version the KPI cache is
    keyed on (loaded files and calls), so cached results are dropped."""
    web_state(request).db.forget()


def _hide(request: Request, me: Principal) -> bool:
    return not me.sees_numbers(web_state(request).db.settings.phone.mask_numbers)


# -- the QA page ------------------------------------------------------------------------------


@pages.get("/qa", response_class=HTMLResponse)
def qa_home(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    db = web_state(request).db
    store = _store(request)
    params = db.params()
    pq = page_query(request, params)
    scope = review_scope(me)
    filters = scoped_filters(me, pq.filters)
    result = compute(store, KpiQuery(date_from=pq.period.date_from, date_to=pq.period.date_to, filters=filters,
                                     metrics=QA_METRICS, params=params))
    by_agent = compute(store, KpiQuery(by=("agent",), date_from=pq.period.date_from, date_to=pq.period.date_to,
                                       filters=filters, metrics=QA_METRICS, params=params))
    agents = scope.get("agents", ())
    page_asked = request.query_params.get("queue_page")
    queue, queue_paging = ([], None) if me.is_agent else queue_page(store, scope, page_asked)
    loc = locale(request, me, params)
    return render(
        request, me, "qa.html", loc=loc, active="qa", pq=pq,
        **qa_trend_charts(store, params, pq.period, filters, agents, loc, agent_namer(request)),
        row=result.rows[0] if result.rows else {}, metrics=QA_METRICS, by_agent=by_agent.rows,
        queue=queue, queue_paging=queue_paging,
        reviews=list_reviews(store, ReviewFilter(**scope, limit=200)),
        weakest=reports.weakest_criteria(store, agents=agents, date_from=pq.period.date_from,
                                         date_to=pq.period.date_to, timezone=params.timezone),
        calibration=[] if me.is_agent else reports.calibration(store),
        rules=RULES, adherence_below=DEFAULT_ADHERENCE_BELOW, today=pq.period.date_to, queues=(),
    )


def queue_page(store: Store, scope: dict[str, tuple[str, ...]], page_text: str | None,
               per_page: int = QUEUE_PER_PAGE) -> tuple[list[dict[str, Any]], Paging]:
    """One page of the review queue (oldest first), read from the store page by page, and where it is."""
    try:
        page = int(page_text or 1)
    except ValueError as exc:
        raise BadRequest("queue_page must be a whole number") from exc
    total = review_queue_size(store, **scope)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    start = (page - 1) * per_page
    rows = review_queue(store, **scope, limit=per_page, offset=start)
    return rows, Paging("day", False, page, pages, total, start + 1 if rows else 0, start + len(rows))


def _share(value: object) -> float:
    """The form's ``adherence below`` share (0..1); empty is the default."""
    if value is None or str(value).strip() == "":
        return DEFAULT_ADHERENCE_BELOW
    try:
        share = float(str(value).replace(",", "."))
    except ValueError as exc:
        raise BadRequest("adherence_below: a share from 0 to 1") from exc
    if not 0 <= share <= 1:
        raise BadRequest("adherence_below: a share from 0 to 1")
    return share


@pages.post("/qa/sample", response_model=None)
async def qa_sample(request: Request, me: Principal = Depends(page_principal)) -> RedirectResponse:
    form = await check_form_csrf(request, me)
    require_role(me, *SCORERS)
    store = _store(request)
    params = web_state(request).db.params()
    day = parse_date(str(form.get("day") or ""), "day")
    if day is None:
        raise BadRequest("day: pick a day to draw the sample for")
    rule = str(form.get("rule") or "")
    if rule and rule not in RULES:
        raise BadRequest(f"rule: one of {', '.join(RULES)}")
    if rule:
        pick_by_rule(store, day, params, rule, user=me.username, adherence_below=_share(form.get("adherence_below")))
    else:
        draw_sample(store, day, params, seed=str(form.get("seed") or DEFAULT_SEED)[:100], user=me.username)
    return RedirectResponse(f"/qa?from={day.isoformat()}&to={day.isoformat()}", status_code=303)


@pages.post("/qa/pick", response_model=None)
async def qa_pick(request: Request, me: Principal = Depends(page_principal)) -> RedirectResponse:
    form = await check_form_csrf(request, me)
    store = _store(request)
    call_id = str(form.get("call_id") or "").strip()
    scorable_call(store, me, call_id, True)
    try:
        pick_call(store, call_id, user=me.username, timezone=web_state(request).db.params().timezone)
    except ReviewError as exc:
        raise BadRequest(str(exc)) from exc
    return RedirectResponse("/qa", status_code=303)


# -- scoring ------------------------------------------------------------------------------------


def _form_scores(form: dict[str, Any], card: Scorecard) -> tuple[dict[str, str], dict[str, str]]:
    scores = {c.name: str(form[f"score_{i}"]) for i, c in enumerate(card.criteria) if f"score_{i}" in form}
    comments = {c.name: str(form.get(f"comment_{i}") or "").strip() for i, c in enumerate(card.criteria)}
    return scores, comments


@pages.get("/qa/review/{call_id}", response_class=HTMLResponse)
def review_form(call_id: str, request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    store = _store(request)
    detail = scorable_call(store, me, call_id, _hide(request, me))
    cards = list_scorecards(store)
    if not cards:
        raise NotFound("scorecards")
    sampled = [q for q in review_queue(store, limit=10_000) if q["call_id"] == call_id]
    wanted = request.query_params.get("call_type") or (sampled[0]["call_type"] if sampled else None)
    card = next((c for c in cards if c.call_type == wanted), cards[0])
    return render(
        request, me, "qa_review.html", active="qa", detail=detail, call=detail["call"],
        recording=_recording(detail["call"]), cards=cards, card=card, agents=call_agents(store, call_id),
        agent=request.query_params.get("agent") or (sampled[0]["agent"] if sampled else None),
        previous=list_reviews(store, ReviewFilter(**review_scope(me), call_id=call_id)),
        error=None, review=None, suggested=suggested_scores(store, call_id, card),
    )


@pages.post("/qa/review/{call_id}", response_model=None)
async def review_save(call_id: str, request: Request,
                      me: Principal = Depends(page_principal)) -> RedirectResponse | HTMLResponse:
    form = await check_form_csrf(request, me)
    store = _store(request)
    scorable_call(store, me, call_id, True)
    card = load_scorecard(store, str(form.get("call_type") or ""))
    if card is None:
        raise BadRequest("call_type: no such scorecard")
    if str(card.version) != str(form.get("scorecard_version")):
        raise BadRequest("the scorecard changed while you were scoring; reload the page")
    scores, comments = _form_scores(form, card)
    try:
        review = create_review(store, call_id=call_id, call_type=card.call_type, reviewer=me.username,
                               scores=scores, comments=comments, comment=str(form.get("comment") or "").strip(),
                               agent=str(form.get("agent") or "") or None)
    except ReviewError as exc:
        raise BadRequest(str(exc)) from exc
    _reviews_changed(request)
    return RedirectResponse(f"/qa/reviews/{review['review_id']}", status_code=303)


@pages.get("/qa/reviews/{review_id}", response_class=HTMLResponse)
def review_page(review_id: str, request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    store = _store(request)
    version = request.query_params.get("version")
    review = visible_review(store, me, review_id, int(version) if version and version.isdigit() else None)
    latest = get_review(store, review_id) or review
    card = load_scorecard(store, review["call_type"], review["scorecard_version"]) if review[
        "scorecard_version"] else None
    if card is None:
        card = card_of_scores(review)
    detail = call_log.call_detail(store, review["call_id"], {}, hide_numbers=_hide(request, me))
    given = {s["criterion"]: _score_text(s["score"]) for s in latest["scores"]}
    return render(
        request, me, "qa_review.html", active="qa", review=review, latest=latest, card=card,
        given_scores=given, given_comments={s["criterion"]: s["comment"] or "" for s in latest["scores"]},
        detail=detail, call=detail["call"] if detail else {"call_id": review["call_id"]},
        recording=_recording(detail["call"]) if detail else None, cards=[], agents=[review["agent"]],
        agent=review["agent"], previous=[], error=None,
        may_correct=me.role in SCORERS, may_respond=me.is_agent and me.user.agent == review["agent"],
        responses=RESPONSES,
    )


@pages.post("/qa/reviews/{review_id}/correct", response_model=None)
async def review_correct(review_id: str, request: Request, me: Principal = Depends(page_principal)) -> Response:
    form = await check_form_csrf(request, me)
    require_role(me, *SCORERS)
    store = _store(request)
    review = visible_review(store, me, review_id)
    card = load_scorecard(store, review["call_type"], review["scorecard_version"]) if review[
        "scorecard_version"] else None
    names = [c.name for c in (card or card_of_scores(review)).criteria]
    scores = {n: str(form[f"score_{i}"]) for i, n in enumerate(names) if f"score_{i}" in form}
    comments = {n: str(form.get(f"comment_{i}") or "").strip() for i, n in enumerate(names)}
    try:
        correct_review(store, review_id, reviewer=me.username, reason=str(form.get("reason") or ""),
                       scores=scores, comments=comments, comment=str(form.get("comment") or "").strip())
    except ReviewError as exc:
        raise BadRequest(str(exc)) from exc
    _reviews_changed(request)
    return RedirectResponse(f"/qa/reviews/{review_id}", status_code=303)


@pages.post("/qa/reviews/{review_id}/respond", response_model=None)
async def review_respond(review_id: str, request: Request, me: Principal = Depends(page_principal)) -> Response:
    form = await check_form_csrf(request, me)
    require_role(me, "agent")
    store = _store(request)
    visible_review(store, me, review_id)
    try:
        respond(store, review_id, agent=me.user.agent or "", response=str(form.get("response") or ""),
                comment=str(form.get("comment") or ""), user=me.username)
    except ReviewError as exc:
        raise BadRequest(str(exc)) from exc
    return RedirectResponse(f"/qa/reviews/{review_id}", status_code=303)


def _score_text(score: float | None) -> str:
    return "na" if score is None else f"{score:g}"


# -- scorecards -----------------------------------------------------------------------------------


@pages.get("/qa/scorecards", response_class=HTMLResponse)
def scorecards_page(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    store = _store(request)
    cards = list_scorecards(store, include_retired=True)
    return render(request, me, "qa_scorecards.html", active="qa", cards=cards, error=None, editing=None,
                  versions={c.call_type: scorecard_versions(store, c.call_type) for c in cards},
                  yaml_of=lambda card: to_yaml([card]), new_yaml="")


@pages.get("/qa/scorecards.yaml", response_class=PlainTextResponse)
def scorecards_yaml(request: Request, me: Principal = Depends(page_principal)) -> PlainTextResponse:
    text = to_yaml(list_scorecards(_store(request)))
    return PlainTextResponse(text, media_type="application/yaml",
                             headers={"Content-Disposition": 'attachment; filename="scorecards.yaml"'})


@pages.post("/qa/scorecards", response_model=None)
async def scorecards_save(request: Request, me: Principal = Depends(page_principal)) -> Response:
    form = await check_form_csrf(request, me)
    require_role(me, "admin")
    store = _store(request)
    text = str(form.get("yaml") or "")
    try:
        import_scorecards(store, text, me.username)
    except ScorecardError as exc:
        cards = list_scorecards(store, include_retired=True)
        return render(request, me, "qa_scorecards.html", active="qa", cards=cards, error=str(exc),
                      versions={c.call_type: scorecard_versions(store, c.call_type) for c in cards},
                      yaml_of=lambda card: to_yaml([card]), new_yaml=text, status_code=400)
    return RedirectResponse("/qa/scorecards", status_code=303)


# -- API ------------------------------------------------------------------------------------------


class ScoresIn(BaseModel):
    scores: dict[str, str | float | None] = Field(description="criterion -> 0, 0.5, 1 or null / \"na\" (N/A)")
    comments: dict[str, str] = Field(default_factory=dict, description="criterion -> comment")
    comment: str = Field("", max_length=4000, description="overall comment")


class ReviewIn(ScoresIn):
    call_id: str
    call_type: str = Field(description="the scorecard (its latest version is used)")
    agent: str | None = Field(None, description="default: the call's answering agent")


class CorrectionIn(ScoresIn):
    reason: str = Field(min_length=1, max_length=1000, description="why the review is corrected")


class ResponseIn(BaseModel):
    response: str = Field(description="acknowledged or disputed")
    comment: str = Field("", max_length=2000)


class SampleIn(BaseModel):
    day: date
    seed: str = Field(DEFAULT_SEED, max_length=100)
    rules: list[str] = Field(default_factory=list, description=f"also pick by rule: {', '.join(RULES)}")
    adherence_below: float = Field(DEFAULT_ADHERENCE_BELOW, ge=0, le=1,
                                   description="the low_adherence rule picks calls whose transcript's script "
                                               "adherence is below this share")


class Page(BaseModel):
    """One page of a list: the rows, how many there are in all, and where the next page is."""

    items: list[dict[str, Any]] = Field(description="the rows of this page")
    total: int = Field(description="rows in all, over every page (in the user's scope)")
    limit: int = Field(description="the page size asked for")
    offset: int = Field(description="rows skipped before this page")
    has_more: bool = Field(description="whether rows follow this page")
    next: str | None = Field(description="path and query of the next page (the same filters, offset moved on); "
                                         "null on the last page")


Limit = Annotated[int, Query(ge=1, le=API_MAX_LIMIT, description=f"page size (at most {API_MAX_LIMIT})")]
Offset = Annotated[int, Query(ge=0, le=10**9, description="rows to skip: the previous page's offset + limit")]


def page_of(request: Request, items: list[dict[str, Any]], total: int, limit: int, offset: int) -> Page:
    more = offset + len(items) < total
    following = request.url.include_query_params(offset=offset + limit, limit=limit)
    return Page(items=items, total=total, limit=limit, offset=offset, has_more=more,
                next=f"{following.path}?{following.query}" if more else None)


def _plain_scores(scores: dict[str, str | float | None]) -> dict[str, object]:
    return {k: "na" if v is None else v for k, v in scores.items()}


@api.get("/scorecards", summary="Scorecards (latest versions)")
def api_scorecards(request: Request, me: Me) -> list[dict[str, Any]]:
    return [{**c.content(), "version": c.version, "active": c.active}
            for c in list_scorecards(_store(request), include_retired=True)]


@api.put("/scorecards", summary="Import scorecards (admin): a changed scorecard gets a new version")
def api_put_scorecards(request: Request, me: Me, body: Annotated[dict[str, Any], Body()]) -> dict[str, int]:
    require_role(me, "admin")
    import json

    try:
        return import_scorecards(_store(request), json.dumps(body), me.username)
    except ScorecardError as exc:
        raise BadRequest(str(exc)) from exc


@api.get("/queue", summary="Sampled calls waiting for a review, paged",
         description="Oldest day first (then call start, call id, agent), in the user's scope (a supervisor: "
                     "their queues and teams). Walk the pages with `offset` (or follow `next`) until `has_more` "
                     "is false; `total` counts every waiting call.")
def api_queue(request: Request, me: Me, limit: Limit = 100, offset: Offset = 0) -> Page:
    require_role(me, *SCORERS)
    store = _store(request)
    scope = review_scope(me)
    rows = review_queue(store, **scope, limit=limit, offset=offset)
    return page_of(request, rows, review_queue_size(store, **scope), limit, offset)


@api.post("/sample", summary="Draw the day's review sample (and rule picks)")
def api_sample(request: Request, me: Me, body: SampleIn) -> dict[str, Any]:
    require_role(me, *SCORERS)
    unknown = [r for r in body.rules if r not in RULES]
    if unknown:
        raise BadRequest(f"rules: unknown {', '.join(unknown)}; known: {', '.join(RULES)}")
    check_date_range(body.day, "day")
    store = _store(request)
    params = web_state(request).db.params()
    result = draw_sample(store, body.day, params, seed=body.seed, user=me.username)
    picked = {r: pick_by_rule(store, body.day, params, r, seed=body.seed, user=me.username,
                              adherence_below=body.adherence_below) for r in body.rules}
    return {"day": body.day.isoformat(), "handled": result.handled, "sampled": result.drawn,
            "by_agent": {a: {"handled": h, "sampled": d} for a, (h, d) in result.by_agent.items()}, "rules": picked}


@api.get("/reviews", summary="Reviews in the user's scope (latest version of each), paged",
         description="Newest first (then by review id), the latest version of each review: an agent sees their "
                     "own, a supervisor those of their queues and teams. Walk the pages with `offset` (or follow "
                     "`next`) until `has_more` is false; `total` counts every review in scope.")
def api_reviews(request: Request, me: Me, agent: Annotated[str | None, Query()] = None,
                call_id: Annotated[str | None, Query()] = None, limit: Limit = 200, offset: Offset = 0) -> Page:
    scope = review_scope(me)
    agents = scope.pop("agents", ())
    if agent:
        if agents and agent not in agents:
            raise Forbidden(f"agent {agent} is outside what this user may see")
        agents = (agent,)
    store = _store(request)
    wanted = ReviewFilter(agents=agents, call_id=call_id, limit=limit, offset=offset, **scope)
    return page_of(request, list_reviews(store, wanted), count_reviews(store, wanted), limit, offset)


@api.post("/reviews", summary="Score a call", status_code=201)
def api_create_review(request: Request, me: Me, body: ReviewIn) -> dict[str, Any]:
    store = _store(request)
    scorable_call(store, me, body.call_id, True)
    try:
        review = create_review(store, call_id=body.call_id, call_type=body.call_type, reviewer=me.username,
                               scores=_plain_scores(body.scores), comments=body.comments, comment=body.comment,
                               agent=body.agent, origin="api")
    except ReviewError as exc:
        raise BadRequest(str(exc)) from exc
    _reviews_changed(request)
    return review


@api.get("/reviews/{review_id}", summary="One review with its scores, versions and the agent's answer")
def api_review(request: Request, me: Me, review_id: str,
               version: Annotated[int | None, Query(ge=1)] = None) -> dict[str, Any]:
    return visible_review(_store(request), me, review_id, version)


@api.post("/reviews/{review_id}/corrections", summary="Correct a review: a new version with the reason",
          status_code=201)
def api_correct(request: Request, me: Me, review_id: str, body: CorrectionIn) -> dict[str, Any]:
    require_role(me, *SCORERS)
    store = _store(request)
    visible_review(store, me, review_id)
    try:
        review = correct_review(store, review_id, reviewer=me.username, reason=body.reason,
                                scores=_plain_scores(body.scores), comments=body.comments, comment=body.comment)
    except ReviewError as exc:
        raise BadRequest(str(exc)) from exc
    _reviews_changed(request)
    return review


@api.post("/reviews/{review_id}/response", summary="The reviewed agent acknowledges or disputes")
def api_respond(request: Request, me: Me, review_id: str, body: ResponseIn) -> dict[str, Any]:
    require_role(me, "agent")
    store = _store(request)
    visible_review(store, me, review_id)
    try:
        respond(store, review_id, agent=me.user.agent or "", response=body.response, comment=body.comment,
                user=me.username)
    except ReviewError as exc:
        raise BadRequest(str(exc)) from exc
    return visible_review(store, me, review_id)


router.include_router(pages)
router.include_router(api)
