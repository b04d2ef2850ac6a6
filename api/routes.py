"""/api/v1/: public data only, built from pydantic models whose JSON Schema is the OpenAPI
description, so the description cannot drift from the responses."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contests.models import Category, Contest, Round, RoundPot
from contests.services import phases_of
from core.i18n import get_locale
from core.i18n import gettext as _
from core.models import District
from core.web import db
from ideas.models import PUBLIC_STATUSES, Idea
from moderation import queries as moderation_queries
from results.services import publication_of
from tracking import queries as tracking_queries
from tracking.models import STATUSES as PROJECT_STATUSES
from voting import queries as voting_queries

PROBLEM_TYPE = "application/problem+json"
MAX_LIMIT = 100
MAX_ID = 999_999_999


class Problem(BaseModel):
    """An error (RFC 9457)."""

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


class PotOut(BaseModel):
    id: int
    district_id: int | None
    budget: int


class BallotLog(BaseModel):
    """The public hash chain of ballots: how many entries, and the newest hash."""

    entries: int
    head: str


class RoundDetail(RoundOut):
    description: str
    pots: list[PotOut]
    ballot_log: BallotLog
    results: str | None
    results_signature: str | None


class NamedOut(BaseModel):
    """A district or a category, its name in the language asked for (Accept-Language)."""

    id: int
    slug: str
    name: str


class NamedList(BaseModel):
    items: list[NamedOut]


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


class ResultsRound(BaseModel):
    id: int
    title: str


class ResultsCount(BaseModel):
    """How the count was made: the rule, its parameters, the tie-break and the ballot log
    it read."""

    engine: str
    rule: str
    rule_spec: dict[str, Any]
    tie_break: str
    seed: str
    counted_at: str
    ballot_log: BallotLog
    ballot_log_head_now: str


class ResultsProject(BaseModel):
    idea_id: int
    reference: str
    title: str
    cost: int
    votes: int
    score: int | float
    selected_by_rule: bool
    funded: bool


class ResultsChange(BaseModel):
    idea_id: int
    action: str
    justification: str


class OtherRule(BaseModel):
    rule: str
    selected: list[int]


class ResultsPot(BaseModel):
    pot_id: int
    district_id: int | None
    budget: int
    voters: int
    ballots: str
    ballots_signature: str
    computed: list[int]
    winners: list[int]
    changes: list[ResultsChange]
    projects: list[ResultsProject]
    other_rule: OtherRule
    steps: dict[str, Any]


class ResultsDocument(BaseModel):
    """The signed results document: these exact bytes are what `signature` signs."""

    round: ResultsRound
    signature: str
    public_key: str
    published_at: str
    statement: str
    count: ResultsCount
    pots: list[ResultsPot]


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


class SurveyDataset(BaseModel):
    title: str
    titles: dict[str, str]
    description: str
    url: dict[str, str]
    updated: str


class SurveyList(BaseModel):
    items: list[SurveyDataset]


def problem(status: int, title: str, detail: str | None = None,
            headers: dict[str, str] | None = None) -> Response:
    body = Problem(title=title, status=status, detail=detail).model_dump_json(exclude_none=True)
    return Response(body, status_code=status, media_type=PROBLEM_TYPE,
                    headers={"Content-Language": get_locale(), **(headers or {})})


def _http_date(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return format_datetime(aware.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _not_modified(request: Request, etag: str, modified: datetime | None) -> bool:
    """If-None-Match (weak comparison, RFC 9110) first; If-Modified-Since only without it."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        wanted = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return etag in wanted or "*" in wanted
    since = request.headers.get("if-modified-since")
    if since and modified is not None:
        try:
            then = parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError):
            return False
        if then.tzinfo is None:
            return False
        aware = modified if modified.tzinfo is not None else modified.replace(tzinfo=UTC)
        return aware.replace(microsecond=0) <= then
    return False


def send(request: Request, body: bytes, modified: datetime | None = None) -> Response:
    """JSON bytes with an ETag of them (304 on If-None-Match) and Last-Modified."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Vary": "Accept-Language", "Cache-Control": "no-cache",
               "Access-Control-Allow-Origin": "*", "Content-Language": get_locale()}
    if modified is not None:
        headers["Last-Modified"] = _http_date(modified)
    if _not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def answer(request: Request, model: BaseModel, modified: datetime | None = None) -> Response:
    return send(request, model.model_dump_json().encode(), modified)


class BadParam(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def bad_param(exc: BadParam) -> Response:
    return problem(400, _("A query parameter is not valid."),
                   _("Check the parameter %(name)s.", name=exc.name))


def _int_param(request: Request, name: str, low: int = 0, high: int = MAX_ID) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9 or not low <= int(raw) <= high:
        raise BadParam(name)
    return int(raw)


#: A cursor is the last id of the page in base 36: every string of the pattern is one.
CURSOR_RE = re.compile(r"[0-9a-z]{1,6}")
#: RFC 3339 date-time (what OpenAPI's `format: date-time` means), a second of 60 allowed.
DATE_TIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def encode_cursor(after: int) -> str:
    digits = ""
    while True:
        after, rest = divmod(after, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
        if after == 0:
            return digits


def _cursor(raw: str | None) -> int:
    if raw is None:
        return 0
    if not CURSOR_RE.fullmatch(raw):
        raise BadParam("cursor")
    return min(int(raw, 36), MAX_ID)


def parse_date_time(raw: str) -> datetime:
    """An RFC 3339 date-time, in UTC (the database's times are aware UTC)."""
    m = DATE_TIME_RE.fullmatch(raw)
    if m is None:
        raise BadParam("updated_since")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    zone = m.group(8).upper()
    try:
        moment = datetime(year, month, day, hour, minute, min(second, 59),
                          tzinfo=UTC if zone == "Z" else datetime.strptime(zone, "%z").tzinfo)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadParam("updated_since") from None


def _round_out(s: Any, r: Round) -> RoundOut:
    return RoundOut(id=r.id or 0, contest_id=r.contest_id, number=r.number, title=r.title,
                    results_published=publication_of(s, r.id or 0) is not None,
                    phases=[PhaseOut(phase=p.phase, starts_at=p.starts_at, ends_at=p.ends_at)
                            for p in phases_of(s, r)])


async def contests(request: Request) -> Response:
    with db(request) as s:
        items = []
        for c in s.exec(select(Contest).order_by(col(Contest.id))).all():
            rounds = s.exec(select(Round).where(Round.contest_id == c.id)
                            .order_by(col(Round.number))).all()
            items.append(ContestOut(id=c.id or 0, slug=c.slug, title=c.title, year=c.year,
                                    rounds=[_round_out(s, r) for r in rounds]))
    return answer(request, ContestList(items=items))


async def round_detail(request: Request) -> Response:
    with db(request) as s:
        round_ = s.get(Round, request.path_params["round_id"])
        if round_ is None:
            return problem(404, _("Not found."))
        base = _round_out(s, round_)
        pots = [PotOut(id=p.id or 0, district_id=p.district_id, budget=p.budget)
                for p in s.exec(select(RoundPot).where(RoundPot.round_id == round_.id)
                                .order_by(col(RoundPot.id))).all()]
        count, head = voting_queries.log_head(s, round_.id or 0)
    published = base.results_published
    return answer(request, RoundDetail(
        **base.model_dump(), description=round_.description, pots=pots,
        ballot_log=BallotLog(entries=count, head=head),
        results=f"/api/v1/rounds/{round_.id}/results" if published else None,
        results_signature=f"/api/rounds/{round_.id}/results.sig" if published else None))


async def districts(request: Request) -> Response:
    locale = get_locale()
    with db(request) as s:
        rows = s.exec(select(District).order_by(col(District.id))).all()
        items = [NamedOut(id=d.id or 0, slug=d.slug, name=d.name(locale)) for d in rows]
    return answer(request, NamedList(items=items))


async def categories(request: Request) -> Response:
    locale = get_locale()
    with db(request) as s:
        rows = s.exec(select(Category).order_by(col(Category.position),
                                                col(Category.id))).all()
        items = [NamedOut(id=c.id or 0, slug=c.slug, name=c.name(locale)) for c in rows]
    return answer(request, NamedList(items=items))


async def ideas(request: Request) -> Response:
    try:
        round_id = _int_param(request, "round")
        district_id = _int_param(request, "district")
        category_id = _int_param(request, "category")
        limit = _int_param(request, "limit", 1, MAX_LIMIT) or 50
        after = _cursor(request.query_params.get("cursor"))
        status = request.query_params.get("status")
        if status is not None and status not in PUBLIC_STATUSES:
            raise BadParam("status")
        since_raw = request.query_params.get("updated_since")
        since = parse_date_time(since_raw) if since_raw is not None else None
    except BadParam as exc:
        return bad_param(exc)
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
    next_cursor = encode_cursor(rows[-1].id or 0) if more else None
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
    status = request.query_params.get("status")
    if status is not None and status not in PROJECT_STATUSES:
        return bad_param(BadParam("status"))
    with db(request) as s:
        items = [ProjectOut(reference=w.idea.reference, round_id=w.round.id or 0,
                            title=w.idea.title, cost=w.cost, status=w.tracking.status,
                            progress=w.tracking.progress)
                 for w in tracking_queries.winners(s, status)]
    return answer(request, ProjectList(items=items))


async def surveys(request: Request) -> Response:
    from surveys.opendata import datasets
    with db(request) as s:
        items = [SurveyDataset(**d) for d in datasets(s, base_url="")]
    return answer(request, SurveyList(items=items))


async def results(request: Request) -> Response:
    from results import downloads
    with db(request) as s:
        round_ = s.get(Round, request.path_params["round_id"])
        body = downloads.results_document(s, round_) if round_ is not None else None
        publication = publication_of(s, round_.id or 0) if round_ is not None else None
    if body is None:
        return problem(404, _("Not found."))
    return send(request, body, publication.published_at if publication else None)


async def not_found(request: Request) -> Response:
    return problem(404, _("Not found."))


ID_SCHEMA = {"type": "integer", "minimum": 0, "maximum": MAX_ID}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


@dataclass(frozen=True)
class Operation:
    """One GET endpoint of the description: its path, summary, response type (the model
    the handler serialises) and query parameters."""

    path: str
    summary: str
    model: type[BaseModel]
    parameters: tuple[dict[str, Any], ...] = ()
    modified: bool = False  # answers carry Last-Modified

    @property
    def operation_id(self) -> str:
        """camelCase from the path: an X-Road service code needs no underscore."""
        words = [w for w in re.split(r"[/{}_-]+", self.path.removeprefix("/api/v1/")) if w]
        return "get" + "".join(w[:1].upper() + w[1:] for w in words)


#: The description is generated from these; `routes` below serves each of them.
OPERATIONS: list[Operation] = [
    Operation("/api/v1/contests", "Contests, their rounds and phases", ContestList),
    Operation("/api/v1/rounds/{round_id}", "A round: phases, pots, ballot log, results link",
              RoundDetail),
    Operation("/api/v1/districts", "Districts, named in the language asked for", NamedList),
    Operation("/api/v1/categories", "Idea categories, named in the language asked for",
              NamedList),
    Operation("/api/v1/ideas", "Published ideas, cursor-paginated", IdeaPage, (
        _query("round", ID_SCHEMA, "Only ideas of this round"),
        _query("district", ID_SCHEMA, "Only ideas of this district"),
        _query("category", ID_SCHEMA, "Only ideas of this category"),
        _query("status", {"type": "string", "enum": [str(s) for s in PUBLIC_STATUSES]},
               "Only ideas in this status"),
        _query("updated_since", {"type": "string", "format": "date-time"},
               "Only ideas changed at or after this time (RFC 3339)"),
        _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
               "Ideas per page (default 50)"),
        _query("cursor", {"type": "string", "pattern": f"^{CURSOR_RE.pattern}$"},
               "The next_cursor of the previous page"),
    ), modified=True),
    Operation("/api/v1/rounds/{round_id}/results",
              "Published results of a round: rule, tie-break, pots, signatures",
              ResultsDocument, modified=True),
    Operation("/api/v1/transparency", "Moderation decisions counted", Transparency),
    Operation("/api/v1/projects", "Implementation tracking of winners", ProjectList, (
        _query("status", {"type": "string", "enum": [str(s) for s in PROJECT_STATUSES]},
               "Only projects in this status"),)),
    Operation("/api/v1/surveys", "Published survey waves and their open data", SurveyList),
]

DESCRIPTION = """Public, read-only open data of the city's idea contests and participatory
budgets. Errors are application/problem+json (RFC 9457). Every JSON answer has an ETag
(send it in If-None-Match for a 304); lists of ideas and results have Last-Modified.
Titles of errors and names of districts and categories follow Accept-Language (ru, ky, en).
No answer is a redirect."""


def openapi_document(operations: list[Operation] | None = None) -> dict[str, Any]:
    ops = OPERATIONS if operations is None else operations
    mode: Literal["serialization"] = "serialization"
    models: list[tuple[type[BaseModel], Literal["serialization"]]] = list(
        {o.model: (o.model, mode) for o in ops}.values())
    models.append((Problem, mode))
    refs, schema = models_json_schema(models, ref_template="#/components/schemas/{model}")
    problem_content = {PROBLEM_TYPE: {"schema": refs[(Problem, mode)]}}
    etag = {"ETag": {"description": "A hash of the body", "schema": {"type": "string"}}}
    paths: dict[str, Any] = {}
    for o in ops:
        ok_headers = dict(etag)
        if o.modified:
            ok_headers["Last-Modified"] = {"description": "When the data last changed",
                                           "schema": {"type": "string"}}
        responses: dict[str, Any] = {
            "200": {"description": "OK", "headers": ok_headers,
                    "content": {"application/json": {"schema": refs[(o.model, mode)]}}},
            "304": {"description": "Not modified (If-None-Match or If-Modified-Since)"},
            "404": {"description": "Not found", "content": problem_content},
            "405": {"description": "Only GET and HEAD", "content": problem_content},
        }
        parameters = list(o.parameters)
        if parameters:
            responses["400"] = {"description": "A parameter is not valid",
                                "content": problem_content}
        if "{round_id}" in o.path:
            parameters.insert(0, {"name": "round_id", "in": "path", "required": True,
                                  "schema": ID_SCHEMA})
        op: dict[str, Any] = {"summary": o.summary, "operationId": o.operation_id,
                              "responses": responses}
        if parameters:
            op["parameters"] = parameters
        paths[o.path] = {"get": op}
    return {"openapi": "3.1.0",
            "info": {"title": "Shaar open data", "version": "1", "description": DESCRIPTION},
            "paths": paths, "components": {"schemas": schema.get("$defs", {})}}


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(), headers={"Access-Control-Allow-Origin": "*"})


routes = [
    Route("/api/v1/openapi.json", openapi, name="openapi"),
    Route("/api/v1/contests", contests, name="contests"),
    Route("/api/v1/rounds/{round_id:int}", round_detail, name="round"),
    Route("/api/v1/districts", districts, name="districts"),
    Route("/api/v1/categories", categories, name="categories"),
    Route("/api/v1/ideas", ideas, name="ideas"),
    Route("/api/v1/rounds/{round_id:int}/results", results, name="results"),
    Route("/api/v1/transparency", transparency, name="transparency"),
    Route("/api/v1/projects", projects, name="projects"),
    Route("/api/v1/surveys", surveys, name="surveys"),
    Route("/api/v1/{rest:path}", not_found, name="not_found"),
    # Anything else under /api/ (the older paths are matched before this) is a problem, and
    # never the trailing-slash redirect Starlette would otherwise answer.
    Route("/api/{rest:path}", not_found, name="api_not_found"),
    Route("/api", not_found, name="api_root"),
]
