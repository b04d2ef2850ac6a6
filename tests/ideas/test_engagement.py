"""Supports, comments and notifications on published ideas."""

import threading
from datetime import timedelta

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from contests.models import Round
from core.models import User, utcnow
from core.outbox import deliver_all
from ideas.engagement import support
from ideas.forms import IdeaData
from ideas.models import Comment, Idea, IdeaStatus, Notification, Support
from ideas.notifications import queue_mail
from ideas.services import IdeaError, change_status, create_idea
from tests.helpers import HOSTILE, clear_of_window_edge, csrf_of, make_round, make_user, sign_in


def publish(database, setup, author_id: int, title: str = "A bench") -> Idea:
    data = IdeaData(title=title, summary="A bench near the school", description="",
                    category_id=setup.categories[0].id, district_id=setup.districts[0].id,
                    estimated_cost=1000, address="", latitude=None, longitude=None)
    with database.session(write=True) as db:
        round_ = db.get(Round, setup.round.id)
        return create_idea(db, round_, author_id, data, utcnow(), IdeaStatus.PUBLISHED)


@pytest.fixture
def supports_round(database):
    return make_round(database, phase="supports", max_supports=2)


@pytest.fixture
def resident(client: TestClient, database):
    user = make_user(database, "resident@example.kg")
    sign_in(client, "resident@example.kg")
    return user


def post(client: TestClient, path: str, page: str, **data: str):
    return client.post(path, data={**data, "csrf_token": csrf_of(client, page)},
                       headers={"Accept-Language": "en"})


def test_a_resident_supports_and_withdraws(client: TestClient, supports_round, resident,
                                           database) -> None:
    author = make_user(database, "author@example.kg")
    idea = publish(database, supports_round, author.id)
    page = f"/ideas/{idea.reference}"
    assert post(client, f"{page}/support", page).status_code == 303
    assert "1 resident supports this idea." in client.get(
        page, headers={"Accept-Language": "en"}).text
    again = post(client, f"{page}/support", page)
    assert again.status_code == 303
    assert "You already support" in client.get(page, headers={"Accept-Language": "en"}).text
    post(client, f"{page}/unsupport", page)
    with database.session() as db:
        assert db.exec(select(Idea.support_count)).one() == 0
        assert db.exec(select(Support)).all() == []


def test_the_round_limits_supports_per_person(client: TestClient, supports_round, resident,
                                              database) -> None:
    author = make_user(database, "author@example.kg")
    ideas = [publish(database, supports_round, author.id, f"Idea {i}") for i in range(3)]
    for idea in ideas:
        post(client, f"/ideas/{idea.reference}/support", f"/ideas/{idea.reference}")
    with database.session() as db:
        assert len(db.exec(select(Support)).all()) == 2
    page = client.get(f"/ideas/{ideas[2].reference}", headers={"Accept-Language": "en"}).text
    assert "You have used all 2 of your supports" in page


def test_supports_are_closed_outside_their_phase(client: TestClient, database,
                                                 resident) -> None:
    setup = make_round(database, phase="voting")
    author = make_user(database, "author@example.kg")
    idea = publish(database, setup, author.id)
    response = post(client, f"/ideas/{idea.reference}/support", f"/ideas/{idea.reference}")
    assert response.status_code == 403


def test_simultaneous_clicks_leave_exactly_one_support(supports_round, database) -> None:
    author = make_user(database, "author@example.kg")
    voter = make_user(database, "voter@example.kg")
    idea = publish(database, supports_round, author.id)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def click() -> None:
        barrier.wait()
        try:
            with database.session(write=True) as db:
                support(db, db.get(Idea, idea.id), db.get(Round, supports_round.round.id),
                        voter.id, utcnow())
            outcomes.append("ok")
        except IdeaError:
            outcomes.append("refused")

    threads = [threading.Thread(target=click) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] + ["refused"] * 7
    with database.session() as db:
        assert db.exec(select(Idea.support_count)).one() == 1
        assert len(db.exec(select(Support)).all()) == 1


def test_simultaneous_supports_never_exceed_the_limit(supports_round, database) -> None:
    authors = [make_user(database, f"author{i}@example.kg") for i in range(3)]
    voter = make_user(database, "voter@example.kg")
    ideas = [publish(database, supports_round, authors[i % 3].id, f"Idea {i}")
             for i in range(6)]
    barrier = threading.Barrier(len(ideas))

    def click(idea: Idea) -> None:
        barrier.wait()
        try:
            with database.session(write=True) as db:
                support(db, db.get(Idea, idea.id), db.get(Round, supports_round.round.id),
                        voter.id, utcnow())
        except IdeaError:
            pass

    threads = [threading.Thread(target=click, args=(i,)) for i in ideas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with database.session() as db:
        assert len(db.exec(select(Support)).all()) == 2


def test_comments_and_one_level_of_replies(client: TestClient, app, database) -> None:
    setup = make_round(database, phase="submission")
    author = make_user(database, "author@example.kg", name="Author")
    idea = publish(database, setup, author.id)
    page = f"/ideas/{idea.reference}"
    first = TestClient(app, follow_redirects=False)
    make_user(database, "a@example.kg", name=f"Anna {HOSTILE}")
    sign_in(first, "a@example.kg")
    post(first, f"{page}/comments", page, body=f"Good idea {HOSTILE}")
    with database.session() as db:
        top = db.exec(select(Comment)).one()
    post(first, f"{page}/comments", page, body="A reply", parent=str(top.id))
    with database.session() as db:
        reply = db.exec(select(Comment).where(Comment.parent_id == top.id)).one()
    post(first, f"{page}/comments", page, body="Reply to the reply", parent=str(reply.id))
    with database.session() as db:
        comments = db.exec(select(Comment).order_by(Comment.id)).all()
        assert [c.parent_id for c in comments] == [None, top.id, top.id]
        assert db.exec(select(Idea.comment_count)).one() == 3
    html = client.get(page).text
    assert "Good idea &lt;script&gt;" in html and HOSTILE not in html


def test_a_comment_is_editable_for_a_short_while_only(client: TestClient, app, database) -> None:
    setup = make_round(database)
    author = make_user(database, "author@example.kg")
    idea = publish(database, setup, author.id)
    make_user(database, "a@example.kg")
    sign_in(client, "a@example.kg")
    page = f"/ideas/{idea.reference}"
    post(client, f"{page}/comments", page, body="Frist")
    with database.session() as db:
        comment = db.exec(select(Comment)).one()
    edit = f"/comments/{comment.id}/edit"
    assert post(client, edit, edit, body="First").status_code == 303
    with database.session(write=True) as db:
        row = db.get(Comment, comment.id)
        row.created_at = utcnow() - timedelta(minutes=16)
        db.add(row)
    assert client.get(edit).status_code == 403
    other = TestClient(app, follow_redirects=False)
    make_user(database, "b@example.kg")
    sign_in(other, "b@example.kg")
    assert other.get(edit).status_code == 403


def test_hidden_comments_show_as_hidden(client: TestClient, database) -> None:
    setup = make_round(database)
    author = make_user(database, "author@example.kg")
    idea = publish(database, setup, author.id)
    with database.session(write=True) as db:
        db.add(Comment(idea_id=idea.id, author_id=author.id, body="Secret insult",
                       hidden_at=utcnow(), hidden_reason="Offensive"))
    html = client.get(f"/ideas/{idea.reference}", headers={"Accept-Language": "en"}).text
    assert "Secret insult" not in html and "hidden by the moderators" in html


def test_fast_commenting_gets_429(client: TestClient, database) -> None:
    setup = make_round(database)
    author = make_user(database, "author@example.kg")
    idea = publish(database, setup, author.id)
    make_user(database, "a@example.kg")
    sign_in(client, "a@example.kg")
    page = f"/ideas/{idea.reference}"
    clear_of_window_edge(60, client.app)
    statuses = [post(client, f"{page}/comments", page, body=f"c{i}").status_code
                for i in range(6)]
    assert statuses == [303] * 5 + [429]


def test_the_author_hears_about_comments_and_status_changes(mail_client: TestClient, mail_sink,
                                                            mail_app, database) -> None:
    sink, _port = mail_sink
    setup = make_round(database)
    author = make_user(database, "author@example.kg")
    with database.session(write=True) as db:
        db.get(User, author.id).locale = "ky"
    idea = publish(database, setup, author.id)
    moderator = make_user(database, "mod@example.kg", roles=("moderator",))
    with database.session(write=True) as db:
        fresh = db.get(Idea, idea.id)
        notices = change_status(db, fresh, IdeaStatus.REJECTED, moderator.id, fresh.version,
                                utcnow(), public_note="Not a city matter")
        queue_mail(db, mail_app.state.settings, notices, utcnow())
    deliver_all(database, mail_app.state.settings)
    message = sink.messages[-1]
    assert message["To"] == "author@example.kg"
    body = sink.last_body()
    assert idea.reference in body and "Not a city matter" in body
    assert "Четке кагылды" in body  # in the author's language, Kyrgyz

    make_user(database, "c@example.kg")
    sign_in(mail_client, "c@example.kg")
    with database.session(write=True) as db:
        db.get(Idea, idea.id).status = IdeaStatus.PUBLISHED
    page = f"/ideas/{idea.reference}"
    post(mail_client, f"{page}/comments", page, body="Nice")
    assert len(sink.messages) == 2

    sign_in(mail_client, "author@example.kg")
    listing = mail_client.get("/notifications").text  # the author reads Kyrgyz
    assert 'lang="ky"' in listing and f'href="/ideas/{idea.reference}"' in listing
    assert listing.count('class="unread"') == 2
    post(mail_client, "/notifications/read", "/notifications")
    with database.session() as db:
        assert all(n.read_at for n in db.exec(select(Notification)).all())


def test_no_mail_for_people_who_turned_it_off(mail_client: TestClient, mail_sink, mail_app,
                                              database) -> None:
    sink, _port = mail_sink
    setup = make_round(database)
    author = make_user(database, "author@example.kg")
    with database.session(write=True) as db:
        db.get(User, author.id).email_notifications = False
    idea = publish(database, setup, author.id)
    make_user(database, "c@example.kg")
    sign_in(mail_client, "c@example.kg")
    page = f"/ideas/{idea.reference}"
    post(mail_client, f"{page}/comments", page, body="Nice")
    assert sink.messages == []
    with database.session() as db:
        assert len(db.exec(select(Notification)).all()) == 1  # still in the app
