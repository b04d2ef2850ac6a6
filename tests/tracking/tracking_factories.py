"""A round whose results the jury published, and helpers to use the tracking pages."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from starlette.testclient import TestClient

from contests.models import Round
from core.db import Database
from core.models import utcnow
from results.queries import run_view
from results.services import Change, count_round, publish
from tests.helpers import HOSTILE, DeliveringClient, make_user, sign_in
from tests.results.factories import make_voted_round
from tracking import queries

VERSION_RE = re.compile(r'name="version" value="(\d+)"')
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_published_round(database: Database, *, publish_it: bool = True,
                         overrule: bool = False) -> Any:
    """make_voted_round, counted and (by default) published; with `overrule` the jury
    removes the first computed winner of a pot and adds a project that did not win there.
    `winners` and `losers` are idea references; `removed` and `added` those the jury moved."""
    setup = make_voted_round(database)
    now = utcnow()
    moved: dict[str, str] = {}
    with database.session(write=True) as s:
        round_ = s.get(Round, setup.round.id)
        assert round_ is not None
        run = count_round(s, round_, None, now)
        changes = []
        if overrule:
            pot = run_view(s, run, None).pots[0]
            removed = next(r for r in pot.rows if r.computed)
            added = next(r for r in pot.rows if not r.computed)
            changes = [Change(pot.pot.id or 0, removed.idea.id or 0, "remove", "Too costly."),
                       Change(pot.pot.id or 0, added.idea.id or 0, "add", "Urgent.")]
            moved = {"removed": removed.idea.reference, "added": added.idea.reference}
        if publish_it:
            publish(s, round_, run.id or 0, f"Statement {HOSTILE}", changes, None, now)
    with database.session() as s:
        from sqlmodel import col, select

        from ideas.models import Idea

        everything = s.exec(select(Idea).order_by(col(Idea.id))).all()
        winners = [w.idea.reference for w in queries.winners(s)]
    return SimpleNamespace(round=setup.round, winners=winners,
                           losers=[i.reference for i in everything
                                   if i.reference not in winners],
                           author=setup.author, **moved)


def staff(app: Any, database: Database, email: str, *roles: str) -> TestClient:
    """A signed-in client reading English; mail queued by its requests is delivered at once."""
    client = DeliveringClient(app, follow_redirects=False, headers={"Accept-Language": "en"})
    make_user(database, email, roles=roles)
    sign_in(client, email)
    return client


def manage_form(client: TestClient, reference: str) -> dict[str, str]:
    """The hidden fields of the progress form as the admin's tab loaded it."""
    page = client.get(f"/projects/{reference}/manage")
    assert page.status_code == 200, page.text
    version = VERSION_RE.search(page.text)
    token = CSRF_RE.search(page.text)
    assert version and token
    return {"version": version.group(1), "csrf_token": token.group(1)}


def report(client: TestClient, reference: str, loaded: dict[str, str] | None = None,
           files: Any = None, **fields: str) -> Any:
    """Post the progress form (loading it first unless `loaded` holds an older tab's)."""
    data = {"status": "in_progress", "progress": "40", "reason": "", "body": "",
            **(loaded or manage_form(client, reference)), **fields}
    return client.post(f"/projects/{reference}/manage", data=data, files=files)
