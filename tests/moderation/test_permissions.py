"""Every moderation and administration route, for every kind of person: exactly the intended
answer. A new route under /moderation or /admin is covered automatically."""

import re

import pytest
from sqlmodel import select
from starlette.routing import Route
from starlette.testclient import TestClient

from core.demo import seed
from core.models import User, utcnow
from ideas.models import Comment, Idea
from tests.helpers import assert_answer, csrf_of, make_user, sign_in

PEOPLE = {
    "anonymous": None,
    "resident": ("resident2@example.kg", ()),
    "author": ("resident@demo.shaar.kg", None),  # wrote the demo ideas
    "moderator": ("mod2@example.kg", ("moderator",)),
    "jury": ("jury2@example.kg", ("jury",)),
    "admin": ("admin2@example.kg", ("admin",)),
}


def expected(person: str, path: str) -> str:
    if person == "anonymous":
        return "sign in"
    if person == "admin":
        return "allowed"
    if person == "moderator" and path.startswith("/moderation"):
        return "allowed"
    return "forbidden"


def guarded_routes(app) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if isinstance(route, Route) and re.match(r"^/(moderation|admin)(/|$|\.)", route.path):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                found.append((method, route.path))
    return found


@pytest.fixture
def city(database):
    with database.session(write=True) as db:
        seed(db, utcnow())
        idea = db.exec(select(Idea)).first()
        author = db.exec(select(User).where(User.email == "resident@demo.shaar.kg")).one()
        comment = Comment(idea_id=idea.id, author_id=author.id, body="A comment")
        db.add(comment)
    for spec in PEOPLE.values():
        if spec and spec[1] is not None:
            make_user(database, spec[0], roles=spec[1])
    with database.session() as db:
        ids = {"reference": idea.reference, "comment_id": str(comment.id),
               "user_id": str(author.id)}
    return ids


def fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: ids.get(m.group(1), "1"), path)


def test_the_matrix_covers_the_routes(app) -> None:
    paths = {p for _m, p in guarded_routes(app)}
    assert {"/moderation", "/moderation/ideas/{reference}/decide", "/admin/audit",
            "/admin/users/{user_id:int}/roles", "/moderation/users/{user_id:int}/block"} <= paths


@pytest.mark.parametrize("person", list(PEOPLE))
def test_each_person_gets_exactly_the_intended_answer(app, database, city, person) -> None:
    client = TestClient(app, follow_redirects=False)
    if PEOPLE[person]:
        password = "demo-resident-pass" if person == "author" else "correct horse battery"
        sign_in(client, PEOPLE[person][0], password)
    token = csrf_of(client, "/")
    for method, template in guarded_routes(app):
        path = fill(template, city)
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={"csrf_token": token, "kind": "publish",
                                               "version": "1", "role": "jury",
                                               "action": "grant"})
        want = expected(person, template)
        assert_answer(response, want, (person, method, path, response.status_code))
