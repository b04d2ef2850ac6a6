"""The jury's pages: rounds in review, the ideas up for review, assessments and the chair's
verdicts; and the admin page that names the chair of a round's jury."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests.models import Contest, Round
from contests.services import current_phase, list_rounds
from core.i18n import gettext as _
from core.models import District, Role, User
from core.web import as_int, db, field_str, read_form, redirect, require_role, require_user
from ideas import notifications
from ideas.models import Idea
from ideas.services import IdeaError
from jury import queries, services

GET_POST = ["GET", "POST"]


def require_jury(request: Request) -> int:
    """The acting person's id. Jury members and admins only: moderators and residents get
    403, anonymous people are sent to sign in."""
    user = require_user(request)
    if not request.state.roles & {Role.JURY, Role.ADMIN}:
        raise HTTPException(403, _("Only jury members can do this."))
    assert user.id is not None
    return int(user.id)


def _round(s: Session, round_id: int) -> Round:
    round_ = s.get(Round, round_id)
    if round_ is None:
        raise HTTPException(404)
    return round_


def _idea(s: Session, reference: str) -> tuple[Idea, Round]:
    """An idea up for jury review and its round; anything else is 404 here."""
    idea = s.exec(select(Idea).where(Idea.reference == reference[:20])).first()
    round_ = s.get(Round, idea.round_id) if idea else None
    if idea is None or round_ is None or not queries.in_review(round_, idea):
        raise HTTPException(404)
    return idea, round_


async def index_page(request: Request) -> Response:
    require_jury(request)
    now = request.state.now
    with db(request) as s:
        rounds = [(c, r, current_phase(s, r, now)) for c, r in list_rounds(s)]
    return _render(request, "jury/index.html", {"rounds": rounds})


async def round_page(request: Request) -> Response:
    user_id = require_jury(request)
    with db(request) as s:
        round_ = _round(s, request.path_params["round_id"])
        ideas = queries.pool(s, round_)
        context = {
            "round": round_, "contest": s.get(Contest, round_.contest_id), "ideas": ideas,
            "tallies": queries.tallies(s, [i.id for i in ideas if i.id is not None]),
            "districts": {d.id: d for d in s.exec(select(District)).all()},
            "chair": _chair(s, round_), "me": user_id,
            "open": _is_open(s, round_, request),
        }
    return _render(request, "jury/round.html", context)


def _chair(s: Session, round_: Round) -> User | None:
    chair_id = services.chair_of(s, round_.id or 0)
    return s.get(User, chair_id) if chair_id else None


def _is_open(s: Session, round_: Round, request: Request) -> bool:
    try:
        services.check_open(s, round_, request.state.now)
    except services.JuryError:
        return False
    return True


def _idea_context(s: Session, request: Request, idea: Idea, round_: Round,
                  user_id: int) -> dict[str, Any]:
    assert idea.id is not None and round_.id is not None
    tally = queries.tallies(s, [idea.id])[idea.id]
    mine = tally.of(user_id)
    values = {"feasible": "yes" if mine is None or mine.feasible else "no",
              "final_cost": str(mine.final_cost if mine else idea.estimated_cost),
              "score": "" if mine is None or mine.score is None else str(mine.score),
              "public_reason": mine.public_reason if mine else "", "private_note": ""}
    district = s.get(District, idea.district_id) if idea.district_id else None
    return {
        "idea": idea, "round": round_, "district": district, "tally": tally,
        "history": queries.history(s, idea.id), "verdicts": queries.verdicts(s, idea.id),
        "chair": _chair(s, round_), "open": _is_open(s, round_, request),
        "is_juror": Role.JURY in request.state.roles,
        "can_confirm": services.can_confirm(s, round_.id, user_id, request.state.roles),
        "values": values, "errors": {}, "confirm_error": None,
    }


async def idea_page(request: Request) -> Response:
    user_id = require_jury(request)
    with db(request) as s:
        idea, round_ = _idea(s, request.path_params["reference"])
        context = _idea_context(s, request, idea, round_, user_id)
    return _render(request, "jury/idea.html", context)


async def assess(request: Request) -> Response:
    user = require_role(request, Role.JURY)
    form = await read_form(request)
    raw = {name: field_str(form, name, services.MAX_TEXT)
           for name in ("feasible", "public_reason", "final_cost", "score", "private_note")}
    with db(request, write=True) as s:
        idea, round_ = _idea(s, request.path_params["reference"])
        data, errors = services.check_assessment(raw, idea.estimated_cost)
        try:
            if data is None:
                services.check_open(s, round_, request.state.now)
                context = _idea_context(s, request, idea, round_, int(user.id))
                context.update(values=raw, errors=errors)
                return _render(request, "jury/idea.html", context, status_code=422)
            services.assess(s, round_, idea, int(user.id), data, request.state.now)
        except services.JuryError as exc:
            raise HTTPException(exc.status_code, exc.message) from None
    return redirect(request, f"/jury/ideas/{idea.reference}", _("Your assessment is saved."))


async def confirm(request: Request) -> Response:
    user_id = require_jury(request)
    form = await read_form(request)
    kind = field_str(form, "kind", 20)
    version = as_int(field_str(form, "version", 12)) or -1
    reason = field_str(form, "public_reason", services.MAX_TEXT)[:services.MAX_TEXT]
    cost_raw = "".join(c for c in field_str(form, "final_cost", 40) if c not in " \u00a0,.'")
    now = request.state.now
    with db(request, write=True) as s:
        idea, round_ = _idea(s, request.path_params["reference"])
        assert round_.id is not None
        if not services.can_confirm(s, round_.id, user_id, request.state.roles):
            raise HTTPException(403, _("Only the chair of the jury can confirm."))
        back = f"/jury/ideas/{idea.reference}"
        try:
            services.check_open(s, round_, now)
            if kind == "admit":
                cost = as_int(cost_raw, services.MAX_COST)
                if cost is None:
                    raise services.JuryError(_("Enter the cost as a whole number of som, "
                                               "for example 450000."), 422)
                notices = services.admit(s, round_, idea, user_id, cost, version, now)
                message = _("%(ref)s is admitted to the ballot.", ref=idea.reference)
            elif kind == "not_feasible":
                notices = services.declare_not_feasible(s, round_, idea, user_id, reason,
                                                        version, now)
                message = _("%(ref)s is declared not feasible.", ref=idea.reference)
            else:
                raise services.JuryError(_("Unknown decision."), 422)
        except IdeaError as exc:
            s.rollback()
            if exc.status_code == 403:
                raise HTTPException(403, exc.message) from None
            if exc.status_code == 422:
                context = _idea_context(s, request, idea, round_, user_id)
                context["confirm_error"] = exc.message
                return _render(request, "jury/idea.html", context, status_code=422)
            return redirect(request, back, exc.message, "error")
        notifications.queue_mail(s, request.app.state.settings, notices, now)
    return redirect(request, back, message)


async def chair_page(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    error = None
    with db(request, write=request.method == "POST") as s:
        round_ = _round(s, request.path_params["round_id"])
        if request.method == "POST":
            form = await read_form(request)
            chair_id = as_int(field_str(form, "chair", 12), 10**9)
            try:
                services.set_chair(s, round_, chair_id, int(admin.id), request.state.now)
            except services.JuryError as exc:
                s.rollback()
                error = exc.message
            else:
                return redirect(request, f"/admin/rounds/{round_.id}/jury",
                                _("The chair of the jury is saved."))
        context = {"round": round_, "members": queries.jury_members(s),
                   "chair_id": services.chair_of(s, round_.id or 0), "error": error}
    return _render(request, "jury/chair.html", context, status_code=422 if error else 200)


def _render(request: Request, name: str, context: dict[str, Any],
            status_code: int = 200) -> Response:
    from core.templating import render

    return render(request, name, context, status_code=status_code)


routes = [
    Route("/jury", index_page, name="index"),
    Route("/jury/rounds/{round_id:int}", round_page, name="round"),
    Route("/jury/ideas/{reference}", idea_page, name="idea"),
    Route("/jury/ideas/{reference}/assess", assess, methods=["POST"], name="assess"),
    Route("/jury/ideas/{reference}/confirm", confirm, methods=["POST"], name="confirm"),
    Route("/admin/rounds/{round_id:int}/jury", chair_page, methods=GET_POST, name="chair"),
]
