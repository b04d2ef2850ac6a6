"""Ready for X-Road: one JSON access log line per API request with the security server's
headers and our request id; no X-Road-* header ever goes out; no redirect under /api/."""

from __future__ import annotations

import json
import logging

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from api.middleware import ApiAccessMiddleware
from core.db import Database
from tests.tracking.tracking_factories import make_published_round

XROAD = {"X-Road-Client": "KG/GOV/70000001/shaar-consumer",
         "X-Road-Id": "a1b2c3-d4", "X-Road-UserId": "KG12345678901234",
         "X-Road-Issue": "ISSUE-42"}


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(r.getMessage()) for r in caplog.records
            if r.name == "shaar.api.access"]


def test_each_api_request_writes_one_json_line_with_the_xroad_headers(
        client: TestClient, database: Database, caplog: pytest.LogCaptureFixture) -> None:
    make_published_round(database)
    caplog.set_level(logging.INFO, logger="shaar.api.access")
    answer = client.get("/api/v1/ideas?limit=2", headers=XROAD)
    assert answer.status_code == 200
    client.get("/projects")  # not an API request: no line
    client.head("/api/v1/nothing")
    lines = access_lines(caplog)
    assert len(lines) == 2
    line = lines[0]
    assert line["request_id"] == answer.headers["x-request-id"]
    assert line["method"] == "GET" and line["path"] == "/api/v1/ideas"
    assert line["query"] == "limit=2" and line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["x_road_client"] == XROAD["X-Road-Client"]
    assert line["x_road_id"] == XROAD["X-Road-Id"]
    assert line["x_road_user_id"] == XROAD["X-Road-UserId"]
    assert line["x_road_issue"] == XROAD["X-Road-Issue"]
    assert lines[1]["method"] == "HEAD" and lines[1]["status"] == 404
    assert lines[1]["x_road_client"] is None
    assert lines[0]["request_id"] != lines[1]["request_id"]


def test_a_hostile_header_stays_one_line_of_json(
        client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="shaar.api.access")
    client.get("/api/v1/contests", headers={"X-Road-Client": '"}\\ {"forged": 1} ' + "x" * 999})
    (line,) = access_lines(caplog)
    assert "forged" not in line and len(str(line["x_road_client"])) <= 300


def test_no_response_sets_an_xroad_header_and_no_api_answer_redirects() -> None:
    async def echo(request: Request) -> Response:
        return JSONResponse({}, headers={"X-Road-Client": "forged", "X-Road-Id": "forged"})

    async def away(request: Request) -> Response:
        return RedirectResponse("/elsewhere", status_code=302)

    app = Starlette(routes=[Route("/api/echo", echo), Route("/api/away", away),
                            Route("/page", echo), Route("/page-away", away)])
    client = TestClient(ApiAccessMiddleware(app))
    for path in ("/api/echo", "/page"):
        got = client.get(path, headers=XROAD)
        assert got.status_code == 200
        assert not [h for h in got.headers if h.lower().startswith("x-road-")], path
    moved = client.get("/api/away", follow_redirects=False)
    assert moved.status_code == 404
    assert moved.headers["content-type"] == "application/problem+json"
    assert "location" not in moved.headers
    assert client.get("/page-away", follow_redirects=False).status_code == 302


def test_the_real_api_never_redirects_nor_sets_cookies(
        client: TestClient, database: Database) -> None:
    published = make_published_round(database)
    rid = published.round.id
    for path in ("/api/contests/", "/api/v1/contests/", "/api/v1/ideas/", "/api/v1",
                 "/api/", "/api", f"/api/rounds/{rid}/", f"/api/v1/rounds/{rid}/results/",
                 "/api/v1/contests", f"/api/rounds/{rid}", "/api/projects"):
        got = client.get(path, headers=XROAD, follow_redirects=False)
        assert got.status_code in (200, 404), path
        assert "set-cookie" not in got.headers, path
        assert not [h for h in got.headers if h.lower().startswith("x-road-")], path
        if got.status_code == 404:
            assert got.headers["content-type"] == "application/problem+json", path


def test_other_methods_are_405_problems_naming_get(client: TestClient) -> None:
    got = client.post("/api/v1/contests", headers={"Origin": "http://testserver"})
    assert got.status_code == 405
    assert got.headers["content-type"] == "application/problem+json"
    assert "GET" in got.headers["allow"]
    assert got.json()["status"] == 405


def test_the_older_paths_work_and_name_their_successor(
        client: TestClient, database: Database) -> None:
    published = make_published_round(database)
    rid = published.round.id
    for old, new in (("/api/contests", "/api/v1/contests"),
                     (f"/api/rounds/{rid}", f"/api/v1/rounds/{rid}"),
                     (f"/api/rounds/{rid}/ideas", f"/api/v1/ideas?round={rid}"),
                     (f"/api/rounds/{rid}/results", f"/api/v1/rounds/{rid}/results"),
                     ("/api/projects", "/api/v1/projects")):
        got = client.get(old)
        assert got.status_code == 200, old
        assert got.headers["deprecation"].startswith("@"), old
        assert f'<{new}>; rel="successor-version"' in got.headers["link"], old
        assert client.get(new).status_code == 200, new
        assert "deprecation" not in client.get(new).headers
    assert client.get(f"/api/rounds/{rid}/results").content == client.get(
        f"/api/v1/rounds/{rid}/results").content
    signature = client.get(f"/api/rounds/{rid}/results.sig")
    assert signature.status_code == 200 and "deprecation" not in signature.headers
