"""OpenID Connect sign-in, end to end against a real provider process on loopback."""

import base64
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from core.accounts import oidc
from core.app import create_app
from core.models import District, OIDCIdentity, OIDCLoginAttempt, User
from core.settings import Settings
from tests.conftest import free_port
from tests.helpers import csrf_of

CLAIMS = {"sub": "alice-001", "name": "Алиса <b>", "email": "alice@example.kg",
          "email_verified": True, "resident": True, "district": "leninsky"}


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    port = free_port()
    binary = Path(sys.executable).parent / "oidc-provider-mock"
    process = subprocess.Popen(
        [str(binary), "--port", str(port), "--require-nonce", "true",
         "--user-claims", json.dumps(CLAIMS)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{base}/.well-known/openid-configuration").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("the OIDC provider did not start")
        time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(10)


@pytest.fixture
def oidc_app(tmp_path, migrated, database, provider: str):
    oidc._discovery_cache.clear()
    providers = json.dumps([{
        "name": "mock", "title": "Mock ID",
        "discovery_url": f"{provider}/.well-known/openid-configuration",
        "client_id": "shaar-test", "client_secret": "s3cret",
        "verified_claim": "resident", "district_claim": "district"}])
    env = {"SHAAR_ENV": "test", "SHAAR_VAR_DIR": str(tmp_path), "DATABASE_URL": migrated,
           "SECRET_KEY": "test-secret-key-that-is-long-enough", "BASE_URL": "http://testserver",
           "OIDC_PROVIDERS": providers}
    settings = Settings.from_env(env)
    with database.session(write=True) as db:
        db.add(District(slug="leninsky", name_ru="Ленинский", name_ky="Ленин", name_en="Leninsky"))
    yield create_app(settings, database)
    oidc._discovery_cache.clear()


def start(client: TestClient) -> str:
    response = client.post("/signin/oidc/mock",
                           data={"csrf_token": csrf_of(client, "/signin"), "next": "/account"})
    assert response.status_code == 303, response.text
    return response.headers["location"]


def provider_login(authorize_url: str) -> str:
    """What the person does at the provider: pick the account, get sent back with a code."""
    answer = httpx.post(authorize_url, data={"sub": CLAIMS["sub"]})
    assert answer.status_code in (302, 303), answer.text
    back = urlsplit(answer.headers["location"])
    return f"{back.path}?{back.query}"


def test_the_sign_in_page_offers_the_provider(oidc_app) -> None:
    page = TestClient(oidc_app).get("/signin", headers={"Accept-Language": "en"})
    assert "Sign in with Mock ID" in page.text


def test_a_resident_signs_in_through_the_provider(oidc_app, database) -> None:
    client = TestClient(oidc_app, follow_redirects=False)
    authorize_url = start(client)
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] and query["nonce"] and query["code_challenge"]
    with database.session() as db:
        attempt = db.exec(select(OIDCLoginAttempt)).one()
    expected = base64.urlsafe_b64encode(
        hashlib.sha256(attempt.code_verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == [expected]

    finish = client.get(provider_login(authorize_url))
    assert finish.status_code == 303 and finish.headers["location"] == "/account"
    profile = client.get("/account", headers={"Accept-Language": "en"})
    assert profile.status_code == 200
    assert "Алиса &lt;b&gt;" in profile.text and "Verified resident" in profile.text
    with database.session() as db:
        identity = db.exec(select(OIDCIdentity)).one()
        user = db.get(User, identity.user_id)
        assert identity.subject == "alice-001" and identity.issuer.startswith("http://")
        assert user is not None and user.is_verified and user.verified_via == "oidc"
        assert db.exec(select(OIDCLoginAttempt)).all() == []  # the state was used up

    again = TestClient(oidc_app, follow_redirects=False)
    again.get(provider_login(start(again)))
    with database.session() as db:
        assert len(db.exec(select(User)).all()) == 1  # linked by (issuer, subject)


def assert_refused(client: TestClient, response) -> None:
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    assert client.get("/account").status_code == 303  # still anonymous


def test_an_unknown_state_is_refused(oidc_app) -> None:
    client = TestClient(oidc_app, follow_redirects=False)
    callback = provider_login(start(client))
    forged = callback.replace("state=", "state=x")
    assert_refused(client, client.get(forged))


def test_a_state_started_in_another_browser_is_refused(oidc_app) -> None:
    victim = TestClient(oidc_app, follow_redirects=False)
    attacker = TestClient(oidc_app, follow_redirects=False)
    callback = provider_login(start(attacker))
    assert_refused(victim, victim.get(callback))


def test_a_wrong_nonce_is_refused(oidc_app, database) -> None:
    client = TestClient(oidc_app, follow_redirects=False)
    callback = provider_login(start(client))
    with database.session(write=True) as db:
        attempt = db.exec(select(OIDCLoginAttempt)).one()
        attempt.nonce = "not-the-nonce-the-provider-saw"
        db.add(attempt)
    assert_refused(client, client.get(callback))


def test_an_id_token_from_another_issuer_is_refused(oidc_app) -> None:
    client = TestClient(oidc_app, follow_redirects=False)
    callback = provider_login(start(client))
    # The app now expects a different issuer than the one that signed the token.
    for key, (stamp, metadata) in list(oidc._discovery_cache.items()):
        oidc._discovery_cache[key] = (stamp, {**metadata, "issuer": "https://evil.example"})
    assert_refused(client, client.get(callback))


def test_a_callback_without_a_code_is_refused(oidc_app) -> None:
    client = TestClient(oidc_app, follow_redirects=False)
    state = parse_qs(urlsplit(start(client)).query)["state"][0]
    response = client.get(f"/signin/oidc/mock/callback?state={state}&error=access_denied")
    assert_refused(client, response)


def test_an_unknown_provider_is_404(oidc_app) -> None:
    client = TestClient(oidc_app, follow_redirects=False)
    response = client.post("/signin/oidc/nope", data={"csrf_token": csrf_of(client, "/signin")})
    assert response.status_code == 404
