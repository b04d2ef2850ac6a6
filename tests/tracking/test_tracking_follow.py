"""Residents follow a winning project with a plain form and hear about its progress by
e-mail (after the save has committed) and in the app."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, update
from starlette.testclient import TestClient

from core.db import Database
from core.models import User
from tests.helpers import csrf_of
from tests.tracking.tracking_factories import make_published_round, report, staff


def mails_to(sink: Any, address: str) -> list[Any]:
    return [m for m in sink.messages if m["To"] == address]


def reads_english(database: Database, email: str) -> None:
    """Mail speaks the reader's language; this reader chose English."""
    with database.session(write=True) as s:
        s.execute(update(User).where(col(User.email) == email).values(locale="en"))


def test_a_follower_hears_of_news_and_stops_when_unfollowing(
        mail_app: Any, mail_sink: Any, database: Database) -> None:
    sink, _port = mail_sink
    published = make_published_round(database)
    ref = published.winners[0]
    admin = staff(mail_app, database, "admin@example.kg", "admin")
    resident = staff(mail_app, database, "follower@example.kg")
    reads_english(database, "follower@example.kg")

    page = resident.get(f"/ideas/{ref}").text
    assert "Follow this project" in page and "0 residents follow this project." in page
    followed = resident.post(f"/projects/{ref}/follow",
                             data={"csrf_token": csrf_of(resident, f"/ideas/{ref}")})
    assert followed.status_code == 303 and followed.headers["location"].endswith("#tracking")
    page = resident.get(f"/ideas/{ref}").text
    assert "You follow this project" in page and "Stop following" in page
    assert "1 resident follows this project." in page
    # A second click (another tab) changes nothing.
    resident.post(f"/projects/{ref}/follow", data={"csrf_token": csrf_of(resident, "/")})
    assert "1 resident follows this project." in resident.get(f"/ideas/{ref}").text

    assert report(admin, ref, status="in_progress", progress="30",
                  body="Work began on Monday.").status_code == 303
    [mail] = mails_to(sink, "follower@example.kg")
    assert ref in mail["Subject"]
    body = mail.get_content()
    assert "is now: In progress, 30%" in body and "Work began on Monday." in body
    assert f"http://testserver/ideas/{ref}#tracking" in body
    # The idea's author hears too; the admin who saved does not.
    assert len(mails_to(sink, "author@example.kg")) == 1
    assert mails_to(sink, "admin@example.kg") == []
    notices = resident.get("/notifications").text
    assert f'href="/ideas/{ref}"' in notices
    assert "is now: In progress, 30% done." in notices

    # A progress nudge without news mails nobody.
    assert report(admin, ref, status="in_progress", progress="35").status_code == 303
    assert len(mails_to(sink, "follower@example.kg")) == 1

    unfollowed = resident.post(f"/projects/{ref}/unfollow",
                               data={"csrf_token": csrf_of(resident, f"/ideas/{ref}")})
    assert unfollowed.status_code == 303
    assert "Follow this project" in resident.get(f"/ideas/{ref}").text
    assert report(admin, ref, status="done", progress="100",
                  body="Finished.").status_code == 303
    assert len(mails_to(sink, "follower@example.kg")) == 1
    assert len(mails_to(sink, "author@example.kg")) == 2


def test_a_cancellation_mail_says_why(mail_app: Any, mail_sink: Any,
                                      database: Database) -> None:
    sink, _port = mail_sink
    published = make_published_round(database)
    ref = published.winners[0]
    admin = staff(mail_app, database, "admin@example.kg", "admin")
    reads_english(database, "author@example.kg")
    assert report(admin, ref, status="cancelled", progress="0",
                  reason="The site is a protected garden.").status_code == 303
    [mail] = mails_to(sink, "author@example.kg")
    assert "is cancelled. Reason: The site is a protected garden." in mail.get_content()


def test_following_needs_a_signed_in_resident_and_a_form_token(
        client: TestClient, app: Any, database: Database) -> None:
    published = make_published_round(database)
    ref = published.winners[0]
    page = client.get(f"/ideas/{ref}").text
    assert f'href="/signin?next=/ideas/{ref}">Sign in to follow this project.' in page
    anonymous = client.post(f"/projects/{ref}/follow",
                            data={"csrf_token": csrf_of(client, "/")})
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/signin?next=")
    resident = staff(app, database, "follower@example.kg")
    forged = resident.post(f"/projects/{ref}/follow", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert "0 residents follow this project." in resident.get(f"/ideas/{ref}").text
    assert resident.get(f"/projects/{ref}/follow").status_code == 405
