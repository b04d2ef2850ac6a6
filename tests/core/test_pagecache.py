"""The page cache for anonymous readers (core/pagecache.py): fast, and never stale after a
change, never someone else's, never for a signed-in reader."""

from datetime import timedelta

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from core.models import utcnow
from core.pagecache import writes_public
from ideas.forms import IdeaData
from ideas.models import Idea, IdeaStatus
from ideas.services import create_idea
from tests.helpers import CSRF_RE, make_round, make_user, sign_in


@pytest.fixture
def idea(database):
    setup = make_round(database)
    author = make_user(database, "author@example.kg", name="Aibek Author")
    with database.session(write=True) as db:
        data = IdeaData(title="Shade for the bus stop", summary="s", description="d",
                        category_id=None, district_id=None, estimated_cost=1000,
                        address="", latitude=None, longitude=None)
        return create_idea(db, setup.round, author.id, data, utcnow(),
                           IdeaStatus.PUBLISHED).reference


def _retitle(database, reference: str, title: str) -> None:
    with database.session(write=True) as db:
        row = db.exec(select(Idea).where(Idea.reference == reference)).one()
        row.title = title
        db.add(row)


@pytest.mark.parametrize("path", ["/ideas", "/ideas/{ref}"])
def test_a_second_anonymous_reader_gets_the_kept_page(app, client: TestClient, idea,
                                                       path: str) -> None:
    url = path.format(ref=idea)
    first = client.get(url, headers={"Accept-Language": "en"})
    second = client.get(url, headers={"Accept-Language": "en"})
    assert first.status_code == second.status_code == 200
    assert "Shade for the bus stop" in second.text
    assert second.text == first.text
    assert app.state.anonymous_pages.hits == 1


@pytest.mark.parametrize("path", ["/ideas", "/ideas/{ref}"])
def test_a_change_shows_at_once(client: TestClient, database, idea, path: str) -> None:
    url = path.format(ref=idea)
    assert "Shade for the bus stop" in client.get(url).text
    _retitle(database, idea, "Trees along the canal")
    page = client.get(url).text
    assert "Trees along the canal" in page and "Shade for the bus stop" not in page


def test_each_browser_gets_its_own_csrf_token(app, idea) -> None:
    with TestClient(app, follow_redirects=False) as one, \
            TestClient(app, follow_redirects=False) as two:
        token_one = CSRF_RE.search(one.get("/ideas").text).group(1)  # type: ignore[union-attr]
        token_two = CSRF_RE.search(two.get("/ideas").text).group(1)  # type: ignore[union-attr]
        assert app.state.anonymous_pages.hits == 1
        assert token_one != token_two
        # The kept page's token works for its reader: the language form goes through.
        switched = two.post("/language", data={"csrf_token": token_two, "locale": "en",
                                               "next": "/ideas"})
        assert switched.status_code == 303
        assert "Ideas" in two.get("/ideas").text


def test_languages_are_kept_apart(client: TestClient, idea) -> None:
    english = client.get("/ideas", headers={"Accept-Language": "en"})
    russian = client.get("/ideas", headers={"Accept-Language": "ru"})
    assert english.headers.get("content-language", "en").startswith("en")
    assert 'lang="ru"' in russian.text.split(">", 2)[1]
    assert 'lang="en"' in english.text.split(">", 2)[1]


def test_a_signed_in_reader_never_gets_the_anonymous_page(app, client: TestClient,
                                                          database, idea) -> None:
    make_user(database, "reader@example.kg")
    client.get("/ideas")
    sign_in(client, "reader@example.kg")
    page = client.get("/ideas")
    assert 'action="/signout"' in page.text and 'href="/my/ideas"' in page.text
    assert "no-store" in page.headers["cache-control"]
    assert app.state.anonymous_pages.hits == 0


def test_the_kept_page_ends_with_time(app, client: TestClient, database, idea) -> None:
    client.get("/ideas")
    app.state.clock = lambda: utcnow() + timedelta(seconds=app.state.anonymous_pages.seconds + 1)
    client.get("/ideas")
    assert app.state.anonymous_pages.hits == 0


def test_a_page_that_carries_a_message_is_not_kept(app, client: TestClient, settings,
                                                   idea) -> None:
    from itsdangerous import URLSafeSerializer

    from core.web import CookieNames

    message = URLSafeSerializer(settings.secret_key, salt="flash").dumps(
        [{"message": "Your idea is saved.", "category": "success"}])
    cookie = f"{CookieNames.for_settings(settings).flash}={message}"
    assert "Your idea is saved." in client.get("/ideas", headers={"Cookie": cookie}).text
    assert "Your idea is saved." not in client.get("/ideas").text
    with TestClient(app) as other:
        assert "Your idea is saved." not in other.get("/ideas").text


def test_no_cache_when_switched_off(tmp_path, database, idea) -> None:
    from core.app import create_app
    from tests.helpers import make_settings

    settings = make_settings(tmp_path, str(database.write_engine.url), page_cache_seconds=0)
    off = create_app(settings, database)
    assert getattr(off.state, "anonymous_pages", None) is None
    with TestClient(off) as c:
        assert "Shade for the bus stop" in c.get("/ideas").text


@pytest.mark.parametrize(("statement", "public"), [
    ('UPDATE idea SET title=? WHERE idea.id = ?', True),
    ('INSERT INTO comment (idea_id, body) VALUES (?, ?)', True),
    ('DELETE FROM "support" WHERE id = ?', True),
    ('WITH x AS (UPDATE idea SET n = 1 RETURNING id) SELECT * FROM x', True),
    ('TRUNCATE idea', True),
    ('VACUUM', True),
    # A cast and a signed-in request's touch leave the cache alone.
    ('INSERT INTO ballotlogentry (round_id, seq) VALUES (?, ?)', False),
    ('INSERT INTO ballot (round_id) VALUES (?)', False),
    ('UPDATE ballot SET is_current=?', False),
    ('INSERT INTO participation (round_id) VALUES (?)', False),
    ('INSERT INTO ratelimithit (key) VALUES (?) ON CONFLICT DO NOTHING', False),
    ('INSERT INTO mail_outbox (kind) VALUES (?)', False),
    ('UPDATE usersession SET last_seen_at=? WHERE usersession.id = ?', False),
    ('SELECT idea.id FROM idea', False),
    ('  select 1', False),
    ('SAVEPOINT sa_savepoint_1', False),
])
def test_which_statements_change_public_pages(statement: str, public: bool) -> None:
    assert writes_public(statement) is public
