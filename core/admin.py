"""Administration of people: roles, residency, the census list; and a view of the audit log."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, or_, select
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.accounts import services
from core.i18n import gettext as _
from core.models import GRANTABLE_ROLES, AuditEntry, CensusEntry, District, Role, RoleGrant, User
from core.templating import render
from core.web import as_int, db, field_str, read_form, redirect, require_role

PAGE_SIZE = 50
MAX_CENSUS_BYTES = 20 * 1024 * 1024


def access_user(s: Session, request: Request) -> User:
    """Load the person named in the path (404 when there is none)."""
    raw = request.path_params["user_id"]
    user = s.get(User, raw) if isinstance(raw, int) else None
    if user is None:
        raise HTTPException(404)
    return user


def _page(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return max(1, min(as_int(raw) or 1, 10_000))


async def admin_home(request: Request) -> Response:
    require_role(request, Role.ADMIN)
    with db(request) as s:
        counts = {
            "accounts": s.exec(select(func.count()).select_from(User)).one(),
            "verified": s.exec(select(func.count()).select_from(User).where(
                col(User.is_verified))).one(),
            "census": s.exec(select(func.count()).select_from(CensusEntry)).one(),
        }
    return render(request, "admin/home.html", {"counts": counts})


async def users_list(request: Request) -> Response:
    require_role(request, Role.ADMIN)
    query = request.query_params.get("q", "").strip()[:100]
    role = request.query_params.get("role", "")
    page = _page(request)
    with db(request) as s:
        stmt = select(User)
        if query:
            like = f"%{query.lower()}%"
            stmt = stmt.where(or_(func.lower(User.email).like(like),
                                  func.lower(User.display_name).like(like)))
        if role in GRANTABLE_ROLES:
            stmt = stmt.where(col(User.id).in_(select(RoleGrant.user_id).where(
                RoleGrant.role == role)))
        users = list(s.exec(stmt.order_by(col(User.id)).offset((page - 1) * PAGE_SIZE)
                            .limit(PAGE_SIZE + 1)).all())
        ids = [u.id for u in users]
        grants = s.exec(select(RoleGrant).where(col(RoleGrant.user_id).in_(ids))).all()
    roles: dict[int, list[str]] = {}
    for grant in grants:
        roles.setdefault(grant.user_id, []).append(grant.role)
    return render(request, "admin/users.html", {
        "users": users[:PAGE_SIZE], "has_more": len(users) > PAGE_SIZE, "page": page,
        "q": query, "role": role, "user_roles": roles, "grantable": GRANTABLE_ROLES,
    }, block="results")


async def user_detail(request: Request) -> Response:
    require_role(request, Role.ADMIN)
    with db(request) as s:
        person = access_user(s, request)
        granted = set(s.exec(select(RoleGrant.role).where(RoleGrant.user_id == person.id)).all())
        districts = list(s.exec(select(District).order_by(col(District.id))).all())
    return render(request, "admin/user.html", {"person": person, "granted": granted,
                                               "grantable": GRANTABLE_ROLES,
                                               "districts": districts})


async def user_roles(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    data = await read_form(request)
    role, action = field_str(data, "role", 20), field_str(data, "action", 10)
    if role not in GRANTABLE_ROLES or action not in ("grant", "revoke"):
        raise HTTPException(422, _("Choose one of the listed roles."))
    with db(request, write=True) as s:
        person = access_user(s, request)
        try:
            if action == "grant":
                services.grant_role(s, person, role, admin.id, request.state.now)
            else:
                services.revoke_role(s, person, role, admin.id, request.state.now)
        except services.AccountError:
            return redirect(request, f"/admin/users/{person.id}",
                            _("You cannot take the admin role from yourself."), "error")
    return redirect(request, f"/admin/users/{person.id}", _("Roles are saved."))


async def user_residency(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    data = await read_form(request)
    district = field_str(data, "district", 12)
    verified = data.get("verified") == "yes"
    with db(request, write=True) as s:
        person = access_user(s, request)
        known = {d.id for d in s.exec(select(District)).all()}
        if district and as_int(district) not in known:
            raise HTTPException(422, _("Choose one of the listed districts."))
        services.set_residency(s, person, as_int(district), verified,
                               "admin", request.state.now, actor_id=admin.id)
    return redirect(request, f"/admin/users/{person.id}", _("Residency is saved."))


async def census(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    if request.method == "GET":
        return render(request, "admin/census.html", {"error": None})
    data = await read_form(request)
    try:
        return await _load_census(request, data, admin.id)
    finally:
        await data.close()


async def _load_census(request: Request, data: FormData, admin_id: int) -> Response:
    upload = data.get("file")
    batch = field_str(data, "batch", 40) or request.state.now.strftime("%Y-%m-%d")
    error = None
    if upload is None or isinstance(upload, str) or not upload.filename:
        error = _("Choose a CSV file.")
    else:
        raw = await upload.read(MAX_CENSUS_BYTES + 1)
        if len(raw) > MAX_CENSUS_BYTES:
            error = _("The file is larger than %(mb)s MB.", mb=MAX_CENSUS_BYTES // 2**20)
        else:
            try:
                text = raw.decode("utf-8-sig")
                with db(request, write=True) as s:
                    added = services.import_census(s, text, batch, admin_id, request.state.now)
            except UnicodeDecodeError:
                error = _("The file is not UTF-8 text.")
            except services.AccountError as exc:
                error = _("The file was not loaded: %(reason)s", reason=str(exc))
    if error:
        return render(request, "admin/census.html", {"error": error}, status_code=422)
    return redirect(request, "/admin/census",
                    _("%(n)s residents were added to the list.", n=added))


def _audit_query(request: Request) -> tuple[Any, dict[str, str]]:
    """The audit entries matching the filters in the query string, newest first."""
    q = request.query_params
    filters = {"action": q.get("action", "").strip()[:60],
               "actor": q.get("actor", "").strip()[:100],
               "since": q.get("since", "")[:10], "until": q.get("until", "")[:10]}
    stmt = (select(AuditEntry, User).join(User, col(User.id) == AuditEntry.actor_id, isouter=True)
            .order_by(col(AuditEntry.id).desc()))
    if filters["action"]:
        stmt = stmt.where(col(AuditEntry.action).startswith(filters["action"]))
    if filters["actor"]:
        like = f"%{filters['actor'].lower()}%"
        stmt = stmt.where(or_(func.lower(User.email).like(like),
                              func.lower(User.display_name).like(like)))
    zone = ZoneInfo(request.app.state.settings.time_zone)
    for key, op in (("since", ">="), ("until", "<")):
        try:
            day = datetime.strptime(filters[key], "%Y-%m-%d").replace(tzinfo=zone)
        except ValueError:
            filters[key] = ""
            continue
        bound = (day + timedelta(days=1) if key == "until" else day).astimezone(UTC)
        stmt = stmt.where(col(AuditEntry.at) >= bound if op == ">=" else
                          col(AuditEntry.at) < bound)
    return stmt, filters


async def audit_log(request: Request) -> Response:
    require_role(request, Role.ADMIN)
    page = _page(request)
    stmt, filters = _audit_query(request)
    with db(request) as s:
        rows = s.exec(stmt.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(request, "admin/audit.html", {"rows": rows[:PAGE_SIZE], "page": page,
                                                "has_more": len(rows) > PAGE_SIZE,
                                                "filters": filters, "query": query})


async def audit_csv(request: Request) -> Response:
    """The filtered audit log as CSV. Cells that a spreadsheet would run as a formula are
    prefixed with an apostrophe."""
    require_role(request, Role.ADMIN)
    stmt, _filters = _audit_query(request)
    with db(request) as s:
        rows = s.exec(stmt.limit(100_000)).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "at_utc", "actor_id", "actor", "action", "target_type", "target_id",
                     "details"])
    for entry, actor in rows:
        writer.writerow([_cell(v) for v in (
            entry.id, entry.at.isoformat(), entry.actor_id, actor.display_name if actor else "",
            entry.action, entry.target_type, entry.target_id, entry.details)])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="shaar-audit.csv"',
        "Cache-Control": "private, no-store"})


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


routes = [
    Route("/admin", admin_home, name="home"),
    Route("/admin/users", users_list, name="users"),
    Route("/admin/users/{user_id:int}", user_detail, name="user"),
    Route("/admin/users/{user_id:int}/roles", user_roles, methods=["POST"], name="user_roles"),
    Route("/admin/users/{user_id:int}/residency", user_residency, methods=["POST"],
          name="user_residency"),
    Route("/admin/census", census, methods=["GET", "POST"], name="census"),
    Route("/admin/audit", audit_log, name="audit"),
    Route("/admin/audit.csv", audit_csv, name="audit_csv"),
]
