"""Every GET page of the route table in Chromium, with hostile values in its query and path
parameters: no Content-Security-Policy violation (event or console error) and no dialog, that
is, no reflected markup that a browser would try to run or style."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from sqlmodel import Session, col, create_engine, select

from contests.models import Category, Contest, Round, RoundPot
from core.models import User
from ideas.models import Idea, IdeaStatus
from tests.hostile.walker import (
    NAUGHTY,
    QUERY_NAMES,
    SKIPPED,
    Rotation,
    RouteInfo,
    instances,
    route_table,
)

SCRIPTED = ("\"'><script>alert(1)</script><img src=x onerror=alert(2)>"
            "<style>body{display:none}</style><a href=javascript:alert(3)>x</a>")
LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ''}`));
"""


def seeded_scenes(database_url: str) -> list[dict[str, str]]:
    """Path parameters from the live server's demo city; ids it has none of (comments, paper
    sheets, attachments) are filled with 1, which gives the not-found page."""
    engine = create_engine(database_url)
    scenes = []
    with Session(engine) as s:
        contest = s.exec(select(Contest)).first()
        category = s.exec(select(Category)).first()
        person = s.exec(select(User).where(User.email == "resident@demo.shaar.kg")).one()
        assert contest and category
        common = {"contest_id": str(contest.id), "category_id": str(category.id),
                  "user_id": str(person.id), "comment_id": "1", "sheet_id": "1",
                  "attachment_id": "1", "token": "no-such-token", "provider": "nobody",
                  "name": "0" * 32 + ".pdf", "code": "0" * 64,
                  # The demo city's survey (surveys/demo.py) and any other path under /api/v1/.
                  "slug": "city-services-trust", "number": "1", "fmt": "responses.csv",
                  "key": "sat_transport", "response_id": "1", "rest": "nothing-here"}
        for round_ in s.exec(select(Round).order_by(col(Round.id))).all():
            pot = s.exec(select(RoundPot).where(RoundPot.round_id == round_.id)).first()
            idea = s.exec(select(Idea).where(Idea.round_id == round_.id,
                                             Idea.status == IdeaStatus.PUBLISHED)).first()
            if pot and idea:
                scenes.append({**common, "round_id": str(round_.id), "pot_id": str(pot.id),
                               "reference": idea.reference})
    engine.dispose()
    return scenes


class CspWatch:
    def __init__(self, browser: Any, base: str) -> None:
        self.base = base
        self.context = browser.new_context(locale="ru")
        self.context.add_init_script(LISTEN)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.visits = 0
        self.page.on("console", self._console)
        self.page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.problems.append(f"{self.page.url[:200]}: console: {message.text[:300]}")

    def _dialog(self, dialog: Any) -> None:
        self.problems.append(f"{self.page.url[:200]}: a dialog opened: {dialog.message!r}")
        dialog.dismiss()

    def sign_in(self, email: str, password: str) -> None:
        self.page.goto(f"{self.base}/signin")
        self.page.fill("form[action='/signin'] input[name=email]", email)
        self.page.fill("form[action='/signin'] input[name=password]", password)
        self.page.click("form[action='/signin'] button[type=submit]")
        self.page.wait_for_load_state()
        assert "/signin" not in self.page.url, "the sign-in did not succeed"

    def shows(self, path: str) -> bool:
        """The page answers with HTML, not a redirect, to this browser (error pages too;
        checked without opening it)."""
        answer = self.context.request.get(self.base + path, max_redirects=0)
        return not 300 <= answer.status < 400 and answer.headers.get(
            "content-type", "").startswith("text/html")

    def visit(self, path: str) -> None:
        self.visits += 1
        self.page.goto(self.base + path)
        for violation in self.page.evaluate("() => window.__csp || []"):
            self.problems.append(f"{path[:200]}: securitypolicyviolation: {violation[:300]}")

    def calibrate(self) -> None:
        """Markup that does slip into a page is heard: an inline event handler is refused."""
        self.page.goto(self.base + "/")
        self.page.evaluate("() => { document.body.insertAdjacentHTML('beforeend', "
                           "'<img src=\"data:,\" onerror=\"alert(1)\">'); }")
        self.page.wait_for_function("() => window.__csp.length > 0")
        assert "script-src" in self.page.evaluate("() => window.__csp[0]")
        self.page.evaluate("() => { window.__csp = []; }")
        self.problems.clear()

    def close(self) -> None:
        self.context.close()


def test_hostile_values_cause_no_csp_violation(browser: Any, live_server: str,
                                                live_database_url: str) -> None:
    routes, _others = route_table()
    gets: list[RouteInfo] = [r for r in routes if "GET" in r.methods and r.name not in SKIPPED]
    scenes = seeded_scenes(live_database_url)
    corpus = Rotation(NAUGHTY)
    probed: set[str] = set()
    problems: list[str] = []
    visits = 0
    for credentials in (None, ("admin@demo.shaar.kg", "demo-admin-pass")):
        watch = CspWatch(browser, live_server)
        if credentials:
            watch.sign_in(*credentials)
        else:
            watch.calibrate()
        for info in gets:
            params = instances(info, scenes)[0]
            path = info.url(params)
            # The administrator opens what the anonymous visitor could not.
            if info.name in probed or not watch.shows(path):
                continue
            probed.add(info.name)
            for value in (SCRIPTED, *corpus.take(1)):
                watch.visit(f"{path}?{urlencode([(k, value) for k in QUERY_NAMES])}")
            for name in info.str_params:
                watch.visit(info.url({**params, name: SCRIPTED}) + "?q=" + quote(SCRIPTED))
        problems += watch.problems
        visits += watch.visits
        watch.close()
    print(f"hostile CSP: {visits} page visits, {len(probed)} routes")
    assert not problems, "\n".join(dict.fromkeys(problems))
    # Pages that neither visitor could open as HTML (downloads, JSON, files, redirects).
    unopened = sorted(r.name for r in gets if r.name not in probed)
    print(f"not opened as HTML by either: {unopened}")
    assert len(probed) > 40, unopened
