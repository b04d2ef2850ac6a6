"""The open-data JSON API: contests, rounds, public ideas, and published results only.
Nothing here reads a ballot or a count that is not published (Decidim once leaked live
vote counts through its open data)."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contests.models import Contest, Round, RoundPot
from contests.services import list_rounds, phases_of
from core.web import db
from ideas.models import PUBLIC_STATUSES, Idea
from results import downloads, export
from results.services import publication_of
from voting import queries as voting_queries

HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"}


def _round(round_: Round, published: bool) -> dict[str, Any]:
    return {"id": round_.id, "contest_id": round_.contest_id, "number": round_.number,
            "title": round_.title, "url": f"/rounds/{round_.id}",
            "results": f"/api/rounds/{round_.id}/results" if published else None,
            "results_signature": (f"/api/rounds/{round_.id}/results.sig" if published
                                  else None),
            "public_key": export.PUBLIC_KEY_URL}


async def api_contests(request: Request) -> Response:
    with db(request) as s:
        contests: dict[int, dict[str, Any]] = {}
        for contest, round_ in list_rounds(s):
            entry = contests.setdefault(contest.id or 0, {
                "id": contest.id, "slug": contest.slug, "title": contest.title,
                "year": contest.year, "rounds": []})
            published = publication_of(s, round_.id or 0) is not None
            entry["rounds"].append(_round(round_, published))
        for contest in s.exec(select(Contest)).all():
            contests.setdefault(contest.id or 0, {"id": contest.id, "slug": contest.slug,
                                                  "title": contest.title, "year": contest.year,
                                                  "rounds": []})
    return JSONResponse({"contests": list(contests.values())}, headers=HEADERS)


async def api_round(request: Request) -> Response:
    with db(request) as s:
        round_ = s.get(Round, request.path_params["round_id"])
        if round_ is None:
            raise HTTPException(404)
        published = publication_of(s, round_.id or 0) is not None
        phases = [{"phase": p.phase, "starts_at": p.starts_at.isoformat(),
                   "ends_at": p.ends_at.isoformat()} for p in phases_of(s, round_)]
        pots = [{"id": p.id, "district_id": p.district_id, "budget": p.budget}
                for p in s.exec(select(RoundPot).where(RoundPot.round_id == round_.id)
                                .order_by(col(RoundPot.id))).all()]
        count, head = voting_queries.log_head(s, round_.id or 0)
    return JSONResponse({**_round(round_, published), "description": round_.description,
                         "phases": phases, "pots": pots,
                         "ballot_log": {"entries": count, "head": head},
                         "ideas": f"/api/rounds/{round_.id}/ideas"}, headers=HEADERS)


async def api_ideas(request: Request) -> Response:
    with db(request) as s:
        round_ = s.get(Round, request.path_params["round_id"])
        if round_ is None:
            raise HTTPException(404)
        ideas = s.exec(select(Idea).where(Idea.round_id == round_.id,
                                          col(Idea.status).in_(PUBLIC_STATUSES),
                                          col(Idea.hidden_at).is_(None))
                       .order_by(col(Idea.id))).all()
        data = [{"id": i.id, "reference": i.reference, "title": i.title, "summary": i.summary,
                 "status": i.status, "district_id": i.district_id,
                 "category_id": i.category_id, "estimated_cost": i.estimated_cost,
                 "supports": i.support_count, "url": f"/ideas/{i.reference}",
                 "published_at": i.published_at.isoformat() if i.published_at else None}
                for i in ideas]
    return JSONResponse({"round_id": round_.id, "ideas": data}, headers=HEADERS)


async def api_results(request: Request) -> Response:
    with db(request) as s:
        round_ = s.get(Round, request.path_params["round_id"])
        if round_ is None:
            raise HTTPException(404)
        body = downloads.results_document(s, round_)
    if body is None:
        raise HTTPException(404)
    return Response(body, media_type="application/json", headers=HEADERS)


routes = [
    Route("/api/contests", api_contests, name="api_contests"),
    Route("/api/rounds/{round_id:int}", api_round, name="api_round"),
    Route("/api/rounds/{round_id:int}/ideas", api_ideas, name="api_ideas"),
    Route("/api/rounds/{round_id:int}/results", api_results, name="api_results"),
]
