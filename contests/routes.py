"""Public pages of contests: the home page and a round's page."""

from __future__ import annotations

from sqlmodel import col, func, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import services
from contests.models import Contest, Phase, Round
from core.i18n import get_locale
from core.templating import render
from core.web import db
from ideas.models import PUBLIC_STATUSES, Idea
from ideas.queries import IdeaFilter, list_public

#: Phases in which a resident can do something on a round's pages, in the order the home
#: page offers them.
ACTIONS = (Phase.SUBMISSION, Phase.VOTING, Phase.SUPPORTS, Phase.RESULTS)
HOME_IDEAS = 4


async def home(request: Request) -> Response:
    """The city's calls to action, every round with its timeline, and the newest ideas."""
    now = request.state.now
    with db(request) as s:
        rounds = []
        for contest, round_ in services.list_rounds(s):
            phases = services.phases_of(s, round_)
            current = next((p for p in phases if p.starts_at <= now < p.ends_at), None)
            rounds.append((contest, round_, current, phases))
        idea_count = s.exec(select(func.count()).select_from(Idea).where(
            col(Idea.status).in_(PUBLIC_STATUSES))).one()
        newest, _total = list_public(s, IdeaFilter())
        from surveys.services import open_surveys, text_of  # the home page invites to them

        surveys = open_surveys(s, now)
    locale = get_locale()
    acting = [(r, ACTIONS.index(Phase(r[2].phase))) for r in rounds
              if r[2] is not None and r[2].phase in ACTIONS]
    actions = [r for r, _order in sorted(acting, key=lambda pair: pair[1])]
    return render(request, "contests/home.html", {
        "rounds": rounds, "actions": actions, "idea_count": idea_count,
        "newest": newest[:HOME_IDEAS], "now": now, "surveys": surveys,
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
