"""Behind a reverse proxy, rate limits count by the address the proxy saw, and a client
cannot dodge them by writing its own X-Forwarded-For."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from core.app import create_app
from core.db import Database
from tests.helpers import clear_of_window_edge, csrf_of, make_settings


def _failed_sign_ins(client: TestClient, forwarded_for: list[str]) -> list[int]:
    """One failed sign-in per header value, each with another e-mail address, so only the
    per-address limit can stop them."""
    statuses = []
    for n, header in enumerate(forwarded_for):
        token = csrf_of(client, "/signin")
        statuses.append(client.post("/signin", headers={"X-Forwarded-For": header}, data={
            "email": f"nobody{n}@example.kg", "password": "wrong password!",
            "csrf_token": token}).status_code)
    return statuses


def _client(tmp_path: Path, migrated: str, database: Database, trust: bool) -> TestClient:
    settings = make_settings(tmp_path, migrated, trust_proxy_headers=trust,
                             signin_rate_limit="3/300")
    return TestClient(create_app(settings, database), follow_redirects=False)


def test_behind_the_proxy_a_forged_forwarded_for_does_not_dodge_the_limit(
        tmp_path: Path, migrated: str, database: Database) -> None:
    client = _client(tmp_path, migrated, database, trust=True)
    clear_of_window_edge(300, client.app)
    with client:
        # nginx's $proxy_add_x_forwarded_for appends the address it saw after the client's.
        forged = [f"10.0.0.{n}, 198.51.100.7" for n in range(5)]
        assert _failed_sign_ins(client, forged) == [422, 422, 422, 429, 429]
        # Another resident behind the same proxy still gets in.
        assert _failed_sign_ins(client, ["203.0.113.9"]) == [422]


def test_without_a_proxy_the_header_is_ignored(tmp_path: Path, migrated: str,
                                               database: Database) -> None:
    client = _client(tmp_path, migrated, database, trust=False)
    clear_of_window_edge(300, client.app)
    with client:
        rotating = [f"198.51.100.{n}" for n in range(5)]
        assert _failed_sign_ins(client, rotating) == [422, 422, 422, 429, 429]
