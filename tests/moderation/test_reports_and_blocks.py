"""Residents report content; moderators resolve reports and block accounts."""

import csv
import io

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from core.models import AuditEntry, Block
from ideas.models import Comment, Idea
from moderation.models import Report
from tests.helpers import HOSTILE, csrf_of, make_round, make_user, sign_in
from tests.moderation.test_decisions import submitted


@pytest.fixture
def published(database, app):
    setup = make_round(database, phase="supports")
    author = make_user(database, "author@example.kg")
    idea = submitted(database, setup, author.id)
    with database.session(write=True) as db:
        row = db.get(Idea, idea.id)
        row.status = "published"
        db.add(row)
    return setup, author, idea


def reporter(app, database, n: int) -> TestClient:
    make_user(database, f"r{n}@example.kg")
    client = TestClient(app, follow_redirects=False)
    sign_in(client, f"r{n}@example.kg")
    return client


def report(client: TestClient, path: str, reason: str = "spam"):
    return client.post(path, data={"reason": reason, "note": f"Look {HOSTILE}",
                                   "csrf_token": csrf_of(client, path)},
                       headers={"Accept-Language": "en"})


def test_a_resident_reports_once(app, database, published) -> None:
    _setup, _author, idea = published
    client = reporter(app, database, 1)
    path = f"/ideas/{idea.reference}/report"
    assert report(client, path).status_code == 303
    report(client, path)
    assert "already reported" in client.get(f"/ideas/{idea.reference}",
                                             headers={"Accept-Language": "en"}).text
    with database.session() as db:
        assert len(db.exec(select(Report)).all()) == 1


def test_a_report_needs_a_reason(app, database, published) -> None:
    _s, _a, idea = published
    client = reporter(app, database, 1)
    response = report(client, f"/ideas/{idea.reference}/report", reason="because")
    assert response.status_code == 422 and "Choose a reason" in response.text


def test_three_reports_hide_an_idea_until_a_moderator_decides(app, database,
                                                              published) -> None:
    _setup, _author, idea = published
    public = TestClient(app)
    for n in range(3):
        report(reporter(app, database, n), f"/ideas/{idea.reference}/report")
        expected = 200 if n < 2 else 404
        assert public.get(f"/ideas/{idea.reference}").status_code == expected
    author = TestClient(app, follow_redirects=False)
    sign_in(author, "author@example.kg")
    page = author.get(f"/ideas/{idea.reference}", headers={"Accept-Language": "en"}).text
    assert "hidden after reports from residents" in page
    make_user(database, "mod@example.kg", roles=("moderator",))
    moderator = TestClient(app, follow_redirects=False)
    sign_in(moderator, "mod@example.kg")
    queue = moderator.get("/moderation/reports").text
    assert idea.reference in queue and HOSTILE not in queue
    moderator.post("/moderation/reports/resolve", data={
        "target_type": "idea", "target_id": str(idea.id), "resolution": "dismiss",
        "csrf_token": csrf_of(moderator, "/moderation/reports")})
    assert public.get(f"/ideas/{idea.reference}").status_code == 200
    with database.session() as db:
        assert all(r.resolution == "dismissed" for r in db.exec(select(Report)))
        assert "reports.dismissed" in db.exec(select(AuditEntry.action)).all()


def test_an_upheld_comment_report_hides_the_comment(app, database, published) -> None:
    _setup, author, idea = published
    with database.session(write=True) as db:
        comment = Comment(idea_id=idea.id, author_id=author.id, body="Buy cheap watches")
        db.add(comment)
    report(reporter(app, database, 1), f"/comments/{comment.id}/report")
    make_user(database, "mod@example.kg", roles=("moderator",))
    moderator = TestClient(app, follow_redirects=False)
    sign_in(moderator, "mod@example.kg")
    moderator.post("/moderation/reports/resolve", data={
        "target_type": "comment", "target_id": str(comment.id), "resolution": "uphold",
        "public_reason": "Advertising", "csrf_token": csrf_of(moderator, "/moderation")})
    page = TestClient(app).get(f"/ideas/{idea.reference}", headers={"Accept-Language": "en"})
    assert "Buy cheap watches" not in page.text and "Advertising" in page.text


def test_a_blocked_person_reads_but_cannot_write(app, database, published) -> None:
    _setup, _author, idea = published
    troll = make_user(database, "troll@example.kg")
    make_user(database, "mod@example.kg", roles=("moderator",))
    moderator = TestClient(app, follow_redirects=False)
    sign_in(moderator, "mod@example.kg")
    blocked = moderator.post(f"/moderation/users/{troll.id}/block", data={
        "reason": "Repeated insults", "ends": "2099-01-01",
        "csrf_token": csrf_of(moderator, "/moderation")})
    assert blocked.status_code == 303
    client = TestClient(app, follow_redirects=False)
    sign_in(client, "troll@example.kg")
    page = client.get(f"/ideas/{idea.reference}", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "Repeated insults" in page.text
    for path, data in ((f"/ideas/{idea.reference}/comments", {"body": "hi"}),
                       (f"/ideas/{idea.reference}/support", {}),
                       (f"/ideas/{idea.reference}/report", {"reason": "spam"})):
        response = client.post(path, data={**data, "csrf_token": csrf_of(client, "/")},
                               headers={"Accept-Language": "en"})
        assert response.status_code == 403, path
        assert "Repeated insults" in response.text
    unblocked = moderator.post(f"/moderation/users/{troll.id}/unblock",
                               data={"csrf_token": csrf_of(moderator, "/moderation")})
    assert unblocked.status_code == 303
    assert client.post(f"/ideas/{idea.reference}/comments", data={
        "body": "Sorry", "csrf_token": csrf_of(client, "/")}).status_code == 303
    with database.session() as db:
        actions = db.exec(select(AuditEntry.action)).all()
        assert "account.block" in actions and "account.unblock" in actions
        assert db.exec(select(Block)).one().lifted_at is not None


def test_ideas_of_a_blocked_author_are_held(app, database) -> None:
    setup = make_round(database, phase="moderation")
    author = make_user(database, "author@example.kg")
    idea = submitted(database, setup, author.id)
    moderator_user = make_user(database, "mod@example.kg", roles=("moderator",))
    with database.session(write=True) as db:
        db.add(Block(user_id=author.id, reason="Spam", created_by_id=moderator_user.id))
    moderator = TestClient(app, follow_redirects=False)
    sign_in(moderator, "mod@example.kg")
    queue = moderator.get("/moderation", headers={"Accept-Language": "en"}).text
    assert idea.reference not in queue and "held because" in queue
    moderator.post(f"/moderation/ideas/{idea.reference}/decide", data={
        "kind": "publish", "version": str(idea.version),
        "csrf_token": csrf_of(moderator, "/moderation")})
    with database.session() as db:
        assert db.get(Idea, idea.id).status == "submitted"


def test_the_transparency_page_has_numbers_and_no_names(app, database, client) -> None:
    setup = make_round(database, phase="moderation")
    author = make_user(database, "author@example.kg", name="Secret Author")
    idea = submitted(database, setup, author.id)
    make_user(database, "mod@example.kg", roles=("moderator",), name="Secret Moderator")
    sign_in(client, "mod@example.kg")
    client.post(f"/moderation/ideas/{idea.reference}/decide", data={
        "kind": "publish", "version": str(idea.version),
        "csrf_token": csrf_of(client, "/moderation")})
    page = TestClient(app).get("/transparency", headers={"Accept-Language": "en"}).text
    assert "Published" in page and "<td>1</td>" in page
    assert "Secret" not in page and "@example.kg" not in page


def test_admins_filter_and_export_the_audit_log(app, database, client) -> None:
    make_user(database, "admin@example.kg", roles=("admin",), name="=HYPERLINK(evil)")
    person = make_user(database, "p@example.kg")
    sign_in(client, "admin@example.kg")
    for role in ("moderator", "jury"):
        client.post(f"/admin/users/{person.id}/roles", data={
            "role": role, "action": "grant", "csrf_token": csrf_of(client, "/admin")})
    filtered = client.get("/admin/audit", params={"action": "role.", "actor": "admin@"})
    assert filtered.text.count("role.grant") == 2
    export = client.get("/admin/audit.csv", params={"action": "role.grant"})
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][:5] == ["id", "at_utc", "actor_id", "actor", "action"]
    assert len(rows) == 3 and all(r[4] == "role.grant" for r in rows[1:])
    assert rows[1][3].startswith("'=")  # no formula reaches a spreadsheet
    none = client.get("/admin/audit", params={"since": "2999-01-01"})
    assert "role.grant" not in none.text
