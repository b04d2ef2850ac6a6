"""Staff pages of voting: the admin's voting settings and ballot items, mismatched paper
ballots for an admin, and the polling clerk's paper-ballot entry."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests.models import Round, RoundPot
from core.accounts.services import census_hash
from core.audit import record
from core.forms import Form
from core.i18n import gettext as _
from core.models import District, Role
from core.templating import render
from core.web import as_int, db, read_form, redirect, require_role, require_user
from ideas.models import Idea, IdeaStatus
from voting import admin_services as services
from voting import forms, queries
from voting.messages import refusal_text
from voting.models import BallotItem, PotVoting
from voting.services import VoteRefused, ballot_key

#: Ideas an admin may put on the ballot: published ones, and those the jury admitted (which
#: must stay listed, or saving this form would take them off the ballot again).
BALLOT_CANDIDATES = (IdeaStatus.PUBLISHED, IdeaStatus.ADMITTED)


def access_round(s: Session, request: Request) -> Round:
    round_ = s.get(Round, request.path_params["round_id"])
    if round_ is None:
        raise HTTPException(404)
    return round_


def require_clerk(request: Request) -> Any:
    """Polling clerks, and admins (who enter paper ballots too); anonymous people sign in."""
    user = require_user(request)
    if not request.state.roles & {Role.CLERK, Role.ADMIN}:
        raise HTTPException(403, _("You do not have permission to do this."))
    return user


def _pots(s: Session, round_id: int) -> list[tuple[RoundPot, District | None]]:
    pots = s.exec(select(RoundPot).where(RoundPot.round_id == round_id)
                  .order_by(col(RoundPot.district_id).is_(None), col(RoundPot.district_id))).all()
    return [(p, s.get(District, p.district_id) if p.district_id else None) for p in pots]


async def _settings_page(request: Request, settings_form: Form | None = None,
                         items_form: Form | None = None) -> Response:
    with db(request) as s:
        round_ = access_round(s, request)
        assert round_.id is not None
        pots = _pots(s, round_.id)
        voting = queries.round_voting(s, round_.id)
        setups = {p.id or 0: s.exec(select(PotVoting).where(PotVoting.pot_id == p.id)).first()
                  for p, _d in pots}
        ideas = list(s.exec(select(Idea).where(Idea.round_id == round_.id,
                                               col(Idea.status).in_(BALLOT_CANDIDATES))
                            .order_by(col(Idea.id))).all())
        items = {i.idea_id: i for i in s.exec(select(BallotItem).where(
            BallotItem.round_id == round_.id)).all()}
        started = services.has_ballots(s, round_.id)
        pot_of = {p.district_id: p.id for p, _d in pots}
    settings_form = settings_form or Form(values=forms.settings_values(voting, setups))
    if items_form is None:
        values: dict[str, str] = {}
        for idea in ideas:
            item = items.get(idea.id or 0)
            values[f"on_{idea.id}"] = "yes" if item else ""
            values[f"cost_{idea.id}"] = str(item.cost if item else idea.estimated_cost)
            default_pot = pot_of.get(idea.district_id) or pot_of.get(None) or ""
            values[f"pot_{idea.id}"] = str(item.pot_id if item else default_pot)
        items_form = Form(values=values)
    status = 422 if settings_form.errors or items_form.errors else 200
    return render(request, "voting/admin.html", {
        "round": round_, "pots": pots, "ideas": ideas, "started": started,
        "settings_form": settings_form, "items_form": items_form}, status_code=status)


def _started(request: Request) -> Response:
    return redirect(request, request.url.path.removesuffix("/items"),
                    _("Ballots are already cast: the ballot can no longer change."), "error")


async def settings_edit(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    if request.method == "GET":
        return await _settings_page(request)
    data = await read_form(request)
    with db(request) as s:
        pot_ids = [p.id or 0 for p, _d in _pots(s, access_round(s, request).id or 0)]
    form, settings = forms.settings_form(data, pot_ids)
    if settings is None:
        return await _settings_page(request, settings_form=form)
    try:
        with db(request, write=True) as s:
            services.save_settings(s, access_round(s, request), settings, admin.id,
                                   request.state.now)
    except services.VotingStarted:
        return _started(request)
    return redirect(request, request.url.path, _("The voting settings are saved."))


async def items_edit(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    data = await read_form(request)
    with db(request) as s:
        round_ = access_round(s, request)
        pot_ids = [p.id or 0 for p, _d in _pots(s, round_.id or 0)]
        idea_ids = [i for i in s.exec(select(Idea.id).where(
            Idea.round_id == round_.id, col(Idea.status).in_(BALLOT_CANDIDATES))).all() if i]
    form, chosen = forms.items_form(data, idea_ids, pot_ids)
    if chosen is None:
        return await _settings_page(request, items_form=form)
    try:
        with db(request, write=True) as s:
            services.save_items(s, access_round(s, request), chosen, admin.id,
                                request.state.now)
    except services.VotingStarted:
        return _started(request)
    return redirect(request, request.url.path.removesuffix("/items"),
                    _("The ballot is saved."))


def _paper_context(s: Session, round_: Round) -> dict[str, Any]:
    pots = queries.pots_of_round(s, round_.id or 0)
    return {"round": round_, "pots": pots,
            "sheets": services.mismatched(s, round_.id or 0)}


async def paper_admin(request: Request) -> Response:
    require_role(request, Role.ADMIN)
    with db(request) as s:
        context = _paper_context(s, access_round(s, request))
    return render(request, "voting/admin_paper.html", context)


async def paper_resolve(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    data = await read_form(request)
    raw = str(data.get("entry", ""))
    entry_id = None if raw == "void" else as_int(raw)
    if raw != "void" and entry_id is None:
        raise HTTPException(400)
    back = request.url.path.rsplit("/sheets/", 1)[0]
    try:
        with db(request, write=True) as s:
            round_ = access_round(s, request)
            sheet = s.get(services.PaperSheet, request.path_params["sheet_id"])
            if sheet is None or sheet.round_id != round_.id:
                raise HTTPException(404)
            services.resolve_sheet(s, round_, sheet, entry_id, admin.id,
                                   key=ballot_key(request.app.state.settings.secret_key),
                                   now=request.state.now)
    except (services.PaperRefused, VoteRefused) as exc:
        message = (refusal_text(exc) if isinstance(exc, VoteRefused)
                   else _("This paper ballot was already decided."))
        return redirect(request, back, message, "error")
    return redirect(request, back, _("The paper ballot is decided."))


def _audit_refused(request: Request, clerk_id: int, serial: str, pot_id: int) -> None:
    """The refused reading's transaction was rolled back: audit it in a transaction of its
    own. The audit names the sheet and the pot, never the ID number or its hash."""
    with db(request, write=True) as s:
        record(s, clerk_id, "voting.paper_refused", "round", request.path_params["round_id"],
               request.state.now, serial=serial, pot=pot_id, reason="not_on_census")


async def clerk_entry(request: Request) -> Response:
    """A polling clerk reads one paper ballot in; a second clerk reads it again."""
    clerk = require_clerk(request)
    settings = request.app.state.settings
    form, message = Form(), None
    with db(request) as s:
        round_ = access_round(s, request)
        pots = queries.pots_of_round(s, round_.id or 0)
    if request.method == "POST":
        form, paper = forms.paper_form(await read_form(request), [b.pot.id or 0 for b in pots],
                                       [i.idea.id or 0 for b in pots for i in b.items])
        if paper is not None:
            try:
                with db(request, write=True) as s:
                    outcome, _receipt = services.enter_paper(
                        s, access_round(s, request), paper.serial, clerk.id, paper.pot_id,
                        census_hash(settings.census_salt, paper.id_number), paper.marks,
                        key=ballot_key(settings.secret_key), now=request.state.now)
                texts = {"pending": _("Entered. A second clerk must now enter this ballot "
                                      "paper."),
                         "counted": _("Both entries agree: the paper ballot is counted."),
                         "mismatch": _("The two entries differ. An administrator will "
                                       "check the paper.")}
                return redirect(request, request.url.path, texts[outcome],
                                "error" if outcome == "mismatch" else "success")
            except VoteRefused as exc:
                message = refusal_text(exc)
                if exc.code == "not_on_census":
                    _audit_refused(request, clerk.id, paper.serial, paper.pot_id)
            except services.PaperRefused as exc:
                message = (_("You entered this ballot paper already; another clerk must "
                             "enter it the second time.") if exc.code == "same_clerk"
                           else _("This ballot paper is already entered twice."))
            form.errors["serial"] = message
    return render(request, "voting/clerk.html", {"round": round_, "pots": pots, "form": form},
                  status_code=422 if form.errors else 200)


A = "/admin/rounds/{round_id:int}"
routes = [
    Route(A + "/voting", settings_edit, methods=["GET", "POST"], name="admin"),
    Route(A + "/voting/items", items_edit, methods=["POST"], name="admin_items"),
    Route(A + "/paper", paper_admin, name="admin_paper"),
    Route(A + "/paper/sheets/{sheet_id:int}", paper_resolve, methods=["POST"],
          name="admin_resolve"),
    Route("/clerk/rounds/{round_id:int}/paper", clerk_entry, methods=["GET", "POST"],
          name="clerk"),
]
