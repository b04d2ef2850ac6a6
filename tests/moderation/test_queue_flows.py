"""What a moderator notices: counts that follow in-place decisions, and a review page that
shows everything the author sent (photos, category, address, map point)."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from contests.models import Category
from ideas.models import Attachment, Idea
from tests.helpers import csrf_of
from tests.moderation.test_decisions import submitted, world  # noqa: F401


def _count(html: str, label: str) -> int:
    match = re.search(rf"<dt>{label}</dt><dd>(\d+)</dd>", html)
    assert match, label
    return int(match.group(1))


def test_counts_at_the_top_follow_an_in_place_decision(client: TestClient, world,  # noqa: F811
                                                       database) -> None:
    setup, author, _m, _r = world
    first = submitted(database, setup, author.id, "First idea here")
    submitted(database, setup, author.id, "Second idea here")
    queue = client.get("/moderation", headers={"Accept-Language": "en"}).text
    assert 'id="queue-counts"' in queue
    assert _count(queue, "Submitted") == 2

    response = client.post(f"/moderation/ideas/{first.reference}/decide", data={
        "kind": "publish", "version": str(first.version), "back": "/moderation",
        "csrf_token": csrf_of(client, "/moderation")},
        headers={"HX-Request": "true", "Accept-Language": "en"})
    assert response.status_code == 200
    assert 'id="queue-counts" hx-swap-oob="outerHTML"' in response.text
    oob = response.text[response.text.index('id="queue-counts"'):]
    assert _count(oob, "Published") == 1


def test_the_review_page_shows_photos_category_address_and_map_point(
        client: TestClient, world, database) -> None:  # noqa: F811
    setup, author, _m, _r = world
    idea = submitted(database, setup, author.id)
    with database.session(write=True) as db:
        category = Category(slug="parks", name_ru="Парки", name_ky="Сейил бактар",
                            name_en="Parks and squares")
        db.add(category)
        db.flush()
        row = db.get(Idea, idea.id)
        assert row is not None
        row.category_id, row.address = category.id, "Chui Avenue 100"
        row.latitude, row.longitude = 42.8746, 74.5698
        db.add(row)
        db.add(Attachment(idea_id=idea.id, uploaded_by_id=author.id, kind="image",
                          stored_name="abc123.webp", thumb_name="abc123-t.webp",
                          original_name="bench.jpg", content_type="image/webp", size=10))
    page = client.get(f"/moderation/ideas/{idea.reference}",
                      headers={"Accept-Language": "en"}).text
    assert "Parks and squares" in page
    assert "Chui Avenue 100" in page
    assert "42.8746, 74.5698" in page
    assert 'src="/files/abc123-t.webp"' in page


def test_transparency_is_in_the_footer_and_counts_every_kind_of_decision(
        app, client: TestClient, world, database) -> None:  # noqa: F811
    from core.models import utcnow
    from ideas.models import Comment, IdeaStatus, IdeaStatusChange
    from moderation.services import moderate_comment

    setup, author, moderator, _r = world
    idea = submitted(database, setup, author.id)
    with database.session(write=True) as db:
        comment = Comment(idea_id=idea.id, author_id=author.id, body="Rude words")
        db.add(comment)
        db.flush()
        moderate_comment(db, comment, moderator.id, True, "Insults", utcnow())
        db.add(IdeaStatusChange(idea_id=idea.id, to_status=IdeaStatus.ADMITTED,
                                actor_id=moderator.id))
    anonymous = TestClient(app)
    home = anonymous.get("/", headers={"Accept-Language": "en"}).text
    assert 'href="/transparency"' in home[home.index("<footer"):]
    page = anonymous.get("/transparency", headers={"Accept-Language": "en"}).text
    assert "Comment hidden" in page
    assert "Jury: feasible, on to the ballot" in page
