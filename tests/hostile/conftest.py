"""The world the hostile walk runs in: the demo city (rounds taking ideas, voting, with
published results, taking supports, in jury review and counting), a clerk, a victim account
for the user pages, a draft with an attachment, a comment and a paper sheet waiting for an
administrator, and one signed-in client per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from contests.models import Category, Contest, Round, RoundPot
from core.app import create_app
from core.demo import DEMO_PEOPLE, seed
from core.models import Block, User, utcnow
from ideas.forms import IdeaData
from ideas.models import Attachment, Comment, Idea, IdeaStatus, Support
from ideas.services import create_idea
from moderation.models import Report
from tests.helpers import HOSTILE, PASSWORD, make_settings, make_user
from tests.hostile.walker import ROLES

CSRF_FIELD = 'name="csrf_token" value="'
UNLIMITED = "1000000/60"


@dataclass
class World:
    app: Any
    clients: dict[str, TestClient]
    csrf: dict[str, str]
    #: Consistent fillings of path parameters (a round with its pots, an idea, ...).
    scenes: list[dict[str, str]]
    credentials: dict[str, tuple[str, str]]

    def sign_in(self, role: str) -> None:
        """(Re-)sign `role` in and refresh its CSRF token."""
        client = self.clients[role]
        if role != "anonymous":
            email, password = self.credentials[role]
            token = token_of(client.get("/signin").text)
            answer = client.post("/signin", data={"email": email, "password": password,
                                                  "csrf_token": token})
            assert answer.status_code == 303, (role, answer.status_code)
        self.csrf[role] = token_of(client.get("/").text)

    def signed_in(self, role: str) -> bool:
        return role == "anonymous" or bool(self.clients[role].cookies.get("shaar_session"))


def token_of(html: str) -> str:
    start = html.index(CSRF_FIELD) + len(CSRF_FIELD)
    return html[start:html.index('"', start)]


def seed_world(database: Any, upload_dir: Path) -> tuple[list[dict[str, str]], dict[str, Any]]:
    now = utcnow()
    with database.session(write=True) as db:
        seed(db, now)
    clerk = make_user(database, "clerk@example.kg", name=f"Clerk {HOSTILE}", roles=("clerk",))
    victim = make_user(database, "victim@example.kg", name=f"Victim {HOSTILE}")
    blocked = make_user(database, "blocked@example.kg", name=f"Blocked {HOSTILE}")
    from voting.models import PaperSheet

    with database.session(write=True) as db:
        rounds = list(db.exec(select(Round).order_by(col(Round.number))).all())
        contest = db.exec(select(Contest)).first()
        category = db.exec(select(Category)).first()
        resident = db.exec(select(User).where(User.email == "resident@demo.shaar.kg")).one()
        assert contest and category and resident.id and victim.id and clerk.id
        draft = create_idea(db, rounds[0], resident.id, IdeaData(
            title=f"Draft {HOSTILE}", summary="A draft waiting for its author", description=HOSTILE,
            category_id=category.id, district_id=None, estimated_cost=1000, address=HOSTILE,
            latitude=None, longitude=None), now)
        stored = "0" * 32 + ".pdf"
        (upload_dir / stored).write_bytes(b"%PDF-1.4\n%%EOF\n")
        attachment = Attachment(idea_id=draft.id or 0, uploaded_by_id=resident.id, kind="document",
                                stored_name=stored, original_name=f"plan {HOSTILE}.pdf",
                                content_type="application/pdf", size=15)
        db.add(attachment)
        ideas = {}
        for round_ in rounds:
            ideas[round_.id] = {
                status: db.exec(select(Idea).where(Idea.round_id == round_.id,
                                                   Idea.status == status)).first()
                for status in (IdeaStatus.PUBLISHED, IdeaStatus.SUBMITTED)}
        # The demo's round 4 takes supports and round 5 is in jury review (its jury member
        # chairs it); each gets an idea with hostile text, the one the walk uses there.
        for round_ in rounds:
            if round_.number not in (4, 5):
                continue
            idea = create_idea(db, round_, resident.id, IdeaData(
                title=f"Idea {HOSTILE}", summary=f"Summary {HOSTILE}", description=HOSTILE,
                category_id=category.id, district_id=None, estimated_cost=5000, address="",
                latitude=None, longitude=None), now, status=IdeaStatus.PUBLISHED)
            ideas[round_.id] = {IdeaStatus.PUBLISHED: idea}
        published = ideas[rounds[0].id][IdeaStatus.PUBLISHED]
        assert published is not None
        comment = Comment(idea_id=published.id or 0, author_id=victim.id, body=f"Hm {HOSTILE}")
        own = Comment(idea_id=published.id or 0, author_id=resident.id, body=f"Mine {HOSTILE}")
        hidden = Comment(idea_id=published.id or 0, author_id=victim.id, body=f"Hid {HOSTILE}",
                         hidden_at=now, hidden_reason=f"Because {HOSTILE}")
        db.add_all([comment, own, hidden])
        db.flush()
        # Something for each page that only shows its form in that state: an open report,
        # a block to lift, a support to withdraw (round 4 takes supports).
        admin = db.exec(select(User).where(User.email == "admin@demo.shaar.kg")).one()
        db.add(Block(user_id=blocked.id or 0, reason=f"Spam {HOSTILE}", created_by_id=admin.id))
        db.add(Report(target_type="comment", target_id=comment.id or 0, reporter_id=resident.id,
                      reason="spam", note=f"Note {HOSTILE}"))
        supports_round = next(r for r in rounds if r.number == 4)
        supported = ideas[supports_round.id][IdeaStatus.PUBLISHED]
        db.add(Support(idea_id=supported.id, user_id=resident.id, round_id=supports_round.id))
        sheet = PaperSheet(round_id=rounds[1].id or 0, serial=f"S-{HOSTILE}"[:40],
                           status="mismatch")
        db.add(sheet)
        db.flush()
        common = {"contest_id": str(contest.id), "category_id": str(category.id),
                  "user_id": str(victim.id), "comment_id": str(comment.id),
                  "sheet_id": str(sheet.id), "token": "no-such-token", "provider": "nobody",
                  "name": stored, "code": "0" * 64,
                  # The demo city's survey (surveys/demo.py): waves 1 and 2 closed, 3 open.
                  "slug": "city-services-trust", "number": "1", "fmt": "responses.csv",
                  "key": "sat_transport", "response_id": "1",
                  # Any other path under /api/v1/ (a problem+json 404).
                  "rest": "nothing-here"}
        scenes = []
        for round_ in rounds:
            pots = db.exec(select(RoundPot).where(RoundPot.round_id == round_.id)
                           .order_by(col(RoundPot.id))).all()
            refs = [i.reference for i in ideas[round_.id].values() if i is not None]
            if round_ is rounds[0]:
                refs.insert(0, draft.reference)
            for pot in pots[:2]:
                for ref in refs:
                    scenes.append({**common, "round_id": str(round_.id), "pot_id": str(pot.id),
                                   "reference": ref, "attachment_id": str(attachment.id)})
        for other in (own, hidden):
            scenes.append({**scenes[0], "comment_id": str(other.id)})
        scenes.append({**scenes[0], "user_id": str(blocked.id)})
    people = {"resident": "resident@demo.shaar.kg", "moderator": "moderator@demo.shaar.kg",
              "jury": "jury@demo.shaar.kg", "admin": "admin@demo.shaar.kg"}
    passwords = {email: password for email, password, _n, _r in DEMO_PEOPLE}
    credentials = {role: (email, passwords[email]) for role, email in people.items()}
    credentials["clerk"] = ("clerk@example.kg", PASSWORD)
    return scenes, credentials


@pytest.fixture
def world(tmp_path: Path, migrated: str, database: Any) -> Iterator[World]:
    settings = make_settings(tmp_path, migrated, signin_rate_limit=UNLIMITED,
                             signup_rate_limit=UNLIMITED, reset_rate_limit=UNLIMITED,
                             comment_rate_limit=UNLIMITED)
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    scenes, credentials = seed_world(database, settings.upload_dir)
    app = create_app(settings, database)
    clients = {role: TestClient(app, follow_redirects=False) for role in ROLES}
    for client in clients.values():
        client.__enter__()
    world = World(app=app, clients=clients, csrf={}, scenes=scenes, credentials=credentials)
    try:
        for role in ROLES:
            world.sign_in(role)
        yield world
    finally:
        for client in clients.values():
            client.__exit__(None, None, None)
