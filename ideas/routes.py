"""Public pages of ideas: the list and an idea's page."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlmodel import col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests.models import Round
from core.models import District
from core.templating import render
from core.web import db
from ideas import services


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


async def idea_list(request: Request) -> Response:
    sort = request.query_params.get("sort", "newest")
    if sort not in services.SORTS:
        sort = "newest"
    f = services.IdeaFilter(
        round_id=_int_param(request, "round"),
        district_id=_int_param(request, "district"),
        sort=sort,
        page=max(1, min(_int_param(request, "page") or 1, 10_000)),
    )
    with db(request) as s:
        ideas, total = services.list_public(s, f)
        districts = list(s.exec(select(District).order_by(col(District.id))).all())
        rounds = list(s.exec(select(Round).order_by(col(Round.id))).all())
    query = {k: v for k, v in (("round", f.round_id), ("district", f.district_id),
                               ("sort", f.sort)) if v not in (None, "newest")}
    pages = max(1, -(-total // f.per_page))
    return render(request, "ideas/list.html", {
        "ideas": ideas, "total": total, "filter": f, "districts": districts, "rounds": rounds,
        "pages": pages, "sorts": list(services.SORTS),
        "page_url": lambda n: "/ideas?" + urlencode({**query, "page": n}),
    }, block="results")


async def idea_detail(request: Request) -> Response:
    with db(request) as s:
        found = services.access_public_idea(s, request.path_params["reference"])
    if found is None:
        raise HTTPException(404)
    idea, author, district = found
    return render(request, "ideas/detail.html",
                  {"idea": idea, "author": author, "district": district})


routes = [
    Route("/ideas", idea_list, name="list"),
    Route("/ideas/{reference}", idea_detail, name="detail"),
]
