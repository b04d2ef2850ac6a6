"""Supports, comments, one's own ideas and notifications."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests.models import Round
from core import ratelimit
from core.i18n import gettext as _
from core.models import User
from core.templating import render
from core.web import as_int, db, field_str, read_form, redirect, require_user, require_writer
from ideas import engagement, notifications, queries, rules
from ideas.forms import comment_body
from ideas.models import Comment, Idea
from ideas.routes import _access, _open_phase, viewer_of
from ideas.services import IdeaError


async def idea_support(request: Request) -> Response:
    user = require_writer(request)
    await read_form(request)
    withdraw = request.url.path.endswith("/unsupport")
    with db(request, write=True) as s:
        idea = _access(s, request)
        round_ = s.get(Round, idea.round_id)
        assert round_ is not None
        if not rules.can_support(user, idea, round_, _open_phase(s, round_, request)):
            raise HTTPException(403, _("Supports are not collected for this idea now."))
        try:
            if withdraw:
                engagement.withdraw_support(s, idea, user.id)
            else:
                engagement.support(s, idea, round_, user.id, request.state.now)
        except IdeaError as exc:
            return redirect(request, f"/ideas/{idea.reference}#support", exc.message, "error")
    message = _("Your support is withdrawn.") if withdraw else _("Thank you for your support.")
    return redirect(request, f"/ideas/{idea.reference}#support", message)


async def comment_add(request: Request) -> Response:
    user = require_writer(request)
    data = await read_form(request)
    body, error = comment_body(data)
    parent = field_str(data, "parent", 12)
    settings = request.app.state.settings
    now = request.state.now
    with db(request, write=True) as s:
        idea = _access(s, request)
        if not rules.can_comment(user, idea):
            raise HTTPException(403, _("Comments are closed for this idea."))
        key = f"comment:{user.id}"
        if ratelimit.is_limited(s, key, settings.comment_rate_limit, now):
            raise HTTPException(429, _("You are commenting very fast. Please wait a minute."))
        if error:
            return redirect(request, f"/ideas/{idea.reference}#comments", error, "error")
        ratelimit.record_hit(s, key, settings.comment_rate_limit, now)
        author = s.get(User, user.id)
        assert author is not None
        try:
            comment, notices = engagement.add_comment(
                s, idea, author, body, as_int(parent), now)
        except IdeaError as exc:
            return redirect(request, f"/ideas/{idea.reference}#comments", exc.message, "error")
        notifications.queue_mail(s, settings, notices, now)
    return redirect(request, f"/ideas/{idea.reference}#comment-{comment.id}",
                    _("Your comment is published."))


async def comment_edit(request: Request) -> Response:
    user = require_writer(request)
    now = request.state.now
    with db(request) as s:
        comment = s.get(Comment, request.path_params["comment_id"])
        idea = s.get(Idea, comment.idea_id) if comment else None
    if comment is None or idea is None or not rules.can_view(viewer_of(request), idea):
        raise HTTPException(404)
    if not engagement.can_edit_comment(comment, user.id, now):
        raise HTTPException(403, _("Comments can be edited for %(n)s minutes after posting.",
                                   n=15))
    if request.method == "GET":
        return render(request, "ideas/comment_edit.html",
                      {"comment": comment, "idea": idea, "error": None, "body": comment.body})
    data = await read_form(request)
    body, error = comment_body(data)
    if error:
        return render(request, "ideas/comment_edit.html",
                      {"comment": comment, "idea": idea, "error": error, "body": body},
                      status_code=422)
    with db(request, write=True) as s:
        fresh = s.get(Comment, comment.id)
        assert fresh is not None
        try:
            engagement.edit_comment(s, fresh, user.id, body, now)
        except IdeaError as exc:
            raise HTTPException(exc.status_code, exc.message) from None
    return redirect(request, f"/ideas/{idea.reference}#comment-{comment.id}",
                    _("Your comment is saved."))


async def my_ideas(request: Request) -> Response:
    user = require_user(request)
    with db(request) as s:
        ideas = queries.ideas_of(s, user.id)
    return render(request, "ideas/mine.html", {"ideas": ideas})


async def notification_list(request: Request) -> Response:
    user = require_user(request)
    with db(request) as s:
        rows = notifications.recent(s, user.id)
    return render(request, "ideas/notifications.html", {
        "rows": [(row, notifications.message(row), notifications.reference(row))
                 for row in rows]})


async def notifications_read(request: Request) -> Response:
    user = require_user(request)
    await read_form(request)
    with db(request, write=True) as s:
        notifications.mark_all_read(s, user.id, request.state.now)
    return redirect(request, "/notifications", _("All notifications are marked as read."))


routes = [
    Route("/ideas/{reference}/support", idea_support, methods=["POST"], name="support"),
    Route("/ideas/{reference}/unsupport", idea_support, methods=["POST"], name="unsupport"),
    Route("/ideas/{reference}/comments", comment_add, methods=["POST"], name="comment"),
    Route("/comments/{comment_id:int}/edit", comment_edit, methods=["GET", "POST"],
          name="comment_edit"),
    Route("/my/ideas", my_ideas, name="mine"),
    Route("/notifications", notification_list, name="notifications"),
    Route("/notifications/read", notifications_read, methods=["POST"],
          name="notifications_read"),
]
