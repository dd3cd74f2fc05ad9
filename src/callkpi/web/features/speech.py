"""Transcripts and scripts over HTTP: one call's transcript with its stages (the call page shows the
same), how the script stages go with won deals, and the scripts page (admins edit the scripts as YAML)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from callkpi.analyses.stages_vs_deals import stages_vs_deals
from callkpi.analyses.transcript_view import transcript_view
from callkpi.ingest.transcripts import relink
from callkpi.queries import calls as call_log
from callkpi.speech.scripts import ScriptError, import_scripts, list_scripts, scripts_in_force, to_yaml
from callkpi.web.features.speech_strings import SPEECH_STRINGS
from callkpi.web.i18n import STRINGS
from callkpi.web.scope import NotFound, Principal, require_role, scoped_filters
from callkpi.web.security import api_principal, check_form_csrf, page_principal, web_state
from callkpi.web.ui import render

STRINGS.update(SPEECH_STRINGS)

API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "malformed or impossible request; `error` says why"},
    401: {"description": "no or no valid bearer token"},
    403: {"description": "outside what this user may see"},
    404: {"description": "no such call, or no transcript of it"},
}
router = APIRouter()
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["speech"], responses=API_ERRORS)
Me = Annotated[Principal, Depends(api_principal)]


@api.get("/calls/{call_id}/transcript", summary="One call's transcript with the script stages and forbidden phrases",
         description="Utterances (speaker, start_s, end_s, text) each with the stages the agent did in it (id and "
                     "title in English and Russian) and the forbidden phrases said in it; `figures` are the call's "
                     "adherence, talk shares, silence, longest monologue and interruptions (docs/speech.md).")
def get_transcript(call_id: str, request: Request, me: Me) -> dict[str, Any]:
    db = web_state(request).db
    store = db.store()
    if call_log.call_detail(store, call_id, scoped_filters(me, {}), hide_numbers=True) is None:
        raise NotFound(call_id)
    found = transcript_view(store, call_id, db.settings.transcripts.match_threshold)
    if found is None:
        raise NotFound(f"no transcript of call {call_id}")
    return found


@api.get("/speech/stages-vs-deals", summary="Per agent and script stage: completion on won-deal calls vs the others",
         description="For each agent (and `*`: every agent in scope), call type and stage of the call's script: "
                     "calls that led to a won deal (attributed as conversion counts it) and the share of them where "
                     "the agent did the stage, the same on the other calls, and the difference (won minus other; "
                     "null unless both are known). Only calls with a transcript checked against a script count.")
def get_stages_vs_deals(request: Request, me: Me,
                        agent: Annotated[list[str] | None, Query(description="only these agents")] = None,
                        ) -> list[dict[str, Any]]:
    db = web_state(request).db
    scope = scoped_filters(me, {"agent": tuple(agent or ())})
    return stages_vs_deals(db.store(), db.params(), scope.get("agent", ()), scope.get("queue", ()),
                           scope.get("team", ()))



# -- scripts page ---------------------------------------------------------------------------------


def _scripts_page(request: Request, me: Principal, *, error: str | None = None, new_yaml: str = "",
                  saved: bool = False, status_code: int = 200) -> HTMLResponse:
    store = web_state(request).db.store()
    saved_types = {script.call_type for script in list_scripts(store)}
    scripts = scripts_in_force(store)
    return render(request, me, "scripts.html", active="qa", scripts=scripts, saved_types=saved_types,
                  yaml_of=lambda script: to_yaml([script]), error=error, new_yaml=new_yaml, saved=saved,
                  status_code=status_code)


@pages.get("/scripts", response_class=HTMLResponse)
def scripts_page(request: Request, me: Principal = Depends(page_principal)) -> HTMLResponse:
    """The scripts in force per call type: stages with their example phrases, forbidden phrases."""
    return _scripts_page(request, me, saved=request.query_params.get("saved") == "1")


@pages.get("/scripts.yaml", response_class=PlainTextResponse)
def scripts_yaml(request: Request, me: Principal = Depends(page_principal)) -> PlainTextResponse:
    text = to_yaml(scripts_in_force(web_state(request).db.store()))
    return PlainTextResponse(text, media_type="application/yaml",
                             headers={"Content-Disposition": 'attachment; filename="scripts.yaml"'})


@pages.post("/scripts", response_model=None)
async def scripts_save(request: Request, me: Principal = Depends(page_principal)) -> Response:
    """Admins: import scripts from YAML (a changed script gets a new version), then check every
    transcript again, as `callkpi scripts import` does."""
    form = await check_form_csrf(request, me)
    require_role(me, "admin")
    db = web_state(request).db
    store = db.store()
    text = str(form.get("yaml") or "")
    try:
        with store.transaction():
            import_scripts(store, text, me.username)
            relink(store, db.settings, recheck_all=True)
    except ScriptError as exc:
        return _scripts_page(request, me, error=str(exc), new_yaml=text, status_code=400)
    db.forget()  # adherence changed without new data
    return RedirectResponse("/scripts?saved=1", status_code=303)


router.include_router(pages)
router.include_router(api)
