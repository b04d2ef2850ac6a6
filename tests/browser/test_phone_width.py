"""Every page of the route table, as every demo account, on a 320 px phone: nothing is wider
than the screen. Wide content scrolls inside its own region; the page itself never does.
Screenshots at 360 px of the pages residents use most go to test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.browser.conftest import ARTIFACTS
from tests.permission_table import TABLE

ACCOUNTS = {
    "anonymous": None,
    "resident": ("resident@demo.shaar.kg", "demo-resident-pass"),
    "moderator": ("moderator@demo.shaar.kg", "demo-moderator-pass"),
    "jury": ("jury@demo.shaar.kg", "demo-jury-pass"),
    "admin": ("admin@demo.shaar.kg", "demo-admin-pass"),
}
#: Answers that are not pages: data downloads, files, signatures.
NOT_PAGES = re.compile(r"(\.csv|\.json|\.jsonld|\.zip|\.pb|\.sig|\.pem)$|^/api/|^/files/|"
                       r"^/healthz$|^/projects/photos/")
OVERFLOW = """() => {
  const width = window.innerWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.right <= width + 1) return false;
    for (let p = e.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return false;
    }
    return true;
  }).slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''));
  return {scroll: document.documentElement.scrollWidth, width, wide};
}"""


def _first(db: Any, sql: str, default: Any = 1) -> Any:
    row = db.execute(text(sql)).first()
    return default if row is None or row[0] is None else row[0]


def demo_paths(database_url: str) -> list[str]:
    """The GET paths of the route table, filled from the demo city (every round for paths
    about a round)."""
    engine = create_engine(database_url)
    with engine.connect() as db:
        rounds = [r[0] for r in db.execute(text("SELECT id FROM round ORDER BY id"))]
        values = {
            "idea": _first(db, "SELECT reference FROM idea WHERE status='published' ORDER BY id"),
            "submitted": _first(db, "SELECT reference FROM idea WHERE status='submitted'"),
            "draft": _first(db, "SELECT reference FROM idea WHERE status='draft'", "2027-99999"),
            "changes": _first(db, "SELECT reference FROM idea WHERE status='changes_requested'",
                              "2027-99998"),
            "admitted": _first(db, "SELECT reference FROM idea WHERE status IN "
                                   "('admitted','winner','on_ballot') ORDER BY id",
                               "2027-00015"),
            "comment": _first(db, "SELECT id FROM comment ORDER BY id"),
            "contest": _first(db, "SELECT id FROM contest ORDER BY id"),
            "category": _first(db, "SELECT id FROM category ORDER BY id"),
            "user": _first(db, "SELECT id FROM account ORDER BY id DESC"),
            "receipt": "0" * 64, "token": "made-up-token", "provider": "nowhere",
            "sheet": _first(db, "SELECT id FROM papersheet ORDER BY id"),
            "run": _first(db, "SELECT id FROM resultrun ORDER BY id"),
        }
        pots = {r: _first(db, f"SELECT id FROM roundpot WHERE round_id={r} "  # noqa: S608
                              "AND district_id IS NULL") for r in rounds}
    engine.dispose()
    paths: set[str] = set()
    for entry in TABLE:
        if entry.method != "GET" or NOT_PAGES.search(entry.path):
            continue
        for round_id in rounds if "{round}" in entry.path else [rounds[0]]:
            fill = {**values, "round": round_id, "pot": pots[round_id],
                    "other_pot": pots[round_id]}
            paths.add(re.sub(r"\{(\w+)\}", lambda m, f=fill: str(f[m.group(1)]), entry.path))
    return sorted(paths)


def sign_in(page: Any, base: str, role: str) -> None:
    account = ACCOUNTS[role]
    if account is None:
        return
    page.goto(base + "/signin")
    page.fill("#field-email", account[0])
    page.fill("#field-password", account[1])
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "/signin" not in page.url, f"{role} could not sign in"


@pytest.fixture(scope="module")
def paths(live_server: str, live_database_url: str) -> list[str]:
    return demo_paths(live_database_url)


@pytest.fixture
def phone(browser: Any, live_server: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(locale="ru", viewport={"width": 320, "height": 640})
    page = context.new_page()
    sign_in(page, live_server, request.param)
    yield page
    context.close()


@pytest.mark.parametrize("phone", list(ACCOUNTS), indirect=True)
def test_no_page_is_wider_than_a_320_px_phone(phone: Any, live_server: str,
                                              paths: list[str]) -> None:
    assert len(paths) > 40
    wide: dict[str, Any] = {}
    for path in paths:
        response = phone.goto(live_server + path)
        assert response is not None
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        measured = phone.evaluate(OVERFLOW)
        if measured["scroll"] > measured["width"]:
            wide[path] = measured
    assert wide == {}


SHOTS = {"home": "/", "ballot": "/rounds/2/vote/7", "results": "/rounds/3/results",
         "jury": "/jury/rounds/5"}  # round 5 of the demo is in jury review
#: Lazy pictures below the fold are loaded before a full-page screenshot.
EAGER = """() => Promise.all([...document.images].map(i => {
  i.loading = 'eager';
  return i.complete ? null : new Promise(done => { i.onload = i.onerror = done; });
}))"""


@pytest.mark.parametrize("locale", ["ru", "ky"])
def test_screenshots_at_360_px(browser: Any, live_server: str, locale: str) -> None:
    context = browser.new_context(locale=locale, viewport={"width": 360, "height": 740})
    page = context.new_page()
    sign_in(page, live_server, "admin")  # the one demo account that sees every page here
    page.goto(live_server + "/")
    if page.locator("html").get_attribute("lang") != locale:
        page.click(f"button[name=locale][value={locale}]")
        page.wait_for_load_state()
    ARTIFACTS.mkdir(exist_ok=True)
    for name, path in SHOTS.items():
        response = page.goto(live_server + path)
        assert response is not None and response.status == 200, path
        assert page.locator("html").get_attribute("lang") == locale
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
        page.evaluate(EAGER)
        page.screenshot(path=str(ARTIFACTS / f"phone-{name}-{locale}.png"), full_page=True,
                        caret="initial")
    context.close()
