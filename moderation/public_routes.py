"""What residents and the public see of moderation: report forms and the transparency page;
and the admins' list of rejection reasons."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests.models import Round
from core.audit import record
from core.i18n import gettext as _
from core.models import Role
from core.templating import render
from core.web import as_int, db, field_str, read_form, redirect, require_role, require_writer
from ideas import rules
from ideas.models import Comment, Idea
from ideas.routes import viewer_of
from moderation import queries, services
from moderation.models import RejectionReason, ReportReason


async def report_form(request: Request) -> Response:
    user = require_writer(request)
    target_type = "comment" if "comment_id" in request.path_params else "idea"
    with db(request) as s:
        if target_type == "comment":
            comment = s.get(Comment, request.path_params["comment_id"])
            idea = s.get(Idea, comment.idea_id) if comment else None
        else:
            comment = None
            idea = s.exec(select(Idea).where(
                Idea.reference == request.path_params["reference"][:20])).first()
        if idea is None or not rules.can_view(viewer_of(request), idea) or (
                target_type == "comment" and comment is None):
            raise HTTPException(404)
    target = comment if comment is not None else idea
    context = {"idea": idea, "comment": comment, "reasons": list(ReportReason),
               "error": None, "values": {}}
    if request.method == "GET":
        return render(request, "moderation/report.html", context)
    data = await read_form(request)
    reason, note = field_str(data, "reason", 20), field_str(data, "note", 500)[:500]
    if reason not in set(ReportReason):
        return render(request, "moderation/report.html",
                      {**context, "error": _("Choose a reason for the report."),
                       "values": {"note": note}}, status_code=422)
    threshold = request.app.state.settings.report_hide_threshold
    with db(request, write=True) as s:
        fresh = s.get(type(target), target.id)
        assert fresh is not None
        try:
            services.report(s, target_type, fresh, user.id, reason, note, threshold,
                            request.state.now)
        except services.ModerationError as exc:
            return redirect(request, f"/ideas/{idea.reference}", exc.message, "error")
    return redirect(request, f"/ideas/{idea.reference}",
                    _("Thank you. The moderators will look at your report."))


async def transparency(request: Request) -> Response:
    with db(request) as s:
        rows = queries.transparency(s)
        rounds = {r.id: r for r in s.exec(select(Round)).all()}
        reasons = {r.id: r for r in queries.reasons(s, active_only=False)}
    return render(request, "moderation/transparency.html",
                  {"rows": rows, "rounds": rounds, "reasons": reasons})


async def reasons_admin(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    error = None
    if request.method == "POST":
        data = await read_form(request)
        slug = field_str(data, "slug", 40)
        texts = {k: field_str(data, k, 200)[:200] for k in ("text_ru", "text_ky", "text_en")}
        reason_id = as_int(field_str(data, "reason_id", 12))
        if reason_id:
            with db(request, write=True) as s:
                reason = s.get(RejectionReason, reason_id)
                if reason is None:
                    raise HTTPException(404)
                reason.active = field_str(data, "active", 3) == "yes"
                s.add(reason)
                record(s, admin.id, "reason.update", "reason", reason_id, request.state.now,
                       active=reason.active)
            return redirect(request, "/admin/reasons", _("The reason is saved."))
        if not slug or not all(texts.values()) or not slug.replace("-", "").isalnum():
            error = _("Give a short name (Latin letters, digits, hyphens) and the text in "
                      "all three languages.")
        else:
            try:
                with db(request, write=True) as s:
                    s.add(RejectionReason(slug=slug, text_ru=texts["text_ru"],
                                          text_ky=texts["text_ky"], text_en=texts["text_en"]))
                    record(s, admin.id, "reason.create", "reason", slug, request.state.now)
            except IntegrityError:
                error = _("This short name is already taken. Choose another.")
        if error is None:
            return redirect(request, "/admin/reasons", _("The reason is added."))
    with db(request) as s:
        reasons = list(s.exec(select(RejectionReason).order_by(col(RejectionReason.position),
                                                               col(RejectionReason.id))))
    return render(request, "moderation/reasons.html", {"reasons": reasons, "error": error},
                  status_code=422 if error else 200)


routes = [
    Route("/ideas/{reference}/report", report_form, methods=["GET", "POST"],
          name="report_idea"),
    Route("/comments/{comment_id:int}/report", report_form, methods=["GET", "POST"],
          name="report_comment"),
    Route("/transparency", transparency, name="transparency"),
    Route("/admin/reasons", reasons_admin, methods=["GET", "POST"], name="reasons"),
]
