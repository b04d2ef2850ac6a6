"""A moderator works through a queue of five ideas with the keyboard alone."""

from typing import Any

from sqlmodel import col, select

from contests.models import Round
from core.db import make_database
from core.models import User, utcnow
from ideas.forms import IdeaData
from ideas.models import Idea, IdeaStatus
from ideas.services import create_idea
from tests.browser.conftest import ARTIFACTS


def test_five_ideas_published_by_keyboard(browser: Any, live_server: str,
                                          live_database_url: str) -> None:
    database = make_database(live_database_url)
    with database.session(write=True) as db:
        round_ = db.exec(select(Round)).first()
        round_.max_ideas_per_day = 100
        db.add(round_)
        author = db.exec(select(User).where(User.email == "resident@demo.shaar.kg")).one()
        references = []
        for i in range(5):
            data = IdeaData(title=f"Очередь {i}: урна у остановки", summary="Поставить урну у "
                            "остановки автобуса", description="", category_id=None,
                            district_id=None, estimated_cost=10_000, address="",
                            latitude=None, longitude=None)
            references.append(create_idea(db, round_, author.id, data, utcnow(),
                                          IdeaStatus.SUBMITTED).reference)
    database.dispose()
    context = browser.new_context(locale="ru")
    page = context.new_page()
    page.goto(live_server + "/signin")
    page.fill("#field-email", "moderator@demo.shaar.kg")
    page.fill("#field-password", "demo-moderator-pass")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server + "/")
    page.goto(live_server + "/moderation")
    waiting = page.locator(".queue-item").count()  # other journeys may have sent ideas too
    assert waiting >= 5
    page.keyboard.press("j")
    for i in range(waiting):
        focused = page.evaluate("() => document.activeElement.id")
        assert focused.startswith("item-"), focused
        page.keyboard.press("p")
        page.wait_for_function(
            "n => document.querySelectorAll('.queue-item.decided').length === n", arg=i + 1)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "moderation-queue-done.png"), full_page=True)
    with database.session() as db:
        statuses = db.exec(select(Idea.status).where(col(Idea.reference).in_(references))).all()
    assert statuses == ["published"] * 5
    database.dispose()
    context.close()
