"""Transcripts and scripts over HTTP: one call's transcript with its stages (the call page shows the
same), and how the script stages go with won deals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from callkpi.analyses.stages_vs_deals import stages_vs_deals
from callkpi.analyses.transcript_view import transcript_view
from callkpi.queries import calls as call_log
from callkpi.web.scope import NotFound, Principal, scoped_filters
from callkpi.web.security import api_principal, web_state

API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "malformed or impossible request; `error` says why"},
    401: {"description": "no or no valid bearer token"},
    403: {"description": "outside what this user may see"},
    404: {"description": "no such call, or no transcript of it"},
}
router = APIRouter()
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


router.include_router(api)
