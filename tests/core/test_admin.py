import hashlib

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from core.accounts.services import census_hash
from core.models import AuditEntry, District, RoleGrant, User
from tests.helpers import HOSTILE, csrf_of, make_user, sign_in


@pytest.fixture
def admin(client: TestClient, database) -> User:
    user = make_user(database, "admin@example.kg", roles=("admin",), name="Admin")
    sign_in(client, "admin@example.kg")
    return user


def test_an_admin_grants_and_revokes_a_role_and_both_are_audited(client: TestClient, admin,
                                                                 database) -> None:
    person = make_user(database, "mod@example.kg")
    token = csrf_of(client, f"/admin/users/{person.id}")
    granted = client.post(f"/admin/users/{person.id}/roles",
                          data={"role": "moderator", "action": "grant", "csrf_token": token})
    assert granted.status_code == 303
    page = client.get(f"/admin/users/{person.id}", headers={"Accept-Language": "en"}).text
    assert "Moderator: granted" in page
    client.post(f"/admin/users/{person.id}/roles",
                data={"role": "moderator", "action": "revoke", "csrf_token": token})
    with database.session() as db:
        assert db.exec(select(RoleGrant).where(RoleGrant.user_id == person.id)).all() == []
        actions = [e.action for e in db.exec(select(AuditEntry).order_by(AuditEntry.id)).all()]
    assert actions == ["role.grant", "role.revoke"]
    log = client.get("/admin/audit").text
    assert "role.grant" in log and "role.revoke" in log


def test_a_new_moderator_sees_the_role_on_their_next_request(client: TestClient, app, admin,
                                                             database) -> None:
    person = make_user(database, "mod@example.kg")
    other = TestClient(app, follow_redirects=False)
    sign_in(other, "mod@example.kg")
    client.post(f"/admin/users/{person.id}/roles", data={
        "role": "admin", "action": "grant", "csrf_token": csrf_of(client, "/admin")})
    assert other.get("/admin").status_code == 200


def test_an_admin_cannot_demote_themselves(client: TestClient, admin, database) -> None:
    response = client.post(f"/admin/users/{admin.id}/roles", data={
        "role": "admin", "action": "revoke", "csrf_token": csrf_of(client, "/admin")})
    assert response.status_code == 303
    assert client.get("/admin").status_code == 200


def test_an_unknown_role_is_refused(client: TestClient, admin, database) -> None:
    person = make_user(database, "p@example.kg")
    response = client.post(f"/admin/users/{person.id}/roles", data={
        "role": "superuser", "action": "grant", "csrf_token": csrf_of(client, "/admin")})
    assert response.status_code == 422


@pytest.mark.parametrize("role", ["resident", "moderator", "jury"])
def test_people_without_the_admin_role_get_403(client: TestClient, database, role) -> None:
    make_user(database, "p@example.kg", roles=() if role == "resident" else (role,))
    target = make_user(database, "t@example.kg")
    sign_in(client, "p@example.kg")
    for path in ("/admin", "/admin/users", f"/admin/users/{target.id}", "/admin/census",
                 "/admin/audit"):
        assert client.get(path).status_code == 403, path
    response = client.post(f"/admin/users/{target.id}/roles", data={
        "role": "admin", "action": "grant", "csrf_token": csrf_of(client, "/")})
    assert response.status_code == 403


def test_an_unknown_person_is_404_for_admins(client: TestClient, admin) -> None:
    assert client.get("/admin/users/99999").status_code == 404


def test_admin_search_escapes_names_and_query(client: TestClient, admin, database) -> None:
    make_user(database, "h@example.kg", name=HOSTILE)
    page = client.get("/admin/users", params={"q": "<script>"})
    assert page.status_code == 200
    assert HOSTILE not in page.text and "&lt;script&gt;alert(1)" in page.text
    fragment = client.get("/admin/users", params={"q": "h@"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "h@example.kg" in fragment.text
    assert fragment.headers["vary"] == "HX-Request"


def test_a_resident_verifies_through_the_census_list(client: TestClient, app, admin, database,
                                                     tmp_path) -> None:
    with database.session(write=True) as db:
        db.add(District(slug="leninsky", name_ru="Ленинский район", name_ky="Ленин району",
                        name_en="Leninsky"))
    salt = app.state.settings.census_salt
    rows = ["id_hash,district", f"{census_hash(salt, '21234567890123')},leninsky",
            f"{hashlib.sha256(b'other').hexdigest()},leninsky"]
    upload = client.post("/admin/census", data={"csrf_token": csrf_of(client, "/admin/census"),
                                                "batch": "2026-11"},
                         files={"file": ("list.csv", "\n".join(rows).encode(), "text/csv")})
    assert upload.status_code == 303

    resident = TestClient(app, follow_redirects=False)
    make_user(database, "r@example.kg")
    sign_in(resident, "r@example.kg")
    wrong = resident.post("/account/verify", data={"id_number": "1",
                                                   "csrf_token": csrf_of(resident, "/account")})
    assert wrong.status_code == 303
    resident.post("/account/verify", data={"id_number": "2123 4567 890123",
                                           "csrf_token": csrf_of(resident, "/account")})
    page = resident.get("/account", headers={"Accept-Language": "en"}).text
    assert "Verified resident" in page

    second = TestClient(app, follow_redirects=False)
    make_user(database, "s@example.kg")
    sign_in(second, "s@example.kg")
    second.post("/account/verify", data={"id_number": "21234567890123",
                                         "csrf_token": csrf_of(second, "/account")})
    assert "Not verified" in second.get("/account", headers={"Accept-Language": "en"}).text


def test_a_malformed_census_file_is_refused_with_the_line(client: TestClient, admin,
                                                          database) -> None:
    response = client.post("/admin/census", data={"csrf_token": csrf_of(client, "/admin/census")},
                           files={"file": ("l.csv", b"id_hash,district\nabc,leninsky\n")},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "line 2" in response.text


def test_an_admin_sets_residency_and_it_is_audited(client: TestClient, admin, database) -> None:
    with database.session(write=True) as db:
        district = District(slug="oktyabrsky", name_ru="Октябрьский", name_ky="Октябрь",
                            name_en="Oktyabrsky")
        db.add(district)
    person = make_user(database, "p@example.kg")
    response = client.post(f"/admin/users/{person.id}/residency", data={
        "district": str(district.id), "verified": "yes", "csrf_token": csrf_of(client, "/admin")})
    assert response.status_code == 303
    with database.session() as db:
        fresh = db.get(User, person.id)
        assert fresh is not None and fresh.is_verified and fresh.district_id == district.id
        assert db.exec(select(AuditEntry.action)).all() == ["residency.set"]


def test_one_account_verifies_with_one_id_number(client: TestClient, app, admin,
                                                 database) -> None:
    """An account that holds a census entry cannot claim a second one (it would vote for two
    people); the second entry stays free for its owner."""
    with database.session(write=True) as db:
        db.add(District(slug="leninsky", name_ru="Ленинский район", name_ky="Ленин району",
                        name_en="Leninsky"))
    salt = app.state.settings.census_salt
    rows = ["id_hash,district", f"{census_hash(salt, '21234567890123')},leninsky",
            f"{census_hash(salt, '11234567890123')},leninsky"]
    client.post("/admin/census", data={"csrf_token": csrf_of(client, "/admin/census"),
                                       "batch": "2026-11"},
                files={"file": ("list.csv", "\n".join(rows).encode(), "text/csv")})
    resident = TestClient(app, follow_redirects=False)
    make_user(database, "one@example.kg")
    sign_in(resident, "one@example.kg")
    first = resident.post("/account/verify", data={
        "id_number": "21234567890123", "csrf_token": csrf_of(resident, "/account")},
        headers={"Accept-Language": "en"})
    assert first.status_code == 303
    assert "You are now a verified resident." in _account(resident)
    again = resident.post("/account/verify", data={
        "id_number": "11234567890123", "csrf_token": csrf_of(resident, "/account")},
        headers={"Accept-Language": "en"})
    assert again.status_code == 303
    assert "already verified with another ID number" in _account(resident)

    owner = TestClient(app, follow_redirects=False)
    make_user(database, "two@example.kg")
    sign_in(owner, "two@example.kg")
    mine = owner.post("/account/verify", data={
        "id_number": "11234567890123", "csrf_token": csrf_of(owner, "/account")},
        headers={"Accept-Language": "en"})
    assert mine.status_code == 303
    assert "You are now a verified resident." in _account(owner)


def _account(client: TestClient) -> str:
    return client.get("/account", headers={"Accept-Language": "en"}).text
