"""Admin pages to set up contests, their rounds (settings, phase schedule, budget pots) and
the categories ideas are filed under.

Each endpoint demands the admin role, reads a POST through `read_form` (CSRF), calls one
service, and then redirects (303 with a message) or shows the form again at 422.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import admin_services as services
from contests import forms
from contests.models import PHASE_ORDER, Category, Contest, Round, RoundPhase, RoundPot
from core.forms import Form
from core.i18n import gettext as _
from core.models import District, Role
from core.templating import render
from core.web import db, read_form, redirect, require_role


def _taken(field: str) -> str:
    if field == "round_title":
        return _("Another round was added at the same moment. Please try again.")
    return _("This short name is already taken. Choose another.")


def _load(s: Session, model: Any, request: Request, param: str) -> Any:
    row = s.get(model, request.path_params[param])
    if row is None:
        raise HTTPException(404)
    return row


def access_contest(s: Session, request: Request) -> Contest:
    """The contest named in the path (404 when there is none); the caller checked the role."""
    contest: Contest = _load(s, Contest, request, "contest_id")
    return contest


def access_round(s: Session, request: Request) -> Round:
    round_: Round = _load(s, Round, request, "round_id")
    return round_


def access_category(s: Session, request: Request) -> Category:
    category: Category = _load(s, Category, request, "category_id")
    return category


def _page(request: Request, template: str, context: dict[str, Any],
          forms_shown: list[Form]) -> Response:
    status = 422 if any(f.errors for f in forms_shown) else 200
    return render(request, template, context, status_code=status)


async def contests_page(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    now = request.state.now
    form = Form(values={"year": str(now.year + 1)})
    if request.method == "POST":
        form, data = forms.contest_form(await read_form(request))
        if data is not None:
            try:
                with db(request, write=True) as s:
                    contest = services.create_contest(s, data, admin.id, now)
                return redirect(request, f"/admin/contests/{contest.id}",
                                _("The contest is created."))
            except services.Taken as exc:
                form.errors[exc.field] = _taken(exc.field)
    with db(request) as s:
        contests = list(s.exec(select(Contest).order_by(col(Contest.year).desc(),
                                                        col(Contest.id).desc())).all())
        rounds: dict[int, list[Round]] = {}
        for round_ in s.exec(select(Round).order_by(col(Round.number))).all():
            rounds.setdefault(round_.contest_id, []).append(round_)
    return _page(request, "contests/admin_contests.html",
                 {"contests": contests, "rounds": rounds, "form": form}, [form])


async def _contest_page(request: Request, contest_id: int, form: Form | None,
                        round_form: Form) -> Response:
    with db(request) as s:
        contest = s.get(Contest, contest_id)
        if contest is None:
            raise HTTPException(404)
        rounds = list(s.exec(select(Round).where(Round.contest_id == contest_id)
                             .order_by(col(Round.number))).all())
    form = form or Form(values=forms.contest_values(contest))
    return _page(request, "contests/admin_contest.html", {
        "contest": contest, "rounds": rounds, "form": form, "round_form": round_form,
    }, [form, round_form])


async def contest_edit(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    contest_id = request.path_params["contest_id"]
    form = None
    if request.method == "POST":
        form, data = forms.contest_form(await read_form(request))
        if data is not None:
            try:
                with db(request, write=True) as s:
                    contest = access_contest(s, request)
                    services.update_contest(s, contest, data, admin.id, request.state.now)
                return redirect(request, f"/admin/contests/{contest_id}",
                                _("The contest is saved."))
            except services.Taken as exc:
                form.errors[exc.field] = _taken(exc.field)
    return await _contest_page(request, contest_id, form, Form())


async def round_create(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    contest_id = request.path_params["contest_id"]
    round_form, title = forms.new_round_form(await read_form(request))
    if title is not None:
        try:
            with db(request, write=True) as s:
                contest = access_contest(s, request)
                round_ = services.create_round(s, contest, title, admin.id, request.state.now)
            return redirect(request, f"/admin/rounds/{round_.id}", _("The round is created."))
        except services.Taken as exc:
            round_form.errors[exc.field] = _taken(exc.field)
    return await _contest_page(request, contest_id, None, round_form)


async def _round_page(request: Request, round_id: int, *, settings_form: Form | None = None,
                      phases_form: Form | None = None, pots_form: Form | None = None
                      ) -> Response:
    time_zone = request.app.state.settings.time_zone
    with db(request) as s:
        round_ = s.get(Round, round_id)
        if round_ is None:
            raise HTTPException(404)
        contest = s.get(Contest, round_.contest_id)
        phases = list(s.exec(select(RoundPhase).where(RoundPhase.round_id == round_id)
                             .order_by(col(RoundPhase.starts_at))).all())
        pots = list(s.exec(select(RoundPot).where(RoundPot.round_id == round_id)).all())
        districts = list(s.exec(select(District).order_by(col(District.id))).all())
        pots_locked = services.pots_locked(s, round_id, request.state.now)
    settings_form = settings_form or Form(values=forms.round_values(round_))
    phases_form = phases_form or Form(values=forms.phase_values(phases, time_zone))
    pots_form = pots_form or Form(values=forms.pot_values(pots))
    return _page(request, "contests/admin_round.html", {
        "contest": contest, "round": round_, "phases": phases, "districts": districts,
        "phase_order": [p.value for p in PHASE_ORDER], "time_zone": time_zone,
        "settings_form": settings_form, "phases_form": phases_form, "pots_form": pots_form,
        "pots_locked": pots_locked,
    }, [settings_form, phases_form, pots_form])


async def round_edit(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    round_id = request.path_params["round_id"]
    if request.method == "GET":
        return await _round_page(request, round_id)
    form, data = forms.round_form(await read_form(request))
    if data is None:
        return await _round_page(request, round_id, settings_form=form)
    with db(request, write=True) as s:
        services.update_round(s, access_round(s, request), data, admin.id, request.state.now)
    return redirect(request, f"/admin/rounds/{round_id}", _("The round settings are saved."))


async def round_phases(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    round_id = request.path_params["round_id"]
    form, schedule = forms.phases_form(await read_form(request),
                                       request.app.state.settings.time_zone)
    if schedule is None:
        return await _round_page(request, round_id, phases_form=form)
    with db(request, write=True) as s:
        services.set_phases(s, access_round(s, request), schedule, admin.id, request.state.now)
    return redirect(request, f"/admin/rounds/{round_id}", _("The schedule is saved."))


async def round_pots(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    round_id = request.path_params["round_id"]
    data = await read_form(request)
    with db(request) as s:
        district_ids = [d for d in s.exec(select(District.id)).all() if d is not None]
    form, pots = forms.pots_form(data, district_ids)
    if pots is None:
        return await _round_page(request, round_id, pots_form=form)
    try:
        with db(request, write=True) as s:
            services.set_pots(s, access_round(s, request), pots, admin.id, request.state.now)
    except services.PotsLocked:
        return redirect(request, f"/admin/rounds/{round_id}", _(
            "Voting has begun: the budgets can no longer change, since ballots are filled "
            "against them."), "error")
    except IntegrityError:  # a left-out budget already has a ballot, votes or results
        form.errors[forms.CITY_POT] = _("A budget that is on a ballot or has votes cannot "
                                        "be removed. Keep an amount for it.")
        return await _round_page(request, round_id, pots_form=form)
    return redirect(request, f"/admin/rounds/{round_id}", _("The budgets are saved."))


async def categories_page(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    form = Form(values={"position": "0"})
    if request.method == "POST":
        form, data = forms.category_form(await read_form(request))
        if data is not None:
            try:
                with db(request, write=True) as s:
                    services.create_category(s, data, admin.id, request.state.now)
                return redirect(request, "/admin/categories", _("The category is created."))
            except services.Taken as exc:
                form.errors[exc.field] = _taken(exc.field)
    with db(request) as s:
        categories = list(s.exec(select(Category).order_by(col(Category.position),
                                                           col(Category.id))).all())
    return _page(request, "contests/admin_categories.html",
                 {"categories": categories, "form": form}, [form])


async def category_edit(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    form = None
    if request.method == "POST":
        form, data = forms.category_form(await read_form(request))
        if data is not None:
            try:
                with db(request, write=True) as s:
                    services.update_category(s, access_category(s, request), data, admin.id,
                                             request.state.now)
                return redirect(request, "/admin/categories", _("The category is saved."))
            except services.Taken as exc:
                form.errors[exc.field] = _taken(exc.field)
    with db(request) as s:
        category = access_category(s, request)
    form = form or Form(values=forms.category_values(category))
    return _page(request, "contests/admin_category.html",
                 {"category": category, "form": form}, [form])


GET_POST = ["GET", "POST"]

routes = [
    Route("/admin/contests", contests_page, methods=GET_POST, name="contests"),
    Route("/admin/contests/{contest_id:int}", contest_edit, methods=GET_POST, name="contest"),
    Route("/admin/contests/{contest_id:int}/rounds", round_create, methods=["POST"],
          name="round_create"),
    Route("/admin/rounds/{round_id:int}", round_edit, methods=GET_POST, name="round_edit"),
    Route("/admin/rounds/{round_id:int}/phases", round_phases, methods=["POST"],
          name="round_phases"),
    Route("/admin/rounds/{round_id:int}/pots", round_pots, methods=["POST"], name="round_pots"),
    Route("/admin/categories", categories_page, methods=GET_POST, name="categories"),
    Route("/admin/categories/{category_id:int}", category_edit, methods=GET_POST,
          name="category"),
]
