"""The results page (public once published; the jury's count and publish forms before),
and the exports of published results: CSV and one pabulib file per pot."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests.models import Round
from core.i18n import get_locale
from core.i18n import gettext as _
from core.models import Role
from core.pagecache import cached_page
from core.templating import render
from core.web import as_int, db, field_str, read_form, redirect, require_user
from results import charts, downloads, export, queries, services, signing
from results.api import routes as api_routes
from results.cache import PageCache
from results.explain import percent, rule_label, tie_break_label
from results.models import Publication
from results.services import Change, ResultsRefused
from voting import queries as voting_queries


def is_jury(request: Request) -> bool:
    roles: frozenset[str] = getattr(request.state, "roles", frozenset())
    return Role.JURY in roles or Role.ADMIN in roles


def require_jury(request: Request) -> Any:
    """Anonymous: to sign-in. Neither jury nor admin: 403."""
    user = require_user(request)
    if not is_jury(request):
        raise HTTPException(403, _("You do not have permission to do this."))
    return user


def access_round(s: Session, request: Request) -> Round:
    round_ = s.get(Round, request.path_params["round_id"])
    if round_ is None:
        raise HTTPException(404)
    return round_


def refusal_text(code: str) -> str:
    return {
        "no_voting": _("This round has no voting."),
        "voting_open": _("Voting is still open: count after it closes."),
        "published": _("The results of this round are already published."),
        "stale_run": _("A newer count exists. Review it, then publish."),
        "statement": _("Write the jury's statement."),
        "unknown_project": _("That project is not on this round's ballot."),
        "bad_change": _("That change does not alter the computed outcome."),
        "justification": _("Every change to the computed outcome needs a public "
                           "justification."),
    }.get(code, _("This cannot be done now."))


def pot_charts(view: queries.RunView) -> dict[int, list[charts.Chart]]:
    from core.i18n import format_number, format_som

    out = {}
    for pot in view.pots:
        ident = f"pot-{pot.pot.id}"
        votes = charts.bar_chart(
            f"{ident}-votes", _("Votes per project"),
            _("Horizontal bars, one per project, longest for the most votes; funded projects "
              "are dark green."),
            [(r.idea.title, r.score, format_number(r.score), r.funded) for r in pot.rows])
        budget = pot.result.budget
        used = pot.funded_cost
        money = charts.bar_chart(
            f"{ident}-budget", _("Budget use"),
            _("Two bars: the budget of this pot and the cost of the funded projects."),
            [(_("Budget"), budget, format_som(budget), False),
             (_("Funded projects"), used, format_som(used), True)])
        out[pot.pot.id or 0] = [votes, money]
    return out


@cached_page
async def results_page(request: Request) -> Response:
    return page_response(request, None, "")


def page_cache(request: Request) -> PageCache:
    """This app's cache of published pages (one per app, so per worker process)."""
    cache = getattr(request.app.state, "results_pages", None)
    if cache is None:
        cache = PageCache()
        request.app.state.results_pages = cache
    return cache


def published_html(request: Request, s: Session, round_: Round,
                   publication: Publication) -> Markup:
    """The published part of the results page in the reader's language, from the cache."""

    def build() -> Markup:
        view = queries.published_view(s, round_.id or 0)
        assert view is not None
        template = request.app.state.templates.get_template("results/_published.html")
        html = template.render(
            round=round_, view=view, charts=pot_charts(view),
            turnout=queries.turnout(s, round_.id or 0), percent=percent,
            rule_label=rule_label, tie_break_label=tie_break_label,
            fingerprint=signing.fingerprint(downloads.city_key(request)))
        return Markup(html)  # noqa: S704 - an autoescaped template rendered it

    return page_cache(request).get((publication.id or 0, get_locale()), build)


def page_response(request: Request, form: Any, error: str) -> Response:
    """The results page; after a refused publication, again with what the juror typed (422).
    Published results come from the cache; the jury's unpublished count is built each time."""
    now = request.state.now
    jury = is_jury(request)
    computed, turnout, charts_ = None, [], {}
    closed = has_voting = False
    with db(request) as s:
        round_ = access_round(s, request)
        publication = services.publication_of(s, round_.id or 0)
        body = published_html(request, s, round_, publication) if publication else None
        if publication is None and jury:
            run = services.latest_run(s, round_.id or 0)
            computed = queries.run_view(s, run, None) if run else None
            if computed is not None:
                turnout = queries.turnout(s, round_.id or 0)
                charts_ = pot_charts(computed)
            closed = services.is_voting_closed(s, round_.id or 0, now)
            has_voting = voting_queries.round_voting(s, round_.id or 0) is not None
    return render(request, "results/page.html", {
        "round": round_, "published_html": body, "computed": computed,
        "turnout": turnout, "closed": closed, "jury": jury, "has_voting": has_voting,
        "percent": percent, "rule_label": rule_label, "tie_break_label": tie_break_label,
        "charts": charts_, "error": error,
        "typed": form if form is not None else {}}, status_code=422 if error else 200)


async def results_count(request: Request) -> Response:
    user = require_jury(request)
    await read_form(request)
    url = f"/rounds/{request.path_params['round_id']}/results"
    try:
        with db(request, write=True) as s:
            round_ = access_round(s, request)
            services.count_round(s, round_, user.id, request.state.now)
    except ResultsRefused as exc:
        return redirect(request, url, refusal_text(exc.code), "error")
    return redirect(request, url, _("The ballots are counted. Review the outcome, then "
                                    "publish it."))


def changes_from(form: Any, view: queries.RunView) -> list[Change]:
    changes = []
    for pot in view.pots:
        for row in pot.rows:
            idea = row.idea.id or 0
            if form.get(f"change_{idea}") == "yes":
                changes.append(Change(pot.pot.id or 0, idea, "remove" if row.computed else "add",
                                      field_str(form, f"why_{idea}", 2000)))
    return changes


async def results_publish(request: Request) -> Response:
    user = require_jury(request)
    form = await read_form(request)
    url = f"/rounds/{request.path_params['round_id']}/results"
    try:
        with db(request, write=True) as s:
            round_ = access_round(s, request)
            run = services.latest_run(s, round_.id or 0)
            run_id = as_int(field_str(form, "run", 20))
            if run is None or run.id is None or run_id != run.id:
                raise ResultsRefused("stale_run")
            changes = changes_from(form, queries.run_view(s, run, None))
            services.publish(s, round_, run.id, field_str(form, "statement", 5000), changes,
                             user.id, request.state.now)
    except ResultsRefused as exc:
        if exc.code in ("statement", "justification", "bad_change", "unknown_project"):
            return page_response(request, form, refusal_text(exc.code))
        return redirect(request, url, refusal_text(exc.code), "error")
    except IntegrityError:  # another juror published at the same moment
        return redirect(request, url, refusal_text("published"), "error")
    return redirect(request, url, _("The results are published."))


def published_or_404(s: Session, round_id: int) -> queries.RunView:
    """Exports exist only after publication, for everyone (jury and admins included)."""
    view = queries.published_view(s, round_id)
    if view is None:
        raise HTTPException(404)
    return view


async def results_csv(request: Request) -> Response:
    with db(request) as s:
        round_ = access_round(s, request)
        view = published_or_404(s, round_.id or 0)
        body = export.results_csv(view)
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="results-round-{round_.id}.csv"'})


async def pot_pabulib(request: Request) -> Response:
    pot_id = request.path_params["pot_id"]
    with db(request) as s:
        round_ = access_round(s, request)
        body = downloads.pot_document(s, round_, pot_id)
    if body is None:
        raise HTTPException(404)
    return Response(body, media_type="text/plain; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="round-{round_.id}-pot-{pot_id}.pb"'})


R = "/rounds/{round_id:int}/results"
routes = [
    Route(R, results_page, name="page"),
    Route(R + "/count", results_count, methods=["POST"], name="count"),
    Route(R + "/publish", results_publish, methods=["POST"], name="publish"),
    Route(R + ".csv", results_csv, name="csv"),
    Route(R + "/pots/{pot_id:int}.pb", pot_pabulib, name="pabulib"),
    *api_routes,
    *downloads.routes,
]
