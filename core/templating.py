"""Jinja2 rendering: one environment, translated, with htmx partials as named blocks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from core import i18n
from core.forms import field_label
from core.settings import ROOT
from core.text import render_plain


def machine_time(value: datetime) -> str:
    """A `<time datetime>` value: ISO 8601 in UTC to the second (HTML allows at most three
    digits of a fraction)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def make_environment(auto_reload: bool = True) -> jinja2.Environment:
    """`auto_reload`: look at each template file's time on every use (for development; in
    production templates change only with a deploy, which restarts the processes)."""
    env = jinja2.Environment(
        auto_reload=auto_reload,
        loader=jinja2.FileSystemLoader(str(ROOT / "templates")),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    # Filters for dates in the city's zone and the reader's conventions:
    # {{ idea.published_at|format_date }}, {{ phase.ends_at|format_datetime }}.
    env.filters["format_date"] = i18n.format_local_date
    env.filters["format_datetime"] = i18n.format_local_datetime
    env.globals.update(
        city_zone=i18n.city_zone,
        field_label=field_label,
        format_when=i18n.format_when,
        format_day=i18n.format_day,
        format_number=i18n.format_number,
        format_som=i18n.format_som,
        get_locale=i18n.get_locale,
        language_names=i18n.LANGUAGE_NAMES,
        render_plain=render_plain,
        machine_time=machine_time,
    )
    return env


def is_htmx(request: Request) -> bool:
    """True when htmx asked for a fragment (not a boosted page or a history restore)."""
    headers = request.headers
    return (headers.get("HX-Request") == "true" and "HX-Boosted" not in headers
            and "HX-History-Restore-Request" not in headers)


def render(
    request: Request,
    template_name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page, or only its `block` when htmx asked for a fragment of it."""
    env: jinja2.Environment = request.app.state.templates
    ctx = {
        "request": request,
        "user": getattr(request.state, "user", None),
        "roles": getattr(request.state, "roles", frozenset()),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "settings": request.app.state.settings,
        "flashes": getattr(request.state, "flashes", []),
        "block": getattr(request.state, "block", None),
        "url_for": lambda name, **params: str(request.app.url_path_for(name, **params)),
    }
    ctx.update(context or {})
    if block is not None and is_htmx(request):
        # A block rendered alone does not see the template's top-level imports, so partial
        # blocks import the macros they use inside themselves.
        template = env.get_template(template_name)
        body = env.concat(template.blocks[block](template.new_context(ctx)))  # type: ignore[attr-defined]
    else:
        body = env.get_template(template_name).render(ctx)
    response = HTMLResponse(body, status_code=status_code, headers=headers)
    if block is not None:
        response.headers["Vary"] = "HX-Request"
    return response
