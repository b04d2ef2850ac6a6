import re

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from core.demo import seed
from core.models import utcnow
from core.security import safe_next
from tests.helpers import PASSWORD, csrf_of, make_user, sign_in

PARAMS = {"token": "x" * 43, "provider": "none", "reference": "2027-00001"}


def unsafe_routes(app) -> list[tuple[str, str]]:
    """Every route that changes state, with its path filled in with demo-city objects."""
    found = []
    for route in app.routes:
        if isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"GET", "HEAD"}):
                path = re.sub(r"\{(\w+)(:\w+)?\}",
                              lambda m: PARAMS.get(m.group(1), "1"), route.path)
                found.append((method, path))
    return found


def test_the_route_table_has_unsafe_routes_to_check(app) -> None:
    assert len(unsafe_routes(app)) >= 10


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_unsafe_route_refuses_a_post_without_a_token(client: TestClient, app, database,
                                                           signed_in: bool) -> None:
    with database.session(write=True) as db:
        seed(db, utcnow())
    refused = checked = 0
    if signed_in:
        make_user(database, "admin@example.kg", roles=("admin",))
        sign_in(client, "admin@example.kg")
    for method, path in unsafe_routes(app):
        response = client.request(method, path, data={"locale": "en", "email": "a@b.kg"})
        if not signed_in and response.status_code == 303:
            # Pages for members send anonymous people to sign in before reading anything.
            assert response.headers["location"].startswith("/signin?next=")
            continue
        # 404 only where the object does not exist (no OIDC provider, no attachment...).
        assert response.status_code in (403, 404), (method, path, response.status_code)
        checked += 1
        refused += response.status_code == 403
    assert checked >= 7 and refused >= checked * 0.7


def test_a_post_with_another_browsers_token_is_refused(client: TestClient, app) -> None:
    other = TestClient(app)
    token = csrf_of(other, "/signin")
    response = client.post("/language", data={"locale": "en", "csrf_token": token})
    assert response.status_code == 403


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "null"},
])
def test_a_cross_site_post_is_refused_even_with_a_valid_token(client: TestClient,
                                                              headers) -> None:
    token = csrf_of(client, "/signin")
    response = client.post("/language", data={"locale": "en", "csrf_token": token},
                           headers={**headers, "Accept-Language": "en"})
    assert response.status_code == 403
    assert "sent from another site" in response.text


def test_a_same_origin_post_with_a_token_is_accepted(client: TestClient) -> None:
    token = csrf_of(client, "/signin")
    response = client.post("/language", data={"locale": "en", "csrf_token": token},
                           headers={"Origin": "http://testserver",
                                    "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303


@pytest.mark.parametrize("target", [
    "//evil.example", "/\\evil.example", "https:evil.example", "https://evil.example",
    "%2F%2Fevil.example", "/%2F/evil.example", "%252F%252Fevil.example", "/%5Cevil.example",
    " //evil.example", "\t//evil.example", "javascript:alert(1)", "/\t/evil.example",
    "http:/\\evil.example", "///evil.example",
])
def test_next_never_leaves_the_site(target: str) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/ideas", "/ideas?round=1&sort=newest", "/account"])
def test_next_keeps_local_paths(target: str) -> None:
    assert safe_next(target) == target


def test_sign_in_ignores_an_open_redirect_in_next(client: TestClient, database) -> None:
    make_user(database, "r@example.kg")
    token = csrf_of(client, "/signin?next=//evil.example")
    response = client.post("/signin", data={"email": "r@example.kg", "password": PASSWORD,
                                            "next": "//evil.example", "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_pages_carry_a_strict_content_security_policy(client: TestClient) -> None:
    headers = client.get("/").headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


def test_pages_have_no_inline_scripts_or_styles(client: TestClient) -> None:
    for path in ("/", "/signin", "/signup", "/ideas", "/password/forgot"):
        html = client.get(path).text
        assert "<script>" not in html and "<script " not in html.replace(
            '<script src="/static/vendor/htmx.min.js" defer>', "")
        assert "style=" not in html and "<style" not in html


def test_session_cookie_is_http_only_and_lax(client: TestClient, database) -> None:
    make_user(database, "r@example.kg")
    response = sign_in(client, "r@example.kg")
    cookie = [v for k, v in response.headers.multi_items()
              if k == "set-cookie" and v.startswith("shaar_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_over_https_cookies_are_secure_and_host_prefixed(tmp_path, migrated, database) -> None:
    from core.app import create_app
    from tests.helpers import make_settings

    app = create_app(make_settings(tmp_path, migrated, base_url="https://shaar.example.kg"),
                     database)
    with TestClient(app, base_url="https://shaar.example.kg") as client:
        response = client.get("/")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-shaar_bid=") and "Secure" in cookie
    assert "strict-transport-security" in response.headers
