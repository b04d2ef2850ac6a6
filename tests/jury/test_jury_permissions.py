"""Every jury route, for every kind of person: exactly the intended answer. A new route under
/jury is covered automatically; the chair page under /admin is in the moderation matrix."""

import re

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.helpers import assert_answer, csrf_of, make_user, sign_in
from tests.jury.factories import jury_world, published

PEOPLE = {
    "anonymous": None,
    "resident": ("resident2@example.kg", ()),
    "moderator": ("mod2@example.kg", ("moderator",)),
    "juror": ("juror@example.kg", None),
    "chair": ("chair@example.kg", None),
    "admin": ("admin2@example.kg", ("admin",)),
}


def expected(person: str, method: str, path: str) -> str:
    if person == "anonymous":
        return "sign in"
    if person in ("resident", "moderator"):
        return "forbidden"
    if method == "GET" or person == "chair":
        return "allowed"
    if path.endswith("/assess"):  # jurors' own judgement: not an admin's
        return "allowed" if person == "juror" else "forbidden"
    if path.endswith("/confirm"):  # the chair's, or an admin's
        return "allowed" if person == "admin" else "forbidden"
    raise AssertionError(f"no expectation for {method} {path}")


def jury_routes(app) -> list[tuple[str, str]]:
    return [(method, route.path) for route in app.routes
            if isinstance(route, Route) and re.match(r"^/jury(/|$)", route.path)
            for method in sorted((route.methods or set()) - {"HEAD"})]


@pytest.fixture
def ids(database) -> dict[str, str]:
    w = jury_world(database)
    idea = published(database, w.setup, w.author.id)
    for spec in PEOPLE.values():
        if spec and spec[1] is not None:
            make_user(database, spec[0], roles=spec[1])
    return {"reference": idea.reference, "round_id": str(w.setup.round.id),
            "version": str(idea.version)}


def test_the_matrix_covers_the_routes(app) -> None:
    assert {p for _m, p in jury_routes(app)} >= {
        "/jury", "/jury/rounds/{round_id:int}", "/jury/ideas/{reference}",
        "/jury/ideas/{reference}/assess", "/jury/ideas/{reference}/confirm"}


@pytest.mark.parametrize("person", list(PEOPLE))
def test_each_person_gets_exactly_the_intended_answer(app, database, ids, person) -> None:
    client = TestClient(app, follow_redirects=False)
    if PEOPLE[person]:
        sign_in(client, PEOPLE[person][0])
    token = csrf_of(client, "/")
    for method, template in jury_routes(app):
        path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: ids[m.group(1)], template)
        if method == "GET":
            response = client.get(path)
        else:
            # A not-feasible verdict with no reason is refused (422) after the permission
            # check, so every allowed person can try it without changing the idea.
            response = client.post(path, data={"csrf_token": token, "feasible": "yes",
                                               "kind": "not_feasible", "public_reason": "",
                                               "version": ids["version"]})
        want = expected(person, method, template)
        assert_answer(response, want, (person, method, path, response.status_code))


def test_jury_members_cannot_moderate(app, database, ids) -> None:
    client = TestClient(app, follow_redirects=False)
    sign_in(client, "chair@example.kg")
    assert client.get("/moderation").status_code == 403
    response = client.post(f"/moderation/ideas/{ids['reference']}/decide",
                           data={"csrf_token": csrf_of(client, "/"), "kind": "reject",
                                 "version": ids["version"]})
    assert response.status_code == 403


def test_the_jury_link_shows_for_jury_members_only(app, database, ids) -> None:
    juror = TestClient(app, follow_redirects=False)
    sign_in(juror, "juror@example.kg")
    assert 'href="/jury"' in juror.get("/").text
    resident = TestClient(app, follow_redirects=False)
    sign_in(resident, "resident2@example.kg")
    assert 'href="/jury"' not in resident.get("/").text
