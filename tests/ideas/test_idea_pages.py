import pytest
from starlette.testclient import TestClient

from contests.models import Contest, Round
from core.models import utcnow
from ideas.forms import IdeaData
from ideas.models import IdeaStatus
from ideas.services import create_idea
from tests.helpers import HOSTILE, make_user


@pytest.fixture
def ideas(database):
    author = make_user(database, "author@example.kg")
    now = utcnow()
    with database.session(write=True) as db:
        contest = Contest(slug="c", title=f"Contest {HOSTILE}", year=2027)
        db.add(contest)
        db.flush()
        round_ = Round(contest_id=contest.id, number=1, title="Round", max_ideas_per_day=10)
        db.add(round_)
        db.flush()
        made = {}
        for status in (IdeaStatus.PUBLISHED, IdeaStatus.DRAFT, IdeaStatus.SUBMITTED,
                       IdeaStatus.REJECTED):
            data = IdeaData(title=f"{status} {HOSTILE}", summary="s", description="one\n\ntwo",
                            category_id=None, district_id=None, estimated_cost=1000,
                            address="", latitude=None, longitude=None)
            made[status] = create_idea(db, round_, author.id, data, now, status).reference
    return made


def test_references_are_citable_and_sequential(ideas) -> None:
    assert sorted(ideas.values()) == ["2027-00001", "2027-00002", "2027-00003", "2027-00004"]


def test_the_list_shows_public_ideas_only(client: TestClient, ideas) -> None:
    page = client.get("/ideas", headers={"Accept-Language": "en"}).text
    assert "published &lt;script&gt;" in page and "rejected &lt;script&gt;" in page
    assert "draft &lt;script&gt;" not in page and "submitted &lt;script&gt;" not in page
    assert HOSTILE not in page


@pytest.mark.parametrize("status", [IdeaStatus.DRAFT, IdeaStatus.SUBMITTED])
def test_an_unpublished_idea_is_404_as_if_it_did_not_exist(client: TestClient, ideas,
                                                           status) -> None:
    assert client.get(f"/ideas/{ideas[status]}").status_code == 404
    assert client.get("/ideas/2027-99999").status_code == 404


def test_an_idea_page_shows_its_paragraphs_escaped(client: TestClient, ideas) -> None:
    page = client.get(f"/ideas/{ideas[IdeaStatus.PUBLISHED]}")
    assert page.status_code == 200
    assert "<p>one</p>" in page.text and "<p>two</p>" in page.text
    assert HOSTILE not in page.text


def test_htmx_gets_only_the_results_fragment(client: TestClient, ideas) -> None:
    fragment = client.get("/ideas?sort=cost_asc", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and 'class="cards"' in fragment.text
    assert fragment.headers["vary"] == "HX-Request"
    restore = client.get("/ideas", headers={"HX-Request": "true",
                                            "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text


@pytest.mark.parametrize("query", ["page=-1", "page=abc", "page=99999999999", "sort=id;drop",
                                   "round=1%00", "district=<x>", "sort=" + "x" * 5000])
def test_odd_query_parameters_never_break_the_list(client: TestClient, ideas, query) -> None:
    response = client.get(f"/ideas?{query}")
    assert response.status_code == 200
    assert "<x>" not in response.text


def test_an_unexpected_error_shows_a_friendly_page_in_the_readers_language(app) -> None:
    async def boom(request):
        raise RuntimeError("kaboom")

    app.add_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"Accept-Language": "ky"})
    assert response.status_code == 500
    assert 'lang="ky"' in response.text and "kaboom" not in response.text


def test_the_list_searches_inflected_words(client: TestClient, database) -> None:
    from core.demo import seed

    with database.session(write=True) as db:
        seed(db, utcnow())
    found = client.get("/ideas", params={"q": "велодорожки"}).text
    assert "Велодорожка по улице Жибек-Жолу" in found and "Скамейки" not in found
    assert 'value="велодорожки"' in found
    nothing = client.get("/ideas", params={"q": "аэропорт"}, headers={"Accept-Language": "en"})
    assert "No ideas match these filters." in nothing.text
