"""Idea pages: the list, one idea, proposing and editing, submitting and withdrawing, files."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlencode

from sqlmodel import Session, col, func, select
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests.models import Category, Round, RoundPot
from contests.services import current_phase
from core import ratelimit
from core.forms import Form
from core.i18n import gettext as _
from core.models import District
from core.pagecache import cached_page
from core.templating import render
from core.web import as_int, db, field_str, read_form, redirect, require_writer
from ideas import engagement, queries, rules, services, uploads
from ideas.forms import idea_data, idea_form
from ideas.models import PUBLIC_STATUSES, Attachment, Idea, IdeaStatus
from tracking.queries import idea_section

log = logging.getLogger("shaar.ideas")
MAX_PHOTOS, MAX_DOCUMENTS = 5, 3


def viewer_of(request: Request) -> rules.Viewer:
    return rules.Viewer(request.state.user, request.state.roles)


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "")
    return as_int(raw, 10**9)


@cached_page
async def idea_list(request: Request) -> Response:
    params = request.query_params
    sort = params.get("sort", "newest")
    status = params.get("status", "")
    f = queries.IdeaFilter(
        round_id=_int_param(request, "round"), district_id=_int_param(request, "district"),
        category_id=_int_param(request, "category"),
        status=status if status in PUBLIC_STATUSES else None,
        q=params.get("q", "").strip()[:100],
        sort=sort if sort in queries.SORTS else "newest",
        page=max(1, min(_int_param(request, "page") or 1, 10_000)))
    with db(request) as s:
        choices = _choices(s, None)
        rows, total = queries.list_public(s, f, choices["districts"],  # type: ignore[arg-type]
                                          choices["categories"])  # type: ignore[arg-type]
        rounds = list(s.exec(select(Round).order_by(col(Round.id))).all())
    query = {k: v for k, v in (("round", f.round_id), ("district", f.district_id),
                               ("category", f.category_id), ("status", f.status), ("q", f.q),
                               ("sort", f.sort)) if v not in (None, "", "newest")}
    pages = max(1, -(-total // queries.PER_PAGE))
    return render(request, "ideas/list.html", {
        "rows": rows, "total": total, "filter": f, "rounds": rounds, "pages": pages,
        "sorts": list(queries.SORTS), "statuses": PUBLIC_STATUSES, **choices,
        "page_url": lambda n: "/ideas?" + urlencode({**query, "page": n}),
    }, block="results")


def _choices(s: Session, round_: Round | None) -> dict[str, list[District] | list[Category]]:
    """Districts an idea may name (those with a budget in the round, if it has any) and
    categories."""
    districts = list(s.exec(select(District).order_by(col(District.id))).all())
    if round_ is not None:
        pot_districts = set(s.exec(select(RoundPot.district_id).where(
            RoundPot.round_id == round_.id)).all())
        if pot_districts - {None}:
            districts = [d for d in districts if d.id in pot_districts]
    categories = list(s.exec(select(Category).order_by(col(Category.position),
                                                       col(Category.id))).all())
    return {"districts": districts, "categories": categories}


def _access(s: Session, request: Request) -> Idea:
    idea = queries.find_idea(s, request.path_params["reference"], viewer_of(request))
    if idea is None:
        raise HTTPException(404)
    return idea


def _open_phase(s: Session, round_: Round, request: Request) -> str | None:
    phase = current_phase(s, round_, request.state.now)
    return phase.phase if phase else None


@cached_page
async def idea_detail(request: Request) -> Response:
    viewer = viewer_of(request)
    now = request.state.now
    with db(request) as s:
        idea = _access(s, request)
        page = queries.idea_page(s, idea)
        phase = _open_phase(s, page.round, request)
        threads = engagement.threads(s, idea.id or 0)
        supported = engagement.has_supported(s, viewer.id, idea.id or 0)
        used = engagement.supports_used(s, viewer.id, page.round.id or 0) if viewer.id else 0
        tracking = idea_section(s, idea, viewer.id)
        standing = queries.ballot_standing(s, idea)
    return render(request, "ideas/detail.html", {
        "standing": standing,
        # Supports pick ideas for the ballot: once voting is near, or for an idea not (yet)
        # public, the section would only confuse.
        "show_support": (idea.status == IdeaStatus.PUBLISHED and standing is None
                         and phase not in ("jury_review", "voting", "counting", "results",
                                           "implementation")),
        "page": page, "idea": idea, "threads": threads, "supported": supported,
        "supports_left": page.round.max_supports_per_person - used,
        "can_edit": rules.can_edit(viewer, idea, phase),
        "can_submit": rules.can_submit(viewer, idea, page.round, phase),
        "can_withdraw": rules.can_withdraw(viewer, idea),
        "can_support": rules.can_support(viewer.user, idea, page.round, phase),
        "can_comment": rules.can_comment(viewer.user, idea),
        "can_edit_comment": lambda c: engagement.can_edit_comment(c, viewer.id, now),
        "is_author": rules.is_author(viewer, idea), "phase": phase, "tracking": tracking,
    }, headers={"Cache-Control": "private, no-store"} if not rules.is_public(idea) else None)


def _files(data: FormData, name: str) -> list[UploadFile]:
    return [f for f in data.getlist(name) if isinstance(f, UploadFile) and f.filename]


def _upload_limited(request: Request, data: FormData, user_id: int) -> bool:
    """Count this form's files against the account's upload rate (UPLOAD_RATE_LIMIT); True
    when the account is over it (then nothing is counted, read or decoded)."""
    count = len(_files(data, "photos")) + len(_files(data, "documents"))
    if not count:
        return False
    spec, key = request.app.state.settings.upload_rate_limit, f"upload:{user_id}"
    with db(request, write=True) as s:
        if ratelimit.is_limited(s, key, spec, request.state.now):
            return True
        for _file in range(count):
            ratelimit.record_hit(s, key, spec, request.state.now)
    return False


def _upload_refused(request: Request, context: dict[str, object], form: Form) -> Response:
    form.errors["photos"] = _("You have uploaded many files in a short time. Please wait a "
                              "while and try again.")
    return _form_page(request, context, form, 429)


async def _store_files(request: Request, data: FormData, form: Form,
                       existing: tuple[int, int], user_id: int) -> list[uploads.StoredFile]:
    """Check counts and quota, then store the uploads. Errors land in `form.errors`."""
    settings = request.app.state.settings
    photos, documents = _files(data, "photos"), _files(data, "documents")
    if existing[0] + len(photos) > MAX_PHOTOS:
        form.errors["photos"] = _("An idea can have at most %(n)s photos.", n=MAX_PHOTOS)
    if existing[1] + len(documents) > MAX_DOCUMENTS:
        form.errors["documents"] = _("An idea can have at most %(n)s documents.",
                                     n=MAX_DOCUMENTS)
    if not form.ok or not (photos or documents):
        return []
    with db(request) as s:
        used = s.exec(select(func.coalesce(func.sum(Attachment.size), 0)).where(
            Attachment.uploaded_by_id == user_id)).one()
    incoming = sum(f.size or 0 for f in photos + documents)
    if used + incoming > settings.upload_quota_bytes:
        form.errors["photos"] = _("Your files would exceed your upload allowance of "
                                  "%(mb)s MB.", mb=settings.upload_quota_bytes // 2**20)
        return []
    stored: list[uploads.StoredFile] = []
    for field, files, kind in (("photos", photos, "image"), ("documents", documents,
                                                            "document")):
        for upload in files:
            try:
                stored.append(await uploads.store_upload(
                    settings.upload_dir, upload, kind=kind,
                    max_bytes=settings.max_upload_bytes))
            except uploads.UploadRejected as exc:
                name = uploads.sanitize_filename(upload.filename or "")
                form.errors[field] = f"{name}: {exc.message}"
    if not form.ok:
        _discard(request, stored)
        return []
    return stored


def _discard(request: Request, stored: list[uploads.StoredFile]) -> None:
    for f in stored:
        uploads.delete_stored(request.app.state.settings.upload_dir, f.stored_name, f.thumb_name)


def _attach(s: Session, idea: Idea, user_id: int, stored: list[uploads.StoredFile],
            now: object) -> None:
    start = int(s.exec(select(func.count()).select_from(Attachment).where(
        Attachment.idea_id == idea.id)).one())
    for position, f in enumerate(stored, start=start):
        assert idea.id is not None
        s.add(Attachment(idea_id=idea.id, uploaded_by_id=user_id, kind=f.kind,
                         stored_name=f.stored_name, thumb_name=f.thumb_name,
                         original_name=f.original_name, content_type=f.content_type,
                         size=f.size, width=f.width, height=f.height, position=position,
                         created_at=now))  # type: ignore[arg-type]


def _form_page(request: Request, template_context: dict[str, object], form: Form,
               status: int = 200) -> Response:
    return render(request, "ideas/form.html", {**template_context, "form": form},
                  status_code=status)


async def idea_new(request: Request) -> Response:
    user = require_writer(request)
    with db(request) as s:
        round_ = s.get(Round, request.path_params["round_id"])
        if round_ is None:
            raise HTTPException(404)
        phase = _open_phase(s, round_, request)
        context: dict[str, object] = {"round": round_, "idea": None, **_choices(s, round_)}
    if not rules.can_propose(user, round_, phase):
        raise HTTPException(403, _("This round does not take new ideas now.") if
                            rules.is_eligible(user, round_) else
                            _("Only verified residents can take part in this round."))
    if request.method == "GET":
        return _form_page(request, context, Form())
    data = await read_form(request)
    try:
        return await _save_new(request, data, round_, user.id, context)
    finally:
        await data.close()


async def _save_new(request: Request, data: FormData, round_: Round, user_id: int,
                    context: dict[str, object]) -> Response:
    form = _validate(data, context)
    now = request.state.now
    # The daily limit is cheap to check; photos are not cheap to decode, so it comes first.
    assert round_.id is not None
    with db(request) as s:
        if services.ideas_created_since(s, user_id, round_.id, now - timedelta(days=1)) >= \
                round_.max_ideas_per_day:
            form.errors["title"] = _("You can propose at most %(n)s ideas a day in this round. "
                                     "Please come back tomorrow.", n=round_.max_ideas_per_day)
            return _form_page(request, context, form, 429)
    if form.ok and _upload_limited(request, data, user_id):
        return _upload_refused(request, context, form)
    stored = await _store_files(request, data, form, (0, 0), user_id) if form.ok else []
    if not form.ok:
        return _form_page(request, context, form, 422)
    submit = field_str(data, "action", 10) == "submit"
    try:
        with db(request, write=True) as s:
            idea = services.create_idea(s, round_, user_id, idea_data(form), now)
            _attach(s, idea, user_id, stored, now)
            if submit:
                services.change_status(s, idea, IdeaStatus.SUBMITTED, user_id, idea.version,
                                       now)
    except services.IdeaError as exc:
        _discard(request, stored)
        form.errors["title"] = exc.message
        return _form_page(request, context, form, exc.status_code)
    except Exception:
        _discard(request, stored)
        raise
    message = (_("Your idea %(ref)s is sent to the moderators.", ref=idea.reference) if submit
               else _("Your draft %(ref)s is saved. Only you can see it.", ref=idea.reference))
    return redirect(request, f"/ideas/{idea.reference}", message)


def _validate(data: FormData, context: dict[str, object]) -> Form:
    categories = context["categories"]
    districts = context["districts"]
    assert isinstance(categories, list) and isinstance(districts, list)
    return idea_form(data, {c.id for c in categories}, {d.id for d in districts})


async def idea_edit(request: Request) -> Response:
    user = require_writer(request)
    viewer = viewer_of(request)
    with db(request) as s:
        idea = _access(s, request)
        round_ = s.get(Round, idea.round_id)
        assert round_ is not None
        phase = _open_phase(s, round_, request)
        context: dict[str, object] = {"round": round_, "idea": idea, **_choices(s, round_),
                                      "attachments": queries.idea_page(s, idea).attachments}
    if not rules.can_edit(viewer, idea, phase):
        raise HTTPException(403, _("This idea can no longer be edited."))
    if request.method == "GET":
        values = {"title": idea.title, "summary": idea.summary,
                  "description": idea.description, "category": str(idea.category_id or ""),
                  "district": str(idea.district_id or ""),
                  "estimated_cost": str(idea.estimated_cost), "address": idea.address,
                  "latitude": "" if idea.latitude is None else str(idea.latitude),
                  "longitude": "" if idea.longitude is None else str(idea.longitude)}
        return _form_page(request, context, Form(values=values))
    data = await read_form(request)
    try:
        return await _save_edit(request, data, idea, user.id, context)
    finally:
        await data.close()


async def _save_edit(request: Request, data: FormData, idea: Idea, user_id: int,
                     context: dict[str, object]) -> Response:
    form = _validate(data, context)
    attachments = context["attachments"]
    assert isinstance(attachments, list)
    existing = (sum(a.kind == "image" for a in attachments),
                sum(a.kind == "document" for a in attachments))
    if form.ok and _upload_limited(request, data, user_id):
        return _upload_refused(request, context, form)
    stored = await _store_files(request, data, form, existing, user_id) if form.ok else []
    if not form.ok:
        return _form_page(request, context, form, 422)
    version = field_str(data, "version", 12)
    now = request.state.now
    try:
        with db(request, write=True) as s:
            fresh = s.get(Idea, idea.id)
            assert fresh is not None
            services.update_idea(s, fresh, idea_data(form),
                                 as_int(version) or -1, now)
            _attach(s, fresh, user_id, stored, now)
    except services.IdeaError as exc:
        _discard(request, stored)
        form.errors["title"] = exc.message
        return _form_page(request, context, form, exc.status_code)
    return redirect(request, f"/ideas/{idea.reference}", _("Your changes are saved."))


async def idea_submit(request: Request) -> Response:
    return await _transition(request, "submit")


async def idea_withdraw(request: Request) -> Response:
    return await _transition(request, "withdraw")


async def _transition(request: Request, action: str) -> Response:
    """Submit (or resubmit) or withdraw one's own idea."""
    require_writer(request)
    viewer = viewer_of(request)
    data = await read_form(request)
    version = field_str(data, "version", 12)
    now = request.state.now
    with db(request, write=True) as s:
        idea = _access(s, request)
        round_ = s.get(Round, idea.round_id)
        assert round_ is not None
        phase = _open_phase(s, round_, request)
        allowed = (rules.can_submit(viewer, idea, round_, phase) if action == "submit"
                   else rules.can_withdraw(viewer, idea))
        if not allowed:
            raise HTTPException(403, _("This cannot be done with this idea now."))
        if action == "withdraw" and queries.on_a_ballot(s, idea.id or 0):
            return redirect(request, f"/ideas/{idea.reference}", _(
                "This idea is on a ballot, so it can no longer be withdrawn: residents are "
                "voting on it."), "error")
        target = IdeaStatus.SUBMITTED if action == "submit" else IdeaStatus.WITHDRAWN
        try:
            services.change_status(s, idea, target, viewer.id,
                                   as_int(version) or -1, now)
        except services.IdeaError as exc:
            return redirect(request, f"/ideas/{idea.reference}", exc.message, "error")
    message = (_("Your idea is sent to the moderators.") if action == "submit"
               else _("Your idea is withdrawn."))
    return redirect(request, f"/ideas/{idea.reference}", message)


async def attachment_delete(request: Request) -> Response:
    require_writer(request)
    viewer = viewer_of(request)
    await read_form(request)
    with db(request, write=True) as s:
        idea = _access(s, request)
        round_ = s.get(Round, idea.round_id)
        assert round_ is not None
        if not rules.can_edit(viewer, idea, _open_phase(s, round_, request)):
            raise HTTPException(403, _("This idea can no longer be edited."))
        attachment = s.get(Attachment, request.path_params["attachment_id"])
        if attachment is None or attachment.idea_id != idea.id:
            raise HTTPException(404)
        names = (attachment.stored_name, attachment.thumb_name)
        s.delete(attachment)
    uploads.delete_stored(request.app.state.settings.upload_dir, *names)
    return redirect(request, f"/ideas/{idea.reference}/edit", _("The file is removed."))


async def file_serve(request: Request) -> Response:
    name = request.path_params["name"]
    with db(request) as s:
        attachment = s.exec(select(Attachment).where(
            (Attachment.stored_name == name) | (Attachment.thumb_name == name))).first()
        idea = s.get(Idea, attachment.idea_id) if attachment else None
        if attachment is None or idea is None or not rules.can_view(viewer_of(request), idea):
            raise HTTPException(404)
    response = uploads.file_response(request.app.state.settings.upload_dir, name, attachment,
                                     thumb_name=attachment.thumb_name,
                                     private=not rules.is_public(idea))
    if response is None:
        raise HTTPException(404)
    return response


routes = [
    Route("/ideas", idea_list, name="list"),
    Route("/rounds/{round_id:int}/ideas/new", idea_new, methods=["GET", "POST"], name="new"),
    Route("/ideas/{reference}", idea_detail, name="detail"),
    Route("/ideas/{reference}/edit", idea_edit, methods=["GET", "POST"], name="edit"),
    Route("/ideas/{reference}/submit", idea_submit, methods=["POST"], name="submit"),
    Route("/ideas/{reference}/withdraw", idea_withdraw, methods=["POST"], name="withdraw"),
    Route("/ideas/{reference}/attachments/{attachment_id:int}/delete", attachment_delete,
          methods=["POST"], name="attachment_delete"),
    Route("/files/{name}", file_serve, name="file"),
]
