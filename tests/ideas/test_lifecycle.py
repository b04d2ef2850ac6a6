"""An idea from draft to submission, as its author and others see it."""

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from ideas.models import Idea, IdeaStatus, IdeaVersion
from ideas.services import change_status
from tests.helpers import HOSTILE, csrf_of, idea_fields, make_round, make_user, set_phase, sign_in


@pytest.fixture
def setup(database):
    return make_round(database)


@pytest.fixture
def author(client: TestClient, database):
    user = make_user(database, "author@example.kg")
    sign_in(client, "author@example.kg")
    return user


def propose(client: TestClient, setup, action: str = "draft", **overrides: str):
    path = f"/rounds/{setup.round.id}/ideas/new"
    return client.post(path, data={**idea_fields(setup, **overrides), "action": action,
                                   "csrf_token": csrf_of(client, path)})


def test_a_draft_is_visible_to_its_author_only(client: TestClient, app, setup, author,
                                               database) -> None:
    response = propose(client, setup)
    assert response.status_code == 303
    reference = response.headers["location"].rsplit("/", 1)[1]
    assert reference == "2027-00001"
    page = client.get(f"/ideas/{reference}", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "Only you and the moderators" in page.text
    assert HOSTILE not in page.text and "Benches &lt;script&gt;" in page.text
    assert '<a href="https://bishkek.kg" rel="nofollow' in page.text
    assert "450,000 som" in page.text

    stranger = TestClient(app, follow_redirects=False)
    assert stranger.get(f"/ideas/{reference}").status_code == 404
    make_user(database, "other@example.kg")
    sign_in(stranger, "other@example.kg")
    assert stranger.get(f"/ideas/{reference}").status_code == 404
    assert stranger.get(f"/ideas/{reference}/edit").status_code == 404
    assert reference not in client.get("/ideas").text  # not in the public list either
    assert reference in client.get("/my/ideas").text


def test_submitting_keeps_a_version_and_stops_editing(client: TestClient, setup, author,
                                                      database) -> None:
    reference = propose(client, setup).headers["location"].rsplit("/", 1)[1]
    with database.session() as db:
        version = db.exec(select(Idea.version)).one()
    submitted = client.post(f"/ideas/{reference}/submit", data={
        "version": str(version), "csrf_token": csrf_of(client, f"/ideas/{reference}")})
    assert submitted.status_code == 303
    with database.session() as db:
        idea = db.exec(select(Idea)).one()
        assert idea.status == IdeaStatus.SUBMITTED
        assert [v.title for v in db.exec(select(IdeaVersion)).all()] == [idea.title]
    assert client.get(f"/ideas/{reference}/edit").status_code == 403
    edit = client.post(f"/ideas/{reference}/edit", data={
        **idea_fields(setup, title="Sneaky change"), "version": str(idea.version),
        "csrf_token": csrf_of(client, f"/ideas/{reference}")})
    assert edit.status_code == 403


def test_changes_requested_reopens_editing_and_resubmission_keeps_both_versions(
        client: TestClient, setup, author, database) -> None:
    reference = propose(client, setup, action="submit").headers["location"].rsplit("/", 1)[1]
    moderator = make_user(database, "mod@example.kg", roles=("moderator",))
    with database.session(write=True) as db:
        idea = db.exec(select(Idea)).one()
        change_status(db, idea, IdeaStatus.CHANGES_REQUESTED, moderator.id, idea.version,
                      idea.updated_at, public_note="Please add the address")
    set_phase(database, setup.round.id, "moderation")  # resubmission is still allowed
    with database.session() as db:
        version = db.exec(select(Idea.version)).one()
    edit = client.post(f"/ideas/{reference}/edit", data={
        **idea_fields(setup, title="Benches, with the address"), "version": str(version),
        "csrf_token": csrf_of(client, f"/ideas/{reference}/edit")})
    assert edit.status_code == 303
    resubmit = client.post(f"/ideas/{reference}/submit", data={
        "version": str(version + 1), "csrf_token": csrf_of(client, f"/ideas/{reference}")})
    assert resubmit.status_code == 303
    with database.session() as db:
        titles = [v.title for v in db.exec(select(IdeaVersion).order_by(IdeaVersion.number))]
    assert titles == [f"Benches {HOSTILE}", "Benches, with the address"]
    page = client.get(f"/ideas/{reference}", headers={"Accept-Language": "en"}).text
    assert "Please add the address" in page  # the public note is on the timeline


def test_an_edit_from_a_stale_page_is_refused(client: TestClient, setup, author,
                                              database) -> None:
    reference = propose(client, setup).headers["location"].rsplit("/", 1)[1]
    token = csrf_of(client, f"/ideas/{reference}/edit")
    first = client.post(f"/ideas/{reference}/edit", data={
        **idea_fields(setup, title="First tab"), "version": "1", "csrf_token": token})
    second = client.post(f"/ideas/{reference}/edit", data={
        **idea_fields(setup, title="Second tab"), "version": "1", "csrf_token": token},
        headers={"Accept-Language": "en"})
    assert first.status_code == 303
    assert second.status_code == 409 and "changed in the meantime" in second.text
    assert 'value="Second tab"' in second.text  # nothing typed is lost
    with database.session() as db:
        assert db.exec(select(Idea.title)).one() == "First tab"


def test_withdrawing_an_idea(client: TestClient, setup, author, database) -> None:
    reference = propose(client, setup, action="submit").headers["location"].rsplit("/", 1)[1]
    response = client.post(f"/ideas/{reference}/withdraw", data={
        "version": "2", "csrf_token": csrf_of(client, f"/ideas/{reference}")})
    assert response.status_code == 303
    with database.session() as db:
        assert db.exec(select(Idea.status)).one() == IdeaStatus.WITHDRAWN


@pytest.mark.parametrize("field, value, message", [
    ("title", "Hi", "Write at least 5 characters."),
    ("title", "x" * 151, "Use at most 150 characters."),
    ("summary", "", "Write at least 10 characters."),
    ("category", "", "Choose one of the options."),
    ("category", "999", "Choose one of the listed options."),
    ("district", "abc", "Choose one of the listed options."),
    ("estimated_cost", "", "Enter an estimated cost in som."),
    ("estimated_cost", "-5", "Enter the cost as a whole number of som"),
    ("estimated_cost", "1e9", "Enter the cost as a whole number of som"),
    ("latitude", "north", "Enter a number between -90 and 90."),
    ("longitude", "", "Give both latitude and longitude, or neither."),
    ("description", "x" * 10_001, "Use at most 10000 characters."),
])
def test_every_field_is_checked_and_the_form_comes_back(client: TestClient, setup, author,
                                                        field, value, message) -> None:
    path = f"/rounds/{setup.round.id}/ideas/new"
    response = client.post(path, data={**idea_fields(setup, **{field: value}),
                                       "csrf_token": csrf_of(client, path)},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert message in response.text
    assert f'id="error-{field}"' in response.text
    kept = idea_fields(setup)["summary"] if field != "summary" else None
    if kept:
        assert kept in response.text


def test_ideas_can_only_be_proposed_while_the_round_takes_them(client: TestClient, setup,
                                                               author, database) -> None:
    set_phase(database, setup.round.id, "voting")
    assert client.get(f"/rounds/{setup.round.id}/ideas/new").status_code == 403
    assert propose(client, setup).status_code == 403


def test_a_verified_only_round_refuses_unverified_residents(client: TestClient, database,
                                                            author) -> None:
    setup = make_round(database, verified_only=True)
    response = client.get(f"/rounds/{setup.round.id}/ideas/new",
                          headers={"Accept-Language": "en"})
    assert response.status_code == 403 and "verified residents" in response.text


def test_the_daily_limit_answers_429_and_keeps_the_text(client: TestClient, setup,
                                                        author) -> None:
    statuses = [propose(client, setup, title=f"Idea number {i}").status_code
                for i in range(4)]
    assert statuses == [303, 303, 303, 429]


def test_anonymous_people_are_asked_to_sign_in_to_propose(client: TestClient, setup) -> None:
    response = client.get(f"/rounds/{setup.round.id}/ideas/new")
    assert response.status_code == 303 and response.headers["location"].startswith("/signin")


def test_moderators_see_submitted_ideas_but_not_drafts(client: TestClient, app, setup, author,
                                                       database) -> None:
    draft = propose(client, setup).headers["location"].rsplit("/", 1)[1]
    sent = propose(client, setup, action="submit", title="Second idea").headers[
        "location"].rsplit("/", 1)[1]
    make_user(database, "mod@example.kg", roles=("moderator",))
    moderator = TestClient(app, follow_redirects=False)
    sign_in(moderator, "mod@example.kg")
    assert moderator.get(f"/ideas/{sent}").status_code == 200
    assert moderator.get(f"/ideas/{draft}").status_code == 404


def test_a_post_refused_by_the_daily_limit_decodes_no_photo(client: TestClient, setup, author,
                                                           monkeypatch) -> None:
    import io

    from PIL import Image
    for i in range(3):
        assert propose(client, setup, title=f"Idea number {i}").status_code == 303
    decodes: list[object] = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: decodes.append(a) or real_open(*a, **k))
    photo = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(photo, "PNG")
    path = f"/rounds/{setup.round.id}/ideas/new"
    response = client.post(path, data={**idea_fields(setup, title="One too many"),
                                       "action": "draft", "csrf_token": csrf_of(client, path)},
                           files=[("photos", ("p.png", photo.getvalue(), "image/png"))])
    assert response.status_code == 429
    assert decodes == []
