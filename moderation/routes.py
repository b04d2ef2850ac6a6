"""The moderators' pages: the queue, the review page, decisions, reports and blocks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests.models import Category, Round
from core.i18n import gettext as _
from core.models import District, Role, User
from core.templating import is_htmx, render
from core.web import as_int, db, field_str, read_form, redirect, require_user
from ideas import engagement, notifications
from ideas import queries as idea_queries
from ideas import services as idea_services
from ideas.models import Comment, Idea
from moderation import queries, services
from moderation.models import DecisionKind
from surveys.screening import pending_count as survey_texts_waiting


def require_moderator(request: Request) -> int:
    """The acting moderator's id. Moderators and admins only: jury members and residents
    get 403, anonymous people are sent to sign in."""
    user = require_user(request)
    if not request.state.roles & {Role.MODERATOR, Role.ADMIN}:
        raise HTTPException(403, _("Only moderators can do this."))
    assert user.id is not None
    return int(user.id)


def _idea(s: Session, reference: str) -> Idea:
    idea = s.exec(select(Idea).where(Idea.reference == reference[:20])).first()
    if idea is None or idea.status == "draft":
        raise HTTPException(404)
    return idea


def _filter(request: Request, q: Any = None) -> queries.QueueFilter:
    q = request.query_params if q is None else q
    return queries.QueueFilter(round_id=as_int(q.get("round"), 10**9),
                               district_id=as_int(q.get("district"), 10**9),
                               category_id=as_int(q.get("category"), 10**9))


async def queue_page(request: Request) -> Response:
    require_moderator(request)
    f = _filter(request)
    with db(request) as s:
        items, held = queries.queue(s, f, request.state.now)
        context = {
            "items": items, "held": held, "counts": queries.counts(s, f), "filter": f,
            "reasons": queries.reasons(s),
            "rounds": list(s.exec(select(Round).order_by(col(Round.id))).all()),
            "districts": list(s.exec(select(District).order_by(col(District.id))).all()),
            "categories": list(s.exec(select(Category).order_by(col(Category.id))).all()),
            "open_reports": len(queries.open_reports(s)),
            "survey_texts": survey_texts_waiting(s),
        }
    return render(request, "moderation/queue.html", context, block="queue")


async def review_page(request: Request) -> Response:
    require_moderator(request)
    with db(request) as s:
        idea = _idea(s, request.path_params["reference"])
        page = idea_queries.idea_page(s, idea)
        versions = idea_services.versions(s, idea)
        changes = queries.diff(versions[-2], versions[-1]) if len(versions) > 1 else []
        context = {"page": page, "idea": idea, "changes": changes, "versions": versions,
                   "decisions": queries.decisions_of(s, idea.id or 0),
                   "reasons": queries.reasons(s),
                   "threads": engagement.threads(s, idea.id or 0),
                   "block": services.active_block(s, idea.author_id, request.state.now)}
    return render(request, "moderation/review.html", context)


async def decide(request: Request) -> Response:
    moderator_id = require_moderator(request)
    data = await read_form(request)
    kind = field_str(data, "kind", 20)
    back = field_str(data, "back", 200)
    back = back if back.startswith("/moderation") and "//" not in back else "/moderation"
    now = request.state.now
    with db(request, write=True) as s:
        idea = _idea(s, request.path_params["reference"])
        other = None
        if kind == DecisionKind.DUPLICATE:
            ref = field_str(data, "duplicate_of", 20)
            other = s.exec(select(Idea).where(Idea.reference == ref)).first() if ref else None
        decision = services.DecisionInput(
            kind=kind, expected_version=as_int(field_str(data, "version", 12)) or -1,
            public_reason=field_str(data, "public_reason", 2000)[:2000],
            private_note=field_str(data, "private_note", 2000)[:2000],
            reason_id=as_int(field_str(data, "reason", 12)), duplicate_of=other)
        try:
            notices = services.decide(s, idea, moderator_id, decision, now)
        except idea_services.IdeaError as exc:
            s.rollback()
            if is_htmx(request):
                return render(request, "moderation/_decided.html",
                              {"idea": idea, "error": exc.message},
                              status_code=exc.status_code)
            return redirect(request, back, exc.message, "error")
        notifications.queue_mail(s, request.app.state.settings, notices, now)
    message = _("Decision saved for %(ref)s.", ref=idea.reference)
    if is_htmx(request):
        # The counts at the top of the queue follow in-place decisions (an out-of-band swap),
        # under the filter the queue was showing.
        with db(request) as s:
            counts = queries.counts(s, _filter(request, QueryParams(urlsplit(back).query)))
        return render(request, "moderation/_decided.html",
                      {"idea": idea, "error": None, "message": message, "kind": kind,
                       "counts": counts})
    return redirect(request, back, message)


async def comment_moderate(request: Request) -> Response:
    moderator_id = require_moderator(request)
    data = await read_form(request)
    hide = request.url.path.endswith("/hide")
    with db(request, write=True) as s:
        comment = s.get(Comment, request.path_params["comment_id"])
        if comment is None:
            raise HTTPException(404)
        idea = s.get(Idea, comment.idea_id)
        assert idea is not None
        try:
            services.moderate_comment(s, comment, moderator_id, hide,
                                      field_str(data, "public_reason", 300)[:300],
                                      request.state.now)
        except services.ModerationError as exc:
            return redirect(request, f"/moderation/ideas/{idea.reference}", exc.message,
                            "error")
    return redirect(request, f"/moderation/ideas/{idea.reference}#comment-{comment.id}",
                    _("The comment is hidden.") if hide else _("The comment is shown again."))


async def reports_page(request: Request) -> Response:
    require_moderator(request)
    with db(request) as s:
        groups = queries.open_reports(s)
    return render(request, "moderation/reports.html", {"groups": groups})


async def reports_resolve(request: Request) -> Response:
    moderator_id = require_moderator(request)
    data = await read_form(request)
    target_type = field_str(data, "target_type", 10)
    target_id = as_int(field_str(data, "target_id", 12))
    upheld = field_str(data, "resolution", 10) == "uphold"
    with db(request, write=True) as s:
        model = {"idea": Idea, "comment": Comment}.get(target_type)
        target = s.get(model, target_id) if model and target_id else None  # type: ignore[arg-type]
        if target is None:
            raise HTTPException(404)
        services.resolve_reports(s, target_type, target, moderator_id, upheld,
                                 field_str(data, "public_reason", 300)[:300],
                                 request.state.now)
    return redirect(request, "/moderation/reports",
                    _("The reports are upheld.") if upheld else _("The reports are dismissed."))


def _local_end(request: Request, raw: str) -> datetime | None:
    """An end date typed in the city's time zone (end of that day), in UTC."""
    if not raw:
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d")
    except ValueError:
        raise services.ModerationError(_("Enter the date like 2027-03-01."), 422) from None
    zone = ZoneInfo(request.app.state.settings.time_zone)
    return day.replace(hour=23, minute=59, tzinfo=zone).astimezone(UTC)


async def block_account(request: Request) -> Response:
    moderator_id = require_moderator(request)
    data = await read_form(request)
    lift = request.url.path.endswith("/unblock")
    target = as_int(str(request.path_params["user_id"]))
    with db(request, write=True) as s:
        person = s.get(User, target) if target else None
        if person is None:
            raise HTTPException(404)
        try:
            if lift:
                services.lift_block(s, person, moderator_id, request.state.now)
            else:
                services.block_user(s, person, field_str(data, "reason", 500)[:500],
                                    _local_end(request, field_str(data, "ends", 10)),
                                    moderator_id, request.state.now)
        except services.ModerationError as exc:
            s.rollback()
            return redirect(request, f"/moderation/users/{target}", exc.message, "error")
    return redirect(request, f"/moderation/users/{target}",
                    _("The account is unblocked.") if lift else _("The account is blocked."))


async def account_page(request: Request) -> Response:
    require_moderator(request)
    with db(request) as s:
        person = s.get(User, request.path_params["user_id"])
        if person is None:
            raise HTTPException(404)
        block = services.active_block(s, person.id or 0, request.state.now)
        ideas = idea_queries.ideas_of(s, person.id or 0)
    return render(request, "moderation/account.html",
                  {"person": person, "block": block,
                   "ideas": [i for i in ideas if i.status != "draft"]})


routes = [
    Route("/moderation", queue_page, name="queue"),
    Route("/moderation/ideas/{reference}", review_page, name="review"),
    Route("/moderation/ideas/{reference}/decide", decide, methods=["POST"], name="decide"),
    Route("/moderation/comments/{comment_id:int}/hide", comment_moderate, methods=["POST"],
          name="comment_hide"),
    Route("/moderation/comments/{comment_id:int}/unhide", comment_moderate, methods=["POST"],
          name="comment_unhide"),
    Route("/moderation/reports", reports_page, name="reports"),
    Route("/moderation/reports/resolve", reports_resolve, methods=["POST"], name="resolve"),
    Route("/moderation/users/{user_id:int}", account_page, name="account"),
    Route("/moderation/users/{user_id:int}/block", block_account, methods=["POST"],
          name="block"),
    Route("/moderation/users/{user_id:int}/unblock", block_account, methods=["POST"],
          name="unblock"),
]
