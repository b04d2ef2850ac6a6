"""Moderators decide on submitted ideas; every decision is a record the author hears about."""

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select
from starlette.testclient import TestClient

from contests.models import Round
from core.models import AuditEntry, utcnow
from ideas.forms import IdeaData
from ideas.models import Idea, IdeaStatus, IdeaStatusChange
from ideas.services import IdeaError, create_idea
from moderation.models import Decision, RejectionReason
from moderation.services import DecisionInput, decide
from tests.helpers import HOSTILE, csrf_of, make_round, make_user, sign_in


def submitted(database, setup, author_id: int, title: str = "Benches by the school") -> Idea:
    data = IdeaData(title=title, summary="Six benches by the school gate", description="",
                    category_id=None, district_id=None, estimated_cost=1000, address="",
                    latitude=None, longitude=None)
    with database.session(write=True) as db:
        return create_idea(db, db.get(Round, setup.round.id), author_id, data, utcnow(),
                           IdeaStatus.SUBMITTED)


@pytest.fixture
def world(client: TestClient, database):
    setup = make_round(database, phase="moderation")
    author = make_user(database, "author@example.kg")
    moderator = make_user(database, "mod@example.kg", roles=("moderator",), name="Mod")
    with database.session(write=True) as db:
        reason = RejectionReason(slug="not-city", text_ru="Не вопрос города",
                                 text_ky="Шаардын маселеси эмес", text_en="Not a city matter")
        db.add(reason)
    sign_in(client, "mod@example.kg")
    return setup, author, moderator, reason


def decide_via_web(client: TestClient, idea: Idea, **data: str):
    return client.post(f"/moderation/ideas/{idea.reference}/decide",
                       data={"version": str(idea.version), "csrf_token": csrf_of(client,
                                                                                 "/moderation"),
                             **data}, headers={"Accept-Language": "en"})


def test_the_queue_shows_submitted_ideas_oldest_first(client: TestClient, world,
                                                      database) -> None:
    setup, author, _m, _r = world
    first = submitted(database, setup, author.id, "First idea here")
    second = submitted(database, setup, author.id, f"Second {HOSTILE}")
    page = client.get("/moderation").text
    assert page.index(first.reference) < page.index(second.reference)
    assert HOSTILE not in page


def test_publishing_makes_the_idea_public_and_is_recorded(client: TestClient, app, world,
                                                          database) -> None:
    setup, author, moderator, _r = world
    idea = submitted(database, setup, author.id)
    assert TestClient(app).get(f"/ideas/{idea.reference}").status_code == 404
    assert decide_via_web(client, idea, kind="publish").status_code == 303
    assert TestClient(app).get(f"/ideas/{idea.reference}").status_code == 200
    with database.session() as db:
        decision = db.exec(select(Decision)).one()
        assert (decision.kind, decision.moderator_id, decision.to_status) == (
            "publish", moderator.id, "published")
        assert db.exec(select(AuditEntry.action)).all() == ["idea.publish"]


def test_a_rejection_needs_a_listed_reason_and_is_shown_publicly(client: TestClient, app, world,
                                                                  database) -> None:
    setup, author, _m, reason = world
    idea = submitted(database, setup, author.id)
    missing = decide_via_web(client, idea, kind="reject", public_reason="no")
    assert missing.status_code == 303
    with database.session() as db:
        assert db.get(Idea, idea.id).status == IdeaStatus.SUBMITTED
    decide_via_web(client, idea, kind="reject", reason=str(reason.id),
                   public_reason="Roads in the park belong to the state agency")
    page = TestClient(app).get(f"/ideas/{idea.reference}",
                               headers={"Accept-Language": "en"}).text
    assert "Rejected" in page and "Roads in the park belong to the state agency" in page


def test_changes_requested_go_to_the_author_in_the_app(client: TestClient, app, world,
                                                       database) -> None:
    setup, author, _m, _r = world
    idea = submitted(database, setup, author.id)
    decide_via_web(client, idea, kind="request_changes", public_reason="Add the address")
    mine = TestClient(app, follow_redirects=False)
    sign_in(mine, "author@example.kg")
    listing = mine.get("/notifications", headers={"Accept-Language": "en"}).text
    assert "Changes requested" in listing and "Add the address" in listing
    assert mine.get(f"/ideas/{idea.reference}/edit").status_code == 200


def test_a_duplicate_links_both_ways(client: TestClient, app, world, database) -> None:
    setup, author, _m, _r = world
    original = submitted(database, setup, author.id, "The original idea")
    decide_via_web(client, original, kind="publish")
    copy = submitted(database, setup, author.id, "The same idea again")
    decide_via_web(client, copy, kind="duplicate", duplicate_of=original.reference)
    public = TestClient(app)
    assert original.reference in public.get(f"/ideas/{copy.reference}").text
    assert copy.reference in public.get(f"/ideas/{original.reference}").text


def test_two_moderators_at_once_make_one_decision(world, database) -> None:
    setup, author, moderator, reason = world
    other = make_user(database, "mod2@example.kg", roles=("moderator",))
    idea = submitted(database, setup, author.id)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(who: int, kind: str) -> None:
        barrier.wait()
        try:
            with database.session(write=True) as db:
                fresh = db.get(Idea, idea.id)
                decide(db, fresh, who, DecisionInput(kind, idea.version,
                                                     reason_id=reason.id), utcnow())
            outcomes.append("ok")
        except IdeaError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=act, args=(moderator.id, "publish")),
               threading.Thread(target=act, args=(other.id, "reject"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    with database.session() as db:
        assert len(db.exec(select(Decision)).all()) == 1
        changes = db.exec(select(IdeaStatusChange).where(
            IdeaStatusChange.to_status != "submitted")).all()
        assert len(changes) == 1


def test_the_second_moderator_gets_a_clear_message(client: TestClient, world, database) -> None:
    setup, author, _m, _r = world
    idea = submitted(database, setup, author.id)
    decide_via_web(client, idea, kind="publish")
    late = client.post(f"/moderation/ideas/{idea.reference}/decide", data={
        "kind": "request_changes", "public_reason": "x", "version": str(idea.version),
        "csrf_token": csrf_of(client, "/moderation")},
        headers={"HX-Request": "true", "Accept-Language": "en"})
    assert late.status_code == 409
    assert "<html" not in late.text
    assert "no longer waiting" in late.text or "changed in the meantime" in late.text


def test_htmx_gets_the_decided_fragment(client: TestClient, world, database) -> None:
    setup, author, _m, _r = world
    idea = submitted(database, setup, author.id)
    response = client.post(f"/moderation/ideas/{idea.reference}/decide", data={
        "kind": "publish", "version": str(idea.version),
        "csrf_token": csrf_of(client, "/moderation")}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert f'id="item-{idea.id}"' in response.text and "<html" not in response.text


def test_moderators_hide_and_unhide_with_a_public_reason(client: TestClient, app, world,
                                                         database) -> None:
    setup, author, _m, _r = world
    idea = submitted(database, setup, author.id)
    decide_via_web(client, idea, kind="publish")
    with database.session() as db:
        idea = db.get(Idea, idea.id)
    decide_via_web(client, idea, kind="hide", public_reason="Personal data in the photo")
    assert TestClient(app).get(f"/ideas/{idea.reference}").status_code == 404
    mine = TestClient(app, follow_redirects=False)
    sign_in(mine, "author@example.kg")
    assert "Personal data in the photo" in mine.get(f"/ideas/{idea.reference}").text
    with database.session() as db:
        idea = db.get(Idea, idea.id)
    decide_via_web(client, idea, kind="unhide")
    assert TestClient(app).get(f"/ideas/{idea.reference}").status_code == 200


def test_the_author_gets_the_decision_by_mail(mail_client: TestClient, mail_sink, database) -> None:
    sink, _port = mail_sink
    setup = make_round(database, phase="moderation")
    author = make_user(database, "author@example.kg")
    make_user(database, "mod@example.kg", roles=("moderator",))
    sign_in(mail_client, "mod@example.kg")
    idea = submitted(database, setup, author.id)
    mail_client.post(f"/moderation/ideas/{idea.reference}/decide", data={
        "kind": "request_changes", "public_reason": "Please add a photo",
        "version": str(idea.version), "csrf_token": csrf_of(mail_client, "/moderation")})
    assert sink.messages[-1]["To"] == "author@example.kg"
    assert "Please add a photo" in sink.last_body() and idea.reference in sink.last_body()


@pytest.mark.parametrize("statement", [
    "UPDATE auditentry SET action = 'forged'",
    "DELETE FROM auditentry",
    "UPDATE decision SET kind = 'publish'",
    "DELETE FROM decision",
])
def test_the_database_refuses_to_rewrite_the_record(client: TestClient, world, database,
                                                    statement) -> None:
    setup, author, _m, _r = world
    idea = submitted(database, setup, author.id)
    decide_via_web(client, idea, kind="publish")
    with pytest.raises(DBAPIError, match="append-only"):
        with database.session(write=True) as db:
            db.execute(text(statement))
    with database.session() as db:
        assert db.exec(select(AuditEntry.action)).all() == ["idea.publish"]
        assert db.exec(select(Decision.kind)).all() == ["publish"]
