import re
from functools import cache

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from sqlmodel import select
from starlette.testclient import TestClient

from core import i18n
from core.demo import seed
from core.models import User, utcnow
from core.settings import LOCALES, ROOT
from tests.helpers import clear_of_window_edge, csrf_of, make_user, sign_in

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@cache
def source_messages() -> frozenset[str]:
    """Every message the code and templates ask to translate (as `make messages` finds them)."""
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    files = [(p, "python")
             for d in ("core", "contests", "ideas", "voting", "moderation", "results", "jury",
                       "tracking")
             for p in (ROOT / d).rglob("*.py")]
    files += [(p, "jinja2") for p in (ROOT / "templates").rglob("*.html")]
    found = set()
    for path, method in files:
        options = {"trim_blocks": "true", "lstrip_blocks": "true"} if method == "jinja2" else {}
        for _line, message, _comments, _context in extract_from_file(
                method, str(path), keywords=keywords, options=options):
            found.add(message[0] if isinstance(message, tuple) else message)
    return frozenset(found)


def catalog(locale: str):
    with (ROOT / "locale" / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


def test_the_sources_have_strings_to_translate() -> None:
    assert len(source_messages()) > 150


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_in_the_code_is_translated(locale: str) -> None:
    translated = {m.id[0] if isinstance(m.id, tuple) else m.id: m for m in catalog(locale) if m.id}
    missing = sorted(source_messages() - set(translated))
    assert missing == [], f"{locale} lacks {len(missing)}: {missing[:5]} — run `make messages`"
    for key, message in translated.items():
        if key not in source_messages():
            continue
        assert not message.fuzzy, key
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{locale}: untranslated {key!r}"
        expected = set(PLACEHOLDER.findall(key))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == expected, (locale, key, text)


def test_kyrgyz_is_not_a_copy_of_russian() -> None:
    ru = {m.id: m.string for m in catalog("ru") if m.id}
    ky = {m.id: m.string for m in catalog("ky") if m.id}
    same = [k for k in ky if ky[k] == ru.get(k) and PLACEHOLDER.sub("", str(k)).strip()]
    # Loanwords (район, модератор, сом) are the same; whole sentences must not be.
    assert len(same) < len(ky) * 0.1, same[:10]
    assert all(len(str(k).split()) <= 2 for k in same), same


def test_compiled_catalogs_load() -> None:
    assert i18n.translations("ky").gettext("Sign in") == "Кирүү"
    assert i18n.translations("ru").gettext("Sign in") == "Войти"


@pytest.mark.parametrize("header, lang, heading", [
    ("", "ru", "Идеи для нашего города"),
    ("ky-KG,ky;q=0.9", "ky", "Шаарыбыз үчүн идеялар"),
    ("en-US,en;q=0.8,ru;q=0.5", "en", "Ideas for our city"),
    ("fr-FR,de;q=0.5", "ru", "Идеи для нашего города"),
])
def test_pages_answer_in_the_browsers_language(client: TestClient, header, lang,
                                               heading) -> None:
    page = client.get("/", headers={"Accept-Language": header} if header else {})
    assert f'<html lang="{lang}">' in page.text
    assert heading in page.text


def test_the_language_switch_works_without_javascript(client: TestClient) -> None:
    token = csrf_of(client, "/ideas")
    response = client.post("/language", data={"locale": "ky", "next": "/ideas?sort=cost_asc",
                                               "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/ideas?sort=cost_asc"
    assert 'lang="ky"' in client.get("/ideas").text


def test_a_persons_language_follows_them_to_another_browser(client: TestClient, app,
                                                            database) -> None:
    make_user(database, "r@example.kg")
    sign_in(client, "r@example.kg")
    client.post("/language", data={"locale": "en", "csrf_token": csrf_of(client, "/")})
    with database.session() as db:
        assert db.exec(select(User.locale)).one() == "en"
    phone = TestClient(app, follow_redirects=False)
    sign_in(phone, "r@example.kg")
    assert 'lang="en"' in phone.get("/", headers={"Accept-Language": "ru"}).text


def test_money_and_dates_follow_the_locale(client: TestClient, database) -> None:
    with database.session(write=True) as db:
        seed(db, utcnow())
    ru = client.get("/ideas?sort=cost_desc").text
    en = client.get("/ideas?sort=cost_desc", headers={"Accept-Language": "en"}).text
    assert "3\xa0500\xa0000 сом" in ru
    assert "3,500,000 som" in en


@pytest.mark.parametrize("code", [403, 404, 429])
@pytest.mark.parametrize("lang, word", [("ru", "Перейти"), ("ky", "Башкы"), ("en", "home")])
def test_error_pages_speak_every_language(client: TestClient, database, code, lang,
                                          word) -> None:
    if code == 404:
        response = client.get("/no-such-page", headers={"Accept-Language": lang})
    elif code == 403:
        make_user(database, "r@example.kg")
        sign_in(client, "r@example.kg")
        response = client.get("/admin", headers={"Accept-Language": lang})
    else:
        clear_of_window_edge(300, client.app)
        for _ in range(6):
            response = client.post("/signin", data={
                "email": "x@example.kg", "password": "wrong password",
                "csrf_token": csrf_of(client, "/signin")}, headers={"Accept-Language": lang})
    assert response.status_code == code
    assert f'lang="{lang}"' in response.text
    if code != 429:
        assert word in response.text
