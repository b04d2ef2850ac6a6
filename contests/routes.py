"""Public pages of contests: the home page and a round's page."""

from __future__ import annotations

from sqlmodel import col, func, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import services
from contests.models import Contest, Round
from core.i18n import get_locale
from core.templating import render
from core.web import db
from ideas.models import PUBLIC_STATUSES, Idea


async def home(request: Request) -> Response:
    now = request.state.now
    with db(request) as s:
        rounds = [
            (contest, round_, services.current_phase(s, round_, now))
            for contest, round_ in services.list_rounds(s)
        ]
        idea_count = s.exec(select(func.count()).select_from(Idea).where(
            col(Idea.status).in_(PUBLIC_STATUSES))).one()
        from surveys.services import open_surveys, text_of  # the home page invites to them

        surveys = open_surveys(s, now)
    locale = get_locale()
    return render(request, "contests/home.html", {
        "rounds": rounds, "idea_count": idea_count, "surveys": surveys,
        "t": lambda texts: text_of(texts, locale)})


async def round_detail(request: Request) -> Response:
    now = request.state.now
    with db(request) as s:
        round_ = s.get(Round, request.path_params["round_id"])
        if round_ is None:
            raise HTTPException(404)
        contest = s.get(Contest, round_.contest_id)
        phases = services.phases_of(s, round_)
        current = services.current_phase(s, round_, now)
        from voting.routes import round_summary  # the round page shows the ballot log's head

        ballot_log = round_summary(s, round_.id or 0)
    return render(request, "contests/round.html", {
        "contest": contest, "round": round_, "phases": phases, "current": current,
        "ballot_log": ballot_log})


routes = [
    Route("/", home, name="home"),
    Route("/rounds/{round_id:int}", round_detail, name="round"),
]
