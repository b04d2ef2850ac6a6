"""Implementation tracking pages: the public list of winning projects, the admin's progress
form, following a project, its photos, and the open-data JSON."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.forms import Form
from core.i18n import gettext as _
from core.models import Role
from core.templating import render
from core.web import as_int, db, field_str, read_form, redirect, require_role, require_writer
from ideas import uploads
from ideas.models import Idea
from tracking import notifications, queries, services
from tracking.forms import PHOTO_SLOTS, Report, check_report
from tracking.models import STATUSES

API_HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"}


def _status_param(request: Request) -> str | None:
    status = request.query_params.get("status", "")
    return status if status in STATUSES else None


async def project_list(request: Request) -> Response:
    status = _status_param(request)
    with db(request) as s:
        everything = queries.winners(s)
    counts = {st: sum(w.tracking.status == st for w in everything) for st in STATUSES}
    shown = [w for w in everything if status is None or w.tracking.status == status]
    rounds: list[tuple[Any, list[queries.Winner]]] = []
    for w in shown:
        if not rounds or rounds[-1][0].id != w.round.id:
            rounds.append((w.round, []))
        rounds[-1][1].append(w)
    return render(request, "tracking/list.html", {
        "rounds": rounds, "status": status, "counts": counts, "total": len(everything),
        "statuses": STATUSES, "is_admin": Role.ADMIN in request.state.roles,
    })


def _winner(s: Session, reference: str) -> queries.Winner:
    """A winning project by its idea's reference; anything else is 404 here."""
    idea = s.exec(select(Idea).where(Idea.reference == reference[:20])).first()
    winner = queries.winner_of(s, idea) if idea is not None else None
    if winner is None:
        raise HTTPException(404)
    return winner


def _manage_page(request: Request, s: Session, winner: queries.Winner, form: Form,
                 error: str | None = None, status_code: int = 200) -> Response:
    return render(request, "tracking/manage.html", {
        "winner": winner, "form": form, "error": error, "slots": range(1, PHOTO_SLOTS + 1),
        "entries": queries.timeline(s, winner.idea.id or 0), "statuses": STATUSES,
    }, status_code=status_code)


def _current_values(winner: queries.Winner) -> dict[str, str]:
    t = winner.tracking
    return {"status": t.status, "progress": str(t.progress), "reason": t.public_reason}


async def project_manage(request: Request) -> Response:
    user = require_role(request, Role.ADMIN)
    if request.method == "GET":
        with db(request) as s:
            winner = _winner(s, request.path_params["reference"])
            return _manage_page(request, s, winner, Form(values=_current_values(winner)))
    data = await read_form(request)
    try:
        return await _save(request, data, int(user.id))
    finally:
        await data.close()


async def _save(request: Request, data: FormData, actor_id: int) -> Response:
    reference = request.path_params["reference"]
    report, form = check_report(data)
    version = as_int(field_str(data, "version", 12), 10**9)
    stored: list[tuple[uploads.StoredFile, str]] = []
    if report is not None:
        stored = await _store_photos(request, report, form)
    if report is None or not form.ok:
        with db(request) as s:
            form.values["version"] = str(version or 0)
            return _manage_page(request, s, _winner(s, reference), form, status_code=422)
    try:
        with db(request, write=True) as s:
            winner = _winner(s, reference)
            _entry, notices = services.save_report(s, winner, report, stored,
                                                   -1 if version is None else version,
                                                   actor_id, request.state.now)
            notifications.queue_mail(s, request.app.state.settings, notices,
                                     request.state.now)
    except services.TrackingError as exc:
        _discard(request, stored)
        with db(request) as s:
            winner = _winner(s, reference)
            # The admin sees the project as it is now and keeps what they wrote.
            current = _current_values(winner)
            form.values.update(current, body=report.body,
                               reason=report.reason or current["reason"],
                               version=str(winner.tracking.version))
            return _manage_page(request, s, winner, form, exc.message, exc.status_code)
    except Exception:
        _discard(request, stored)
        raise
    return redirect(request, f"/ideas/{winner.idea.reference}#tracking",
                    _("The project's progress is saved."))


async def _store_photos(request: Request, report: Report,
                        form: Form) -> list[tuple[uploads.StoredFile, str]]:
    """Re-encode and store the report's photos through ideas/uploads.py (type from the
    bytes, metadata stripped, size limits). A refused photo is a field error; then nothing
    is kept."""
    settings = request.app.state.settings
    stored: list[tuple[uploads.StoredFile, str]] = []
    for slot, upload, alt in report.photos:
        try:
            stored.append((await uploads.store_upload(settings.upload_dir, upload, kind="image",
                                                      max_bytes=settings.max_upload_bytes),
                           alt))
        except uploads.UploadRejected as exc:
            name = uploads.sanitize_filename(upload.filename or "")
            form.errors[f"photo{slot}"] = f"{name}: {exc.message}"
    if not form.ok:
        _discard(request, stored)
        return []
    return stored


def _discard(request: Request, stored: list[tuple[uploads.StoredFile, str]]) -> None:
    for f, _alt in stored:
        uploads.delete_stored(request.app.state.settings.upload_dir, f.stored_name,
                              f.thumb_name)


async def project_follow(request: Request) -> Response:
    user = require_writer(request)
    await read_form(request)
    stop = request.url.path.endswith("/unfollow")
    with db(request, write=True) as s:
        winner = _winner(s, request.path_params["reference"])
        idea_id = winner.idea.id or 0
        if stop:
            services.unfollow(s, idea_id, int(user.id))
        else:
            services.follow(s, idea_id, int(user.id), request.state.now)
    message = (_("You no longer follow this project.") if stop else
               _("You follow this project: we will tell you about its progress."))
    return redirect(request, f"/ideas/{winner.idea.reference}#tracking", message)


async def photo_serve(request: Request) -> Response:
    name = request.path_params["name"]
    with db(request) as s:
        found = queries.photo_by_name(s, name)
    if found is None or not queries.is_listed(found[1]):
        raise HTTPException(404)
    photo, _idea = found
    response = uploads.file_response(request.app.state.settings.upload_dir, name, photo,
                                     thumb_name=photo.thumb_name)
    if response is None:
        raise HTTPException(404)
    return response


def _project_json(w: queries.Winner, entries: list[queries.Entry], base: str) -> dict[str, Any]:
    t = w.tracking
    return {
        "idea_id": w.idea.id, "reference": w.idea.reference, "title": w.idea.title,
        "contest_id": w.contest.id, "round_id": w.round.id, "district_id": w.idea.district_id,
        "cost": w.cost, "status": t.status, "progress": t.progress,
        "cancel_reason": t.public_reason or None,
        "updated_at": t.updated_at.isoformat() if t.id is not None else None,
        "url": f"{base}/ideas/{w.idea.reference}",
        "updates": [{"at": e.update.created_at.isoformat(), "status": e.update.status,
                     "progress": e.update.progress, "status_changed": e.update.status_changed,
                     "text": e.update.body,
                     "photos": [{"url": f"{base}/projects/photos/{p.stored_name}",
                                 "alt": p.alt} for p in e.photos]}
                    for e in entries],
    }


async def api_projects(request: Request) -> Response:
    status = _status_param(request)
    base = request.app.state.settings.base_url
    with db(request) as s:
        data = [_project_json(w, queries.timeline(s, w.idea.id or 0), base)
                for w in queries.winners(s, status)]
    return JSONResponse({"statuses": list(STATUSES), "projects": data}, headers=API_HEADERS)


routes = [
    Route("/projects", project_list, name="list"),
    Route("/projects/photos/{name}", photo_serve, name="photo"),
    Route("/projects/{reference}/manage", project_manage, methods=["GET", "POST"],
          name="manage"),
    Route("/projects/{reference}/follow", project_follow, methods=["POST"], name="follow"),
    Route("/projects/{reference}/unfollow", project_follow, methods=["POST"],
          name="unfollow"),
    Route("/api/projects", api_projects, name="api"),
]
