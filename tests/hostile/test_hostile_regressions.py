"""What the hostile walk found, pinned down one request at a time."""

from __future__ import annotations

import gc

from starlette.testclient import TestClient

from tests.helpers import csrf_of


def test_a_file_sent_to_a_form_that_expects_none_is_closed(client: TestClient) -> None:
    token = csrf_of(client, "/signin")
    for _ in range(3):
        answer = client.post("/language", data={"csrf_token": token, "locale": "en"},
                             files={"photo": ("a.pdf", b"%PDF-1.4\n" * 200_000,
                                              "application/pdf")})
        assert answer.status_code == 303
    # An unclosed upload warns (ResourceWarning) when collected; warnings fail the tests.
    gc.collect()


def test_a_path_id_too_big_for_the_database_is_not_found(client: TestClient, database) -> None:
    for path in ("/rounds/9223372036854775808", "/admin/users/99999999999999999999",
                 "/rounds/2147483648/results", "/comments/1000000000/report"):
        assert client.get(path).status_code == 404, path
    assert client.get("/rounds/999999999").status_code == 404


def test_a_nul_character_becomes_a_replacement_character(client: TestClient, database) -> None:
    """PostgreSQL refuses NUL in text, even in a comparison: anywhere in a request it becomes
    U+FFFD before the app reads it, so it matches nothing instead of failing."""
    from sqlmodel import select

    from core.models import User
    from tests.helpers import make_user, sign_in

    assert client.get("/ideas/2027-00001%00").status_code == 404
    assert client.get("/files/a%00b.pdf").status_code == 404
    listed = client.get("/ideas", params={"q": "<b>a\x00b</b>"})
    assert listed.status_code == 200
    assert "&lt;b&gt;a\ufffdb&lt;/b&gt;" in listed.text
    make_user(database, "nul@example.kg")
    sign_in(client, "nul@example.kg")
    saved = client.post("/account", data={"csrf_token": csrf_of(client, "/account"),
                                           "display_name": "Nul\x00 Person", "locale": "",
                                           "district": ""})
    assert saved.status_code == 303
    with database.session() as db:
        person = db.exec(select(User).where(User.email == "nul@example.kg")).one()
        assert person.display_name == "Nul\ufffd Person"
