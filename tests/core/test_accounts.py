import re

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from core.models import User
from tests.helpers import HOSTILE, PASSWORD, clear_of_window_edge, csrf_of, make_user, sign_in

LINK_RE = re.compile(r"http://testserver(/\S+)")


def link_in(body: str) -> str:
    match = LINK_RE.search(body)
    assert match, body
    return match.group(1)


def sign_up(client: TestClient, email: str = "new@example.kg", name: str = HOSTILE) -> object:
    return client.post("/signup", data={
        "email": email, "display_name": name, "password": PASSWORD,
        "password_confirm": PASSWORD, "accept_terms": "yes",
        "csrf_token": csrf_of(client, "/signup")})


def test_a_resident_signs_up_confirms_by_mail_and_signs_in(mail_client: TestClient,
                                                           mail_sink, database) -> None:
    sink, _port = mail_sink
    response = sign_up(mail_client)
    assert response.status_code == 303
    message = sink.messages[-1]
    assert message["To"] == "new@example.kg"
    confirm_path = link_in(sink.last_body())
    assert confirm_path.startswith("/confirm/")

    token = csrf_of(mail_client, "/signin")
    early = mail_client.post("/signin", data={"email": "new@example.kg", "password": PASSWORD,
                                              "csrf_token": token})
    assert early.status_code == 422  # not confirmed yet; a fresh link was mailed
    assert len(sink.messages) == 2

    confirm_path = link_in(sink.last_body())
    confirmed = mail_client.post(confirm_path,
                                 data={"csrf_token": csrf_of(mail_client, confirm_path)})
    assert confirmed.status_code == 303
    sign_in(mail_client, "new@example.kg")
    profile = mail_client.get("/account")
    assert profile.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in profile.text
    assert HOSTILE not in profile.text


def test_a_confirmation_link_works_once(mail_client: TestClient, mail_sink) -> None:
    sink, _ = mail_sink
    sign_up(mail_client)
    path = link_in(sink.last_body())
    assert mail_client.post(path, data={"csrf_token": csrf_of(mail_client, path)}
                            ).status_code == 303
    again = mail_client.post(path, data={"csrf_token": csrf_of(mail_client, path)})
    assert again.status_code == 400


def test_signing_up_with_a_taken_address_reveals_nothing(mail_client: TestClient, mail_sink,
                                                         database) -> None:
    sink, _ = mail_sink
    make_user(database, "taken@example.kg")
    response = sign_up(mail_client, "taken@example.kg")
    assert response.status_code == 303  # the same answer as for a new address
    assert "already have one" in sink.last_body() or "уже есть" in sink.last_body()
    with database.session() as db:
        assert len(db.exec(select(User).where(User.email == "taken@example.kg")).all()) == 1


def test_a_sign_up_form_with_errors_comes_back_with_the_values_kept(client: TestClient) -> None:
    response = client.post("/signup", data={
        "email": "not-an-address", "display_name": "Айбек", "password": "short",
        "password_confirm": "other", "csrf_token": csrf_of(client, "/signup")},
        headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert 'value="not-an-address"' in response.text and 'value="Айбек"' in response.text
    assert "Use at least 10 characters." in response.text
    assert "Agree to the rules" in response.text
    assert 'aria-invalid="true"' in response.text


def test_password_reset_by_mail_signs_out_everywhere(mail_client: TestClient, mail_sink, app,
                                                     database) -> None:
    sink, _ = mail_sink
    make_user(database, "forgetful@example.kg")
    other_browser = TestClient(app, follow_redirects=False)
    sign_in(other_browser, "forgetful@example.kg")
    assert other_browser.get("/account").status_code == 200

    mail_client.post("/password/forgot", data={"email": "forgetful@example.kg",
                                               "csrf_token": csrf_of(mail_client,
                                                                     "/password/forgot")})
    path = link_in(sink.last_body())
    new = "a brand new passphrase"
    response = mail_client.post(path, data={"password": new, "password_confirm": new,
                                            "csrf_token": csrf_of(mail_client, path)})
    assert response.status_code == 303
    assert other_browser.get("/account").status_code == 303  # its session was revoked
    sign_in(mail_client, "forgetful@example.kg", new)
    reused = mail_client.post(path, data={"password": new, "password_confirm": new,
                                          "csrf_token": csrf_of(mail_client, path)})
    assert reused.status_code == 422


def test_asking_to_reset_an_unknown_address_sends_nothing(mail_client: TestClient,
                                                          mail_sink) -> None:
    sink, _ = mail_sink
    response = mail_client.post("/password/forgot", data={
        "email": "nobody@example.kg", "csrf_token": csrf_of(mail_client, "/password/forgot")})
    assert response.status_code == 303
    assert sink.messages == []


def test_sign_in_gives_a_new_session_id(client: TestClient, app, database) -> None:
    make_user(database, "r@example.kg")
    sign_in(client, "r@example.kg")
    first = client.cookies.get("shaar_session")
    sign_in(client, "r@example.kg")
    second = client.cookies.get("shaar_session")
    assert first and second and first != second
    assert client.get("/account").status_code == 200
    replay = TestClient(app, follow_redirects=False, cookies={"shaar_session": first})
    assert replay.get("/account").status_code == 303  # the replaced session is gone


def test_the_old_session_cookie_stops_working_after_sign_out(client: TestClient, app,
                                                             database) -> None:
    make_user(database, "r@example.kg")
    sign_in(client, "r@example.kg")
    stolen = client.cookies.get("shaar_session")
    response = client.post("/signout", data={"csrf_token": csrf_of(client, "/account")})
    assert response.status_code == 303
    thief = TestClient(app, follow_redirects=False, cookies={"shaar_session": stolen})
    assert thief.get("/account").status_code == 303


def test_repeated_failed_sign_ins_get_429(client: TestClient, database) -> None:
    make_user(database, "r@example.kg")
    clear_of_window_edge(300, client.app)
    statuses = []
    for _ in range(7):
        token = csrf_of(client, "/signin")
        statuses.append(client.post("/signin", data={
            "email": "r@example.kg", "password": "wrong password!", "csrf_token": token},
            headers={"Accept-Language": "en"}).status_code)
    assert statuses[:5] == [422] * 5
    assert statuses[5:] == [429, 429]
    token = csrf_of(client, "/signin")
    right = client.post("/signin", data={"email": "r@example.kg", "password": PASSWORD,
                                         "csrf_token": token})
    assert right.status_code == 429  # even the right password waits out the window
    assert "Too many attempts" in client.post("/signin", data={
        "email": "r@example.kg", "password": "x", "csrf_token": token},
        headers={"Accept-Language": "en"}).text


def test_a_wrong_password_and_an_unknown_address_look_the_same(client: TestClient,
                                                               database) -> None:
    make_user(database, "r@example.kg")
    answers = []
    for email in ("r@example.kg", "ghost@example.kg"):
        token = csrf_of(client, "/signin")
        answers.append(client.post("/signin", data={"email": email, "password": "wrong one!",
                                                     "csrf_token": token}))
    assert [a.status_code for a in answers] == [422, 422]
    assert (answers[0].text.replace("r@example.kg", "")
            == answers[1].text.replace("ghost@example.kg", ""))


@pytest.mark.parametrize("path", ["/account", "/admin", "/admin/users"])
def test_anonymous_people_are_sent_to_sign_in_and_back(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/signin?next={path.replace('/', '%2F')}"


def test_profile_changes_are_saved_and_validated(client: TestClient, database) -> None:
    make_user(database, "r@example.kg")
    sign_in(client, "r@example.kg")
    bad = client.post("/account", data={"display_name": "", "district": "999",
                                        "csrf_token": csrf_of(client, "/account")})
    assert bad.status_code == 422
    good = client.post("/account", data={"display_name": "Айжан", "locale": "ky",
                                         "csrf_token": csrf_of(client, "/account")})
    assert good.status_code == 303
    assert 'lang="ky"' in client.get("/account").text


@pytest.mark.parametrize("path, data", [
    ("/signup", {"email": "n{}@example.kg", "display_name": "N", "password": PASSWORD,
                 "password_confirm": PASSWORD, "accept_terms": "yes"}),
    ("/password/forgot", {"email": "n{}@example.kg"}),
])
def test_sign_up_and_reset_requests_are_rate_limited(client: TestClient, path, data) -> None:
    clear_of_window_edge(3600, client.app)
    statuses = []
    for i in range(6):
        filled = {k: v.format(i) for k, v in data.items()}
        statuses.append(client.post(path, data={**filled, "csrf_token": csrf_of(client, path)},
                                    headers={"Accept-Language": "en"}).status_code)
    assert statuses == [303] * 5 + [429]


def test_a_resident_turns_notification_mail_off(client: TestClient, database) -> None:
    make_user(database, "r@example.kg")
    sign_in(client, "r@example.kg")
    assert 'name="email_notifications" value="yes" checked' in client.get("/account").text
    client.post("/account", data={"display_name": "R", "csrf_token": csrf_of(client, "/account")})
    with database.session() as db:
        assert db.exec(select(User.email_notifications)).one() is False
    assert 'value="yes" checked' not in client.get("/account").text


def test_a_display_name_loses_bidi_overrides_and_zero_width_characters(
        client: TestClient, database) -> None:
    make_user(database, "bidi@example.kg")
    sign_in(client, "bidi@example.kg")
    name = "Ai\u202egnp.exe\u200b\u2066Bek\u2069"
    response = client.post("/account", data={"display_name": name, "locale": "en",
                                             "csrf_token": csrf_of(client, "/account")})
    assert response.status_code in (200, 303)
    with database.session() as s:
        user = s.exec(select(User).where(User.email == "bidi@example.kg")).one()
    assert user.display_name == "Aignp.exeBek"


def test_head_with_a_body_is_answered_as_get_and_changes_nothing(
        client: TestClient, database) -> None:
    make_user(database, "head@example.kg")
    sign_in(client, "head@example.kg")
    token = csrf_of(client, "/account")
    response = client.request("HEAD", "/account", data={"display_name": "Changed by HEAD",
                                                         "locale": "en", "csrf_token": token})
    assert response.status_code == 200
    assert response.content == b""
    with database.session() as s:
        user = s.exec(select(User).where(User.email == "head@example.kg")).one()
    assert user.display_name != "Changed by HEAD"


def _signin_from(app, address: str, email: str, password: str,
                 client: TestClient | None = None) -> int:
    client = client or TestClient(app, follow_redirects=False, client=(address, 50000))
    return client.post("/signin", data={"email": email, "password": password,
                                        "csrf_token": csrf_of(client, "/signin")}).status_code


def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out(app, database) -> None:
    make_user(database, "owner@example.kg")
    clear_of_window_edge(300, app)
    attacker = TestClient(app, follow_redirects=False, client=("198.51.100.7", 50000))
    statuses = [_signin_from(app, "", "owner@example.kg", "wrong password!", attacker)
                for _ in range(6)]
    assert statuses == [422] * 5 + [429]  # the guesser is throttled
    assert _signin_from(app, "203.0.113.9", "owner@example.kg", PASSWORD) == 303


def test_a_browser_that_signed_in_before_passes_the_accounts_exhausted_budget(
        app, database) -> None:
    make_user(database, "known@example.kg")
    clear_of_window_edge(300, app)
    owner = TestClient(app, follow_redirects=False, client=("203.0.113.9", 50000))
    assert _signin_from(app, "", "known@example.kg", PASSWORD, owner) == 303
    owner.post("/signout", data={"csrf_token": csrf_of(owner, "/")})
    for n in range(5):
        for _ in range(5):
            _signin_from(app, f"198.51.100.{n}", "known@example.kg", "wrong password!")
    assert _signin_from(app, "192.0.2.1", "known@example.kg", PASSWORD) == 429
    assert _signin_from(app, "", "known@example.kg", PASSWORD, owner) == 303


def test_guessing_at_the_longest_address_is_throttled_like_any_other(app) -> None:
    """An address of 254 characters, as long as the form takes, makes a rate-limit key longer
    than the table's column (PostgreSQL refused it: a server error). Its guesses are counted,
    and an address that differs only at its end keeps its own count."""
    from core.accounts.routes import ACCOUNT_BUDGET

    longest = "a" * 64 + "@" + "b" * 186 + ".kg"
    neighbour = "a" * 64 + "@" + "b" * 185 + "c.kg"
    assert len(longest) == len(neighbour) == 254
    clear_of_window_edge(300, app)
    statuses = [_signin_from(app, f"198.51.100.{n}", longest, "wrong password!")
                for n in range(5) for _ in range(5)]
    budget = 5 * ACCOUNT_BUDGET  # the account's budget: the limit of 5 times the factor
    assert statuses == [422] * budget + [429] * (25 - budget)
    assert _signin_from(app, "192.0.2.1", longest, "wrong password!") == 429
    assert _signin_from(app, "192.0.2.2", neighbour, "wrong password!") == 422


def test_a_password_change_revokes_the_browsers_device_cookie(app, database) -> None:
    from core.accounts import services
    from core.models import utcnow

    make_user(database, "moved@example.kg")
    clear_of_window_edge(300)
    old_device = TestClient(app, follow_redirects=False, client=("203.0.113.9", 50000))
    assert _signin_from(app, "", "moved@example.kg", PASSWORD, old_device) == 303
    assert old_device.cookies.get("shaar_device")
    old_device.post("/signout", data={"csrf_token": csrf_of(old_device, "/")})
    new_password = "a brand new password 2027"
    with database.session(write=True) as s:  # the owner resets the password (device lost)
        user = s.exec(select(User).where(User.email == "moved@example.kg")).one()
        token = services.issue_token(s, user, services.RESET, utcnow())
    with database.session(write=True) as s:
        assert services.reset_password(s, token, new_password, utcnow()) is not None
    for n in range(5):
        for _ in range(5):
            _signin_from(app, f"198.51.100.{n}", "moved@example.kg", "wrong password!")
    # the cookie from before the change no longer passes the account's exhausted budget
    assert _signin_from(app, "", "moved@example.kg", new_password, old_device) == 429


def test_a_device_cookie_signed_for_the_address_alone_is_not_a_known_device(
        app, database) -> None:
    from itsdangerous import URLSafeTimedSerializer

    make_user(database, "legacy@example.kg")
    clear_of_window_edge(300)
    for n in range(5):
        for _ in range(5):
            _signin_from(app, f"198.51.100.{n}", "legacy@example.kg", "wrong password!")
    legacy = TestClient(app, follow_redirects=False, client=("203.0.113.10", 50000))
    signer = URLSafeTimedSerializer(app.state.settings.secret_key, salt="device")
    legacy.cookies.set("shaar_device", signer.dumps("legacy@example.kg"))
    assert _signin_from(app, "", "legacy@example.kg", PASSWORD, legacy) == 429
