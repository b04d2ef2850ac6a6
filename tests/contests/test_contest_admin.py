import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from contests import admin_services
from contests.admin import routes
from contests.forms import ContestData
from contests.models import Category, Contest, Round, RoundPhase, RoundPot
from core.app import create_app, prefixed
from core.models import AuditEntry, District, User
from tests.helpers import HOSTILE, csrf_of, make_user, sign_in

EN = {"Accept-Language": "en"}


@pytest.fixture
def app(settings, database) -> Any:
    """The app with the contest admin routes, whether or not core/app.py mounts them yet."""
    app = create_app(settings, database)
    if not any(getattr(r, "name", "") == "contest_admin:contests" for r in app.router.routes):
        app.router.routes.extend(prefixed("contest_admin", routes))
    return app


@pytest.fixture
def admin(client: TestClient, database) -> User:
    user = make_user(database, "admin@example.kg", roles=("admin",), name="Admin")
    sign_in(client, "admin@example.kg")
    return user


@pytest.fixture
def districts(database) -> list[District]:
    with database.session(write=True) as db:
        rows = [District(slug=s, name_ru=s, name_ky=s, name_en=s.title())
                for s in ("leninsky", "oktyabrsky")]
        db.add_all(rows)
    return rows


def post(client: TestClient, path: str, data: dict[str, str], page: str = "/admin/contests"
         ) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_of(client, page)}, headers=EN)


def new_contest(client: TestClient, slug: str = "bishkek-2027", title: str = "Bishkek 2027"
                ) -> Any:
    return post(client, "/admin/contests", {"title": title, "slug": slug, "year": "2027",
                                            "description": "Line one\nline two"})


def new_round(client: TestClient, title: str = "Ideas") -> str:
    created = new_contest(client)
    contest_path = created.headers["location"]
    response = post(client, f"{contest_path}/rounds", {"round_title": title})
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def actions(database) -> list[str]:
    with database.session() as db:
        return list(db.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))).all())


def test_an_admin_creates_a_contest_and_numbers_its_rounds(client: TestClient, admin,
                                                           database) -> None:
    created = new_contest(client)
    assert created.status_code == 303
    assert created.headers["location"].startswith("/admin/contests/")
    path = created.headers["location"]
    assert "The contest is created." in client.get(path, headers=EN).text
    for title in ("Ideas", "Second call"):
        assert post(client, f"{path}/rounds", {"round_title": title}).status_code == 303
    with database.session() as db:
        contest = db.exec(select(Contest)).one()
        rounds = db.exec(select(Round).order_by(col(Round.number))).all()
    assert (contest.slug, contest.year, contest.description) == (
        "bishkek-2027", 2027, "Line one\nline two")
    assert [(r.number, r.title) for r in rounds] == [(1, "Ideas"), (2, "Second call")]
    listing = client.get("/admin/contests", headers=EN).text
    assert "Bishkek 2027" in listing and "2. Second call" in listing
    assert actions(database) == ["contest.create", "round.create", "round.create"]


def test_an_admin_edits_a_contest_and_the_audit_lists_the_change(client: TestClient, admin,
                                                                 database) -> None:
    path = new_contest(client).headers["location"]
    saved = post(client, path, {"title": "Renamed", "slug": "bishkek-2027", "year": "2028",
                                "description": ""})
    assert saved.status_code == 303
    with database.session() as db:
        contest = db.exec(select(Contest)).one()
        entry = db.exec(select(AuditEntry).where(AuditEntry.action == "contest.update")).one()
    assert (contest.title, contest.year, contest.description) == ("Renamed", 2028, "")
    assert entry.actor_id == admin.id and '"year": 2028' in entry.details
    assert "slug" not in entry.details


def test_a_taken_slug_is_a_field_error_that_keeps_the_values(client: TestClient, admin,
                                                             database) -> None:
    new_contest(client)
    again = new_contest(client, title="Another title")
    assert again.status_code == 422
    assert "This short name is already taken." in again.text
    assert 'value="Another title"' in again.text and 'aria-invalid="true"' in again.text
    with database.session() as db:
        assert len(db.exec(select(Contest)).all()) == 1
    assert actions(database) == ["contest.create"]


def race(count: int, work: Any) -> list[Any]:
    """Run `work()` in `count` threads released at the same moment; results or exceptions."""
    barrier = threading.Barrier(count)

    def run() -> Any:
        barrier.wait()
        try:
            return work()
        except Exception as exc:  # collected for the assertions
            return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: run(), range(count)))


def test_two_admins_racing_for_a_slug_get_taken_not_a_crash(database) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def create() -> int | None:
        with database.session(write=True) as db:
            return admin_services.create_contest(
                db, ContestData("race", "Race", 2027, ""), None, now).id

    outcomes = race(4, create)
    assert sum(isinstance(o, int) for o in outcomes) == 1
    taken = [o for o in outcomes if isinstance(o, admin_services.Taken)]
    assert len(taken) == 3 and all(t.field == "slug" for t in taken)


def test_rounds_added_at_the_same_moment_get_distinct_numbers(database) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with database.session(write=True) as db:
        contest = admin_services.create_contest(db, ContestData("c", "C", 2027, ""), None, now)

    def add() -> int:
        with database.session(write=True) as db:
            return admin_services.create_round(db, contest, "R", None, now).number

    assert sorted(race(4, add)) == [1, 2, 3, 4]


@pytest.mark.parametrize("field, value, message", [
    ("slug", "Бишкек", "Use Latin letters, digits and hyphens only."),
    ("slug", "-edge-", "Use Latin letters, digits and hyphens only."),
    ("year", "twenty", "Enter a whole number from 2000 to 2100."),
    ("year", "1999", "Enter a whole number from 2000 to 2100."),
    ("title", "", "Fill in this field."),
    ("title", "x" * 201, "Use at most 200 characters."),
    ("title", "tab\there", "Remove control characters."),
])
def test_contest_fields_are_checked(client: TestClient, admin, field, value, message) -> None:
    data = {"title": "T", "slug": "ok-slug", "year": "2027", "description": "", field: value}
    response = post(client, "/admin/contests", data)
    assert response.status_code == 422
    assert message in response.text
    assert f'href="#field-{field}"' in response.text


def test_an_admin_sets_round_settings(client: TestClient, admin, database) -> None:
    path = new_round(client)
    saved = post(client, path, {"title": "Ideas 2027", "description": "About", "verified_only":
                                "yes", "max_supports_per_person": "7", "min_supports": "25",
                                "max_ideas_per_day": "2"}, page=path)
    assert saved.status_code == 303
    with database.session() as db:
        round_ = db.exec(select(Round)).one()
    assert (round_.title, round_.verified_only, round_.max_supports_per_person,
            round_.min_supports, round_.max_ideas_per_day) == ("Ideas 2027", True, 7, 25, 2)
    refused = post(client, path, {"title": "Ideas", "max_supports_per_person": "-1",
                                  "min_supports": "0", "max_ideas_per_day": "0"}, page=path)
    assert refused.status_code == 422
    assert refused.text.count("Enter a whole number from") == 4  # summary + field, twice
    assert "round.update" in actions(database)


def schedule(**phases: tuple[str, str]) -> dict[str, str]:
    data = {}
    for phase, (start, end) in phases.items():
        data[f"{phase}_start"], data[f"{phase}_end"] = start, end
    return data


def test_phase_times_are_bishkek_local_and_stored_in_utc(client: TestClient, admin,
                                                         database) -> None:
    path = new_round(client)
    saved = post(client, f"{path}/phases", schedule(
        submission=("2027-03-01T09:00", "2027-04-01T00:00"),
        voting=("2027-05-01T00:00", "2027-05-15T20:00")), page=path)
    assert saved.status_code == 303
    with database.session() as db:
        rows = {p.phase: p for p in db.exec(select(RoundPhase)).all()}
    assert set(rows) == {"submission", "voting"}
    assert rows["submission"].starts_at == datetime(2027, 3, 1, 3, 0, tzinfo=UTC)
    assert rows["submission"].ends_at == datetime(2027, 3, 31, 18, 0, tzinfo=UTC)
    assert rows["voting"].ends_at == datetime(2027, 5, 15, 14, 0, tzinfo=UTC)
    page = client.get(path, headers=EN).text
    assert 'value="2027-03-01T09:00"' in page and 'value="2027-05-15T20:00"' in page
    # format_when in the city's zone, written the British way in English
    assert "01/03/2027, 09:00" in page

    # Saving again without voting leaves it out; submission keeps its row.
    kept_id = rows["submission"].id
    post(client, f"{path}/phases", schedule(
        submission=("2027-03-01T09:00", "2027-03-20T00:00")), page=path)
    with database.session() as db:
        rows = {p.phase: p for p in db.exec(select(RoundPhase)).all()}
    assert set(rows) == {"submission"} and rows["submission"].id == kept_id
    assert actions(database)[-2:] == ["round.phases", "round.phases"]


def test_a_phase_may_begin_when_the_previous_one_ends(client: TestClient, admin,
                                                      database) -> None:
    path = new_round(client)
    response = post(client, f"{path}/phases", schedule(
        submission=("2027-03-01T09:00", "2027-04-01T00:00"),
        moderation=("2027-04-01T00:00", "2027-04-10T00:00")), page=path)
    assert response.status_code == 303


@pytest.mark.parametrize("data, field, message", [
    (schedule(submission=("2027-03-01T09:00", "2027-04-01T00:00"),
              moderation=("2027-03-31T00:00", "2027-04-10T00:00")),
     "moderation_start", "This phase starts before the previous phase ends."),
    (schedule(voting=("2027-05-01T00:00", "2027-05-15T00:00"),
              supports=("2027-05-10T00:00", "2027-05-12T00:00")),
     "voting_start", "This phase starts before the previous phase ends."),
    (schedule(voting=("2027-05-15T00:00", "2027-05-01T00:00")),
     "voting_end", "The end must be later than the start."),
    (schedule(voting=("2027-05-15T00:00", "2027-05-15T00:00")),
     "voting_end", "The end must be later than the start."),
    ({"results_start": "2027-06-01T00:00"}, "results_end",
     "Enter both the start and the end, or neither."),
    (schedule(counting=("soon", "2027-06-01T00:00")), "counting_start",
     "Enter a date and time like 2027-03-01 09:00."),
    (schedule(counting=("2027-05-20T00:00+00:00", "2027-06-01T00:00")), "counting_start",
     "Enter a date and time like 2027-03-01 09:00."),
])
def test_a_bad_schedule_is_refused_and_the_values_are_kept(client: TestClient, admin,
                                                           database, data, field,
                                                           message) -> None:
    path = new_round(client)
    response = post(client, f"{path}/phases", data, page=path)
    assert response.status_code == 422
    assert message in response.text
    assert f'href="#field-{field}"' in response.text
    assert f'id="error-{field}"' in response.text
    phase, edge = field.rsplit("_", 1)
    label = f"{phase.replace('_', ' ').capitalize()}, {edge.capitalize()}s: {message}"
    assert label in response.text
    for value in data.values():
        assert f'value="{value}"' in response.text
    with database.session() as db:
        assert db.exec(select(RoundPhase)).all() == []
    assert "round.phases" not in actions(database)


def test_an_admin_sets_budget_pots(client: TestClient, admin, database, districts) -> None:
    path = new_round(client)
    leninsky, oktyabrsky = (d.id for d in districts)
    saved = post(client, f"{path}/pots", {f"pot_{leninsky}": "1 500 000",
                                          f"pot_{oktyabrsky}": "", "pot_city": "3000000"},
                 page=path)
    assert saved.status_code == 303
    with database.session() as db:
        pots = {p.district_id: p.budget for p in db.exec(select(RoundPot)).all()}
    assert pots == {leninsky: 1_500_000, None: 3_000_000}
    page = client.get(path, headers=EN).text
    assert f'id="field-pot_{leninsky}" name="pot_{leninsky}" type="text"' in page
    assert 'value="1500000"' in page and 'value="3000000"' in page

    post(client, f"{path}/pots", {f"pot_{leninsky}": "", f"pot_{oktyabrsky}": "0",
                                  "pot_city": "3000000"}, page=path)
    with database.session() as db:
        pots = {p.district_id: p.budget for p in db.exec(select(RoundPot)).all()}
    assert pots == {oktyabrsky: 0, None: 3_000_000}
    assert actions(database)[-2:] == ["round.pots", "round.pots"]


@pytest.mark.parametrize("value", ["-5", "1.5", "lots", "99999999999"])
def test_a_budget_must_be_a_whole_number_of_som(client: TestClient, admin, database,
                                                districts, value) -> None:
    path = new_round(client)
    response = post(client, f"{path}/pots", {"pot_city": value}, page=path)
    assert response.status_code == 422
    assert "Enter a whole number from 0 to 2,000,000,000." in response.text
    assert f'value="{value}"' in response.text
    with database.session() as db:
        assert db.exec(select(RoundPot)).all() == []


def test_an_admin_creates_and_edits_categories(client: TestClient, admin, database) -> None:
    page = "/admin/categories"
    created = post(client, page, {"slug": "parks", "name_ru": "Парки", "name_ky": "Парктар",
                                  "name_en": "Parks", "position": "2"}, page=page)
    assert created.status_code == 303 and created.headers["location"] == page
    post(client, page, {"slug": "roads", "name_ru": "Дороги", "name_ky": "Жолдор",
                        "name_en": "Roads", "position": ""}, page=page)
    listing = client.get(page, headers=EN).text
    assert listing.index("roads") < listing.index("parks")  # position 0 comes first
    with database.session() as db:
        parks = db.exec(select(Category).where(Category.slug == "parks")).one()
    edited = post(client, f"{page}/{parks.id}", {"slug": "parks", "name_ru": "Парки и скверы",
                                                 "name_ky": "Парктар", "name_en": "Parks",
                                                 "position": "1"}, page=page)
    assert edited.status_code == 303
    clash = post(client, f"{page}/{parks.id}", {"slug": "roads", "name_ru": "x",
                                                "name_ky": "x", "name_en": "x"}, page=page)
    assert clash.status_code == 422 and "This short name is already taken." in clash.text
    with database.session() as db:
        parks = db.exec(select(Category).where(Category.slug == "parks")).one()
    assert (parks.name_ru, parks.position) == ("Парки и скверы", 1)
    assert actions(database) == ["category.create", "category.create", "category.update"]


def test_hostile_text_comes_back_escaped(client: TestClient, admin, database,
                                         districts) -> None:
    created = new_contest(client, title=HOSTILE)
    path = post(client, f"{created.headers['location']}/rounds",
                {"round_title": HOSTILE}).headers["location"]
    post(client, "/admin/categories", {"slug": "x", "name_ru": HOSTILE, "name_ky": HOSTILE,
                                       "name_en": HOSTILE}, page="/admin/categories")
    refused = post(client, "/admin/contests", {"title": HOSTILE, "slug": HOSTILE,
                                               "year": HOSTILE})
    assert refused.status_code == 422
    with database.session(write=True) as db:
        hostile_district = District(slug="h", name_ru=HOSTILE, name_ky=HOSTILE, name_en=HOSTILE)
        db.add(hostile_district)
    bad_pot = post(client, f"{path}/pots", {f"pot_{hostile_district.id}": HOSTILE}, page=path)
    assert bad_pot.status_code == 422
    for response in (client.get("/admin/contests"), client.get(created.headers["location"]),
                     client.get(path), client.get("/admin/categories"), refused, bad_pot):
        assert HOSTILE not in response.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


@pytest.mark.parametrize("role", ["resident", "moderator", "jury"])
def test_people_without_the_admin_role_get_403(client: TestClient, database, role) -> None:
    make_user(database, "p@example.kg", roles=() if role == "resident" else (role,))
    sign_in(client, "p@example.kg")
    token = csrf_of(client, "/")
    for path in ("/admin/contests", "/admin/contests/1", "/admin/rounds/1",
                 "/admin/categories", "/admin/categories/1"):
        assert client.get(path).status_code == 403, path
    for path in ("/admin/contests", "/admin/contests/1/rounds", "/admin/rounds/1/phases",
                 "/admin/rounds/1/pots", "/admin/categories"):
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path
    assert actions(database) == []


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/admin/rounds/1")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Fadmin%2Frounds%2F1"
    posted = client.post("/admin/contests", data={"title": "x"})
    assert posted.status_code == 303


def test_a_form_without_its_csrf_token_is_refused(client: TestClient, admin, database) -> None:
    response = client.post("/admin/contests", data={"title": "T", "slug": "t", "year": "2027"})
    assert response.status_code == 403
    with database.session() as db:
        assert db.exec(select(Contest)).all() == []


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_post_route_here_wants_a_csrf_token(client: TestClient, database,
                                                  signed_in: bool) -> None:
    if signed_in:
        make_user(database, "admin@example.kg", roles=("admin",))
        sign_in(client, "admin@example.kg")
    posts = [re.sub(r"\{\w+:int\}", "1", r.path) for r in routes if "POST" in (r.methods or ())]
    assert len(posts) == 8
    for path in posts:
        response = client.post(path, data={"title": "x"})
        assert response.status_code == (403 if signed_in else 303), path


def test_unknown_objects_are_404(client: TestClient, admin) -> None:
    for path in ("/admin/contests/999", "/admin/rounds/999", "/admin/categories/999"):
        assert client.get(path).status_code == 404, path
    assert post(client, "/admin/contests/999/rounds", {"round_title": "x"}).status_code == 404


def test_the_admin_menu_links_here(client: TestClient, admin) -> None:
    page = client.get("/admin", headers=EN).text
    assert 'href="/admin/contests"' in page and 'href="/admin/categories"' in page


def test_budgets_are_locked_once_voting_has_begun(client: TestClient, admin, database,
                                                  districts) -> None:
    path = new_round(client)
    assert post(client, f"{path}/pots", {"pot_city": "3000000"}, page=path).status_code == 303
    round_id = int(path.rsplit("/", 1)[1])
    with database.session(write=True) as db:  # voting opened an hour ago
        db.add(RoundPhase(round_id=round_id, phase="voting",
                          starts_at=datetime(2020, 1, 1, tzinfo=UTC),
                          ends_at=datetime(2099, 1, 1, tzinfo=UTC)))
    page = client.get(path, headers=EN).text
    assert "Voting has begun: the budgets can no longer change" in page
    assert re.search(r'<fieldset disabled[^>]*>\s*<legend>Budget of each pot', page)
    for data in ({"pot_city": "1"}, {f"pot_{districts[0].id}": "5", "pot_city": ""}):
        refused = post(client, f"{path}/pots", data, page=path)
        assert refused.status_code == 303
        assert "Voting has begun" in client.get(path, headers=EN).text
        with database.session() as db:
            assert {p.district_id: p.budget for p in db.exec(select(RoundPot)).all()} == {
                None: 3_000_000}
    assert actions(database).count("round.pots") == 1
