"""Form errors a person can act on: the summary names the field, an empty password is
"required", and the terms they agree to are one click away."""

from __future__ import annotations

import re

import pytest

from tests.helpers import csrf_of


@pytest.fixture
def signup_errors(client):
    token = csrf_of(client, "/signup")
    response = client.post("/signup", data={"csrf_token": token, "email": "",
                                            "display_name": "Aida", "password": "",
                                            "password_confirm": ""},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 422
    summary = response.text[response.text.index('class="error-summary"'):]
    return summary[:summary.index("</div>")]


def test_the_error_summary_names_each_field(signup_errors) -> None:
    items = re.findall(r"<li><a [^>]*>([^<]+)</a></li>", signup_errors)
    assert "E-mail address: Enter your e-mail address." in items
    assert "Terms of use: Agree to the rules to create an account." in items


def test_an_empty_password_is_required_not_too_short(signup_errors) -> None:
    assert "Password: Enter a password." in signup_errors
    assert "at least" not in signup_errors


def test_the_terms_checkbox_links_to_the_terms_page_in_each_language(client) -> None:
    assert 'href="/terms"' in client.get("/signup").text
    for lang, heading in (("en", "Terms of use"), ("ru", "Условия использования"),
                          ("ky", "Колдонуу шарттары")):
        page = client.get("/terms", headers={"Accept-Language": lang})
        assert page.status_code == 200 and f"<h1>{heading}</h1>" in page.text
