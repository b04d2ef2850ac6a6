"""The open-data API v1: public data only, problem+json errors, ETags, cursor pages, and an
OpenAPI description generated from the response types."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

import api.routes
from core.db import Database
from core.settings import ROOT
from ideas.models import Idea
from tests.tracking.tracking_factories import make_published_round


def test_only_public_ideas_are_listed_and_pages_follow_the_cursor(
        client: TestClient, database: Database) -> None:
    published = make_published_round(database)
    with database.session() as s:
        public = {i.reference for i in s.exec(select(Idea)).all()
                  if i.status in api.routes.PUBLIC_STATUSES and i.hidden_at is None}
    seen: list[str] = []
    url = "/api/v1/ideas?limit=1"
    while True:
        body = client.get(url).json()
        seen += [i["reference"] for i in body["items"]]
        if body["next_cursor"] is None:
            break
        url = f"/api/v1/ideas?limit=1&cursor={body['next_cursor']}"
    assert set(seen) == public and len(seen) == len(public)
    assert set(published.winners) <= public
    round_ideas = client.get(f"/api/v1/ideas?round={published.round.id}&status=nope")
    assert round_ideas.status_code == 400
    assert round_ideas.headers["content-type"] == "application/problem+json"
    assert round_ideas.json()["status"] == 400


def test_an_unchanged_answer_is_a_304_and_unknown_paths_are_problems(
        client: TestClient, database: Database) -> None:
    make_published_round(database)
    first = client.get("/api/v1/contests")
    assert first.status_code == 200 and first.json()["items"]
    again = client.get("/api/v1/contests", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    for path in ("/api/v1/contests/", "/api/v1/nothing", "/api/v1/rounds/999/results"):
        missing = client.get(path, follow_redirects=False)
        assert missing.status_code == 404, path
        assert missing.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/projects").json()["items"]
    assert client.get("/api/v1/transparency").status_code == 200


def test_results_appear_only_once_published(client: TestClient, database: Database) -> None:
    draft = make_published_round(database, publish_it=False)
    assert client.get(f"/api/v1/rounds/{draft.round.id}/results").status_code == 404


def test_a_change_to_a_response_type_shows_in_the_description(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    class Wider(api.routes.IdeaOut):
        colour: str

    class WiderPage(api.routes.IdeaPage):
        items: list[Wider]  # type: ignore[assignment]

    before = client.get("/api/v1/openapi.json").json()
    assert "colour" not in json.dumps(before)
    operations = [replace(o, model=WiderPage) if o.model is api.routes.IdeaPage else o
                  for o in api.routes.OPERATIONS]
    monkeypatch.setattr(api.routes, "OPERATIONS", operations)
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    assert "colour" in doc["components"]["schemas"]["Wider"]["properties"]
    assert "colour" in doc["components"]["schemas"]["Wider"]["required"]
    page = doc["paths"]["/api/v1/ideas"]["get"]["responses"]["200"]["content"]
    assert page["application/json"]["schema"] == {"$ref": "#/components/schemas/WiderPage"}


def test_the_description_names_every_field_of_every_response() -> None:
    doc = api.routes.openapi_document()
    for o in api.routes.OPERATIONS:
        assert set(o.model.model_fields) == set(
            doc["components"]["schemas"][o.model.__name__]["properties"])


XROAD_CODE = re.compile(r"[A-Za-z0-9'()+,\-.=?]+")


def test_service_codes_follow_the_xroad_character_rules() -> None:
    ids = [op["operationId"] for p in api.routes.openapi_document()["paths"].values()
           for op in p.values()]
    assert len(ids) == len(set(ids)) == len(api.routes.OPERATIONS)
    guide = (ROOT / "docs" / "tunduk.md").read_text()
    documented = re.findall(r"^\| (?:subsystem|REST service)[^|]*\| `([^`]+)`", guide, re.M)
    assert len(documented) == 2
    for code in [*ids, *documented]:
        assert XROAD_CODE.fullmatch(code), code
    for code in ids:
        assert f"`{code}`" in guide, code
