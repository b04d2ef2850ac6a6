"""The yardstick for bench/load_bench.py: a bare Starlette app that does the framework's share
of a Shaar request and nothing else.

GET /page renders a Jinja2 page of about the size of Shaar's idea list (20 cards, a filter
form, navigation); POST /form parses an urlencoded form, checks an HMAC token as our CSRF
check does, and renders the same page. No database, no sessions, no middleware: the ratio
of Shaar's throughput to this one says how much our own code costs on top of the framework.

Run alone with: .venv/bin/uvicorn bench.baseline_app:app --port 8101
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

SECRET = b"baseline-secret"
TOKEN = hmac.new(SECRET, b"csrf|baseline", hashlib.sha256).hexdigest()

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "baseline_templates")),
    autoescape=True, trim_blocks=True, lstrip_blocks=True,
)

DISTRICTS = [{"id": i, "name": name} for i, name in enumerate(
    ("Ленинский район", "Октябрьский район", "Первомайский район", "Свердловский район"), 1)]
ITEMS = [{
    "reference": f"2027-{n:05d}",
    "title": f"Скамейки и тень во дворе на Токтогула {n} <для всех>",
    "summary": "Поставить шесть скамеек и посадить деревья у детской площадки, "
               "чтобы родителям было где присесть в жару & в дождь. " * 2,
    "district": DISTRICTS[n % 4]["name"], "category": "Парки и дворы",
    "cost": 450_000 + n * 1000, "supports": n * 3, "status": "published",
    "published": datetime(2026, 11, 1, tzinfo=UTC),
} for n in range(1, 21)]
CONTEXT = {
    "heading": "Идеи жителей", "districts": DISTRICTS, "selected": None,
    "sorts": ["newest", "supported", "cost_asc", "cost_desc"], "total": 10_000,
    "items": ITEMS, "languages": [("ru", "Русский"), ("ky", "Кыргызча"), ("en", "English")],
    "nav": [{"href": f"/section/{i}", "label": f"Раздел {i}"} for i in range(6)],
    "footer": [{"href": f"/about/{i}", "label": f"О проекте {i}"} for i in range(4)],
    "flashes": [],
}


def _page(q: str, csrf_token: str) -> HTMLResponse:
    body = env.get_template("page.html").render({**CONTEXT, "q": q, "csrf_token": csrf_token})
    return HTMLResponse(body)


async def page(request: Request) -> Response:
    return _page(request.query_params.get("q", ""), TOKEN)


async def form(request: Request) -> Response:
    data = await request.form()
    presented = data.get("csrf_token")
    if not isinstance(presented, str) or not hmac.compare_digest(presented, TOKEN):
        return PlainTextResponse("bad token", status_code=403)
    marks = [v for v in data.getlist("mark") if isinstance(v, str)]
    return _page(",".join(marks), TOKEN)


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


app = Starlette(routes=[
    Route("/page", page),
    Route("/form", form, methods=["POST"]),
    Route("/healthz", healthz),
])
