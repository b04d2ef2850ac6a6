"""Error pages in the reader's language, and the exceptions endpoints raise to reach them."""

from __future__ import annotations

import logging
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from core.templating import render

log = logging.getLogger("shaar")

ERROR_PAGES = (400, 403, 404, 405, 413, 422, 429, 500)


class SignInRequired(Exception):
    """An anonymous person asked for something that needs an account."""


def is_api(request: Request) -> bool:
    from api.middleware import is_api_path
    return is_api_path(request.url.path)


def api_problem(request: Request, status: int, headers: dict[str, str] | None = None) -> Response:
    """Under /api/ an error is application/problem+json (RFC 9457), never a page."""
    from api.routes import problem
    from core.i18n import gettext as _
    titles = {400: _("The request is not valid."), 404: _("Not found."),
              405: _("Only GET and HEAD are allowed here."), 413: _("The request is too large."),
              500: _("Something went wrong on our side.")}
    return problem(status, titles.get(status, _("The request is not valid.")), headers=headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if is_api(request):
        return api_problem(request, exc.status_code, dict(exc.headers or {}))
    code = exc.status_code if exc.status_code in ERROR_PAGES else 400
    return render(
        request,
        "errors/error.html",
        {"code": code, "detail": exc.detail if code in (400, 403, 422) else None},
        status_code=exc.status_code,
        headers=dict(exc.headers or {}),
    )


async def sign_in_required(request: Request, exc: Exception) -> Response:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?next={quote(path, safe='')}", status_code=303)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if is_api(request):
        return api_problem(request, 500)
    try:
        return render(request, "errors/error.html", {"code": 500, "detail": None}, status_code=500)
    except Exception:  # the templates themselves may be what broke
        return Response("Internal Server Error", status_code=500, media_type="text/plain")


async def too_large(scope: Scope, receive: Receive, send: Send) -> None:
    """The 413 page, in the reader's language, sent before the body is read."""
    response = render(Request(scope, receive), "errors/error.html",
                      {"code": 413, "detail": None}, status_code=413,
                      headers={"Connection": "close"})
    await response(scope, receive, send)
