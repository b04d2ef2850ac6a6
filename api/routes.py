"""/api/v1/: public data only, built from pydantic models whose JSON Schema is the OpenAPI
description, so the description cannot drift from the responses."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contests.models import Contest, Round
from contests.services import phases_of
from core.i18n import gettext as _
from core.web import db
from ideas.models import PUBLIC_STATUSES, Idea
from moderation import queries as moderation_queries
from results.services import publication_of
from tracking import queries as tracking_queries


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None


class PhaseOut(BaseModel):
    phase: str
    starts_at: datetime
    ends_at: datetime


class RoundOut(BaseModel):
    id: int
    contest_id: int
    number: int
    title: str
    results_published: bool
    phases: list[PhaseOut]


class ContestOut(BaseModel):
    id: int
    slug: str
    title: str
    year: int
    rounds: list[RoundOut]


class ContestList(BaseModel):
    items: list[ContestOut]


class IdeaOut(BaseModel):
    reference: str
    round_id: int
    title: str
    summary: str
    status: str
    district_id: int | None
    category_id: int | None
    estimated_cost: int
    supports: int
    published_at: datetime | None
    updated_at: datetime


class IdeaPage(BaseModel):
    items: list[IdeaOut]
    next_cursor: str | None


class TransparencyRow(BaseModel):
    round_id: int | None
    kind: str
    reason_id: int | None
    count: int


class Transparency(BaseModel):
    items: list[TransparencyRow]


class ProjectOut(BaseModel):
    reference: str
    round_id: int
    title: str
    cost: int
    status: str
    progress: int


class ProjectList(BaseModel):
    items: list[ProjectOut]


MAX_LIMIT = 100


def problem(status: int, title: str, detail: str | None = None) -> Response:
    body = Problem(title=title, status=status, detail=detail).model_dump_json(exclude_none=True)
    return Response(body, status_code=status, media_type="application/problem+json",
                    headers={"Content-Language": _locale_header()})


def _locale_header() -> str:
    from core.i18n import get_locale
    return get_locale()


def answer(request: Request, model: BaseModel, modified: datetime | None = None) -> Response:
    """The model as JSON with an ETag of its bytes (304 on If-None-Match) and Last-Modified."""
    body = model.model_dump_json().encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Vary": "Accept-Language", "Cache-Control": "no-cache",
               "Access-Control-Allow-Origin": "*", "Content-Language": _locale_header()}
    if modified is not None:
        headers["Last-Modified"] = modified.strftime("%a, %d %b %Y %H:%M:%S GMT")
    wanted = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
    if etag in wanted or "*" in wanted:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise BadParam(name)
    return int(raw)


class BadParam(Exception):
    pass


def _rounds(s: Any, contest_id: int) -> list[RoundOut]:
    rounds = s.exec(select(Round).where(Round.contest_id == contest_id)
                    .order_by(col(Round.number))).all()
    return [RoundOut(id=r.id, contest_id=r.contest_id, number=r.number, title=r.title,
                     results_published=publication_of(s, r.id or 0) is not None,
                     phases=[PhaseOut(phase=p.phase, starts_at=p.starts_at, ends_at=p.ends_at)
                             for p in phases_of(s, r)]) for r in rounds]


async def contests(request: Request) -> Response:
    with db(request) as s:
        items = [ContestOut(id=c.id or 0, slug=c.slug, title=c.title, year=c.year,
                            rounds=_rounds(s, c.id or 0))
                 for c in s.exec(select(Contest).order_by(col(Contest.id))).all()]
    return answer(request, ContestList(items=items))


async def ideas(request: Request) -> Response:
    try:
        round_id = _int_param(request, "round")
        district_id = _int_param(request, "district")
        category_id = _int_param(request, "category")
        limit = _int_param(request, "limit") or 50
        cursor = request.query_params.get("cursor")
        after = 0
        if cursor is not None:
            decoded = base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
            if not decoded.isdigit() or len(decoded) > 9:
                raise BadParam("cursor")
            after = int(decoded)
        status = request.query_params.get("status")
        if status is not None and status not in PUBLIC_STATUSES:
            raise BadParam("status")
        since_raw = request.query_params.get("updated_since")
        since = datetime.fromisoformat(since_raw) if since_raw is not None else None
        if since is not None and since.tzinfo is not None:
            since = since.replace(tzinfo=None) - (since.utcoffset() or since - since)
    except (BadParam, ValueError, UnicodeError):
        return problem(400, _("A query parameter is not valid."))
    limit = max(1, min(limit, MAX_LIMIT))
    with db(request) as s:
        stmt = select(Idea).where(col(Idea.status).in_(PUBLIC_STATUSES),
                                  col(Idea.hidden_at).is_(None), col(Idea.id) > after)
        if round_id is not None:
            stmt = stmt.where(Idea.round_id == round_id)
        if district_id is not None:
            stmt = stmt.where(Idea.district_id == district_id)
        if category_id is not None:
            stmt = stmt.where(Idea.category_id == category_id)
        if status is not None:
            stmt = stmt.where(Idea.status == status)
        if since is not None:
            stmt = stmt.where(col(Idea.updated_at) >= since)
        rows = list(s.exec(stmt.order_by(col(Idea.id)).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (base64.urlsafe_b64encode(str(rows[-1].id).encode()).decode().rstrip("=")
                   if more else None)
    items = [IdeaOut(reference=i.reference, round_id=i.round_id, title=i.title,
                     summary=i.summary, status=i.status, district_id=i.district_id,
                     category_id=i.category_id, estimated_cost=i.estimated_cost,
                     supports=i.support_count, published_at=i.published_at,
                     updated_at=i.updated_at) for i in rows]
    modified = max((i.updated_at for i in rows), default=None)
    return answer(request, IdeaPage(items=items, next_cursor=next_cursor), modified)


async def transparency(request: Request) -> Response:
    with db(request) as s:
        rows = moderation_queries.transparency(s)
    return answer(request, Transparency(items=[
        TransparencyRow(round_id=r, kind=k, reason_id=reason, count=n)
        for r, k, reason, n in rows]))


async def projects(request: Request) -> Response:
    with db(request) as s:
        items = [ProjectOut(reference=w.idea.reference, round_id=w.round.id or 0,
                            title=w.idea.title, cost=w.cost, status=w.tracking.status,
                            progress=w.tracking.progress)
                 for w in tracking_queries.winners(s)]
    return answer(request, ProjectList(items=items))


async def results(request: Request) -> Response:
    from results import downloads
    with db(request) as s:
        round_ = s.get(Round, request.path_params["round_id"])
        body = downloads.results_document(s, round_) if round_ is not None else None
    if body is None:
        return problem(404, _("Not found."))
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type="application/json",
                    headers={"ETag": etag, "Access-Control-Allow-Origin": "*"})


async def not_found(request: Request) -> Response:
    return problem(404, _("Not found."))


#: (path, summary, response model): the description is generated from these.
OPERATIONS: list[tuple[str, str, type[BaseModel] | None]] = [
    ("/api/v1/contests", "Contests, their rounds and phases", ContestList),
    ("/api/v1/ideas", "Published ideas, cursor-paginated", IdeaPage),
    ("/api/v1/rounds/{round_id}/results", "Published results of a round", None),
    ("/api/v1/transparency", "Moderation decisions counted", Transparency),
    ("/api/v1/projects", "Implementation tracking of winners", ProjectList),
]


def openapi_document() -> dict[str, Any]:
    mode: Literal["serialization"] = "serialization"
    models: list[tuple[type[BaseModel], Literal["serialization"]]] = [
        (m, mode) for _p, _s, m in OPERATIONS if m is not None]
    models.append((Problem, mode))
    refs, schema = models_json_schema(models, ref_template="#/components/schemas/{model}")
    paths: dict[str, Any] = {}
    for path, summary, model in OPERATIONS:
        content = ({"application/json": {"schema": refs[(model, "serialization")]}}
                   if model is not None else {"application/json": {"schema": {"type": "object"}}})
        op: dict[str, Any] = {"summary": summary, "operationId": path.strip("/").replace(
            "/", "-").replace("{", "").replace("}", ""), "responses": {
            "200": {"description": "OK", "content": content},
            "304": {"description": "Not modified"},
            "400": {"description": "Bad parameter", "content": {
                "application/problem+json": {"schema": refs[(Problem, "serialization")]}}},
            "404": {"description": "Not found", "content": {
                "application/problem+json": {"schema": refs[(Problem, "serialization")]}}}}}
        if "{round_id}" in path:
            op["parameters"] = [{"name": "round_id", "in": "path", "required": True,
                                 "schema": {"type": "integer", "minimum": 0,
                                            "maximum": 999999999}}]
        paths[path] = {"get": op}
    return {"openapi": "3.1.0", "info": {"title": "Shaar open data", "version": "1"},
            "paths": paths, "components": {"schemas": schema.get("$defs", {})}}


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


routes = [
    Route("/api/v1/openapi.json", openapi, name="openapi"),
    Route("/api/v1/contests", contests, name="contests"),
    Route("/api/v1/ideas", ideas, name="ideas"),
    Route("/api/v1/rounds/{round_id:int}/results", results, name="results"),
    Route("/api/v1/transparency", transparency, name="transparency"),
    Route("/api/v1/projects", projects, name="projects"),
    Route("/api/v1/{rest:path}", not_found, name="not_found"),
]
