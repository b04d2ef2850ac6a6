"""The app factory: settings in, a Starlette app out. The one place that mounts domains."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from urllib.parse import urlsplit

import anyio
from starlette.applications import Starlette
from starlette.convertors import IntegerConvertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from api.middleware import ApiAccessMiddleware
from core import errors
from core.db import Database, make_database
from core.limits import BodySizeLimitMiddleware
from core.models import utcnow
from core.pagecache import AnonymousPages
from core.security import content_security_policy
from core.settings import ROOT, Settings
from core.templating import make_environment
from core.web import HeadAsGetMiddleware, RequestContextMiddleware


class IdConvertor(IntegerConvertor):
    """`{name:int}` in our paths is a row id: at most nine digits, so every match fits the
    database's INTEGER (64 bits in SQLite, 32 in PostgreSQL) and a longer number is simply no
    route (404) instead of an overflow in the query."""

    regex = "[0-9]{1,9}"


# Paths are compiled when a Route is made; `prefixed` (below) makes every route of the app.
register_url_convertor("int", IdConvertor())


def prefixed(prefix: str, routes: list[Route]) -> list[BaseRoute]:
    """Name top-level routes `prefix:name`, as a Mount would, without a path prefix."""
    return [Route(r.path, r.endpoint, methods=list(r.methods or ()), name=f"{prefix}:{r.name}")
            for r in routes]


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def build_routes() -> list[BaseRoute]:
    from api.opendata_routes import routes as opendata_routes
    from api.routes import routes as api_routes
    from contests.admin import routes as contest_admin_routes
    from contests.routes import routes as contest_routes
    from core.accounts.routes import routes as account_routes
    from core.admin import routes as admin_routes
    from ideas.engagement_routes import routes as engagement_routes
    from ideas.routes import routes as idea_routes
    from jury.routes import routes as jury_routes
    from moderation.public_routes import routes as moderation_public_routes
    from moderation.routes import routes as moderation_routes
    from results.routes import routes as results_routes
    from results.simulation_routes import routes as simulation_routes
    from surveys.admin import routes as survey_admin_routes
    from surveys.routes import routes as survey_routes
    from surveys.screening import routes as survey_screening_routes
    from tracking.routes import routes as tracking_routes
    from voting.routes import routes as voting_routes

    return [
        *prefixed("contests", contest_routes),
        *prefixed("accounts", account_routes),
        Route("/healthz", healthz, name="healthz"),
        *prefixed("ideas", idea_routes),
        *prefixed("engagement", engagement_routes),
        *prefixed("moderation", moderation_routes),
        *prefixed("moderation_public", moderation_public_routes),
        *prefixed("admin", admin_routes),
        *prefixed("contest_admin", contest_admin_routes),
        *prefixed("voting", voting_routes),
        *prefixed("results", results_routes),
        *prefixed("jury", jury_routes),
        *prefixed("simulation", simulation_routes),
        *prefixed("tracking", tracking_routes),
        *prefixed("surveys", survey_routes),
        *prefixed("opendata", opendata_routes),
        *prefixed("survey_admin", survey_admin_routes),
        *prefixed("survey_screening", survey_screening_routes),
        *prefixed("api", api_routes),
        Mount("/static", app=StaticFiles(directory=ROOT / "static", check_dir=False),
              name="static"),
    ]


def _lifespan(settings: Settings, database: Database
              ) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """Each server process delivers the mail outbox in the background, unless
    MAIL_POLL_SECONDS is 0 (then `shaar worker` does)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.mail_poll_seconds <= 0:
            yield
            return
        from core.outbox import run_delivery

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(run_delivery, database, settings, settings.mail_poll_seconds)
            yield
            tasks.cancel_scope.cancel()

    return lifespan


def create_app(settings: Settings | None = None, database: Database | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    database = database or make_database(settings.database_url)
    form_targets = tuple(
        f"{parts.scheme}://{parts.netloc}"
        for parts in (urlsplit(p.discovery_url) for p in settings.oidc_providers)
    )
    csp = content_security_policy(form_targets)
    app = Starlette(
        debug=False,
        routes=build_routes(),
        lifespan=_lifespan(settings, database),
        middleware=[
            # Outermost: one access log line per /api/ request, no X-Road-* header out.
            Middleware(ApiAccessMiddleware),
            Middleware(HeadAsGetMiddleware),
            Middleware(RequestContextMiddleware, settings=settings, database=database, csp=csp),
            # Inside the context middleware, so the 413 page speaks the reader's language;
            # that middleware reads only headers, so the body is still unread at that point.
            Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes,
                       on_too_large=errors.too_large),
        ],
        exception_handlers={
            HTTPException: errors.http_error,
            errors.SignInRequired: errors.sign_in_required,
            Exception: errors.server_error,
        },
    )
    app.state.settings = settings
    app.state.database = database
    #: Every request's `request.state.now` comes from here (tests move it, not the wall clock).
    app.state.clock = utcnow
    app.state.templates = make_environment(auto_reload=not settings.is_production)
    if settings.page_cache_seconds > 0:
        app.state.anonymous_pages = AnonymousPages(settings.page_cache_seconds)
    from results.explain import idea_result  # the idea page shows the published outcome
    app.state.templates.globals["idea_result"] = idea_result
    logging.basicConfig(level=logging.INFO)
    return app
