"""Admins report the progress of winning projects: status, percent, dated updates with photos,
every save audited, two tabs never losing an update."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from PIL import Image
from sqlmodel import col, select
from starlette.testclient import TestClient

from core.db import Database
from core.models import AuditEntry
from tests.helpers import HOSTILE, csrf_of
from tests.tracking.tracking_factories import (
    VERSION_RE,
    make_published_round,
    manage_form,
    report,
    staff,
)
from tracking.models import ProjectPhoto, ProjectUpdate

GPS_TAG = 0x8825


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (800, 600), (30, 120, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(GPS_TAG)
    gps[1], gps[2], gps[3], gps[4] = "N", (42.0, 52.0, 30.0), "E", (74.0, 35.0, 10.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def published(database: Database) -> Any:
    return make_published_round(database)


@pytest.fixture
def admin(app: Any, database: Database) -> TestClient:
    return staff(app, database, "admin@example.kg", "admin")


def audit(database: Database) -> list[AuditEntry]:
    with database.session() as s:
        return list(s.exec(select(AuditEntry).where(col(AuditEntry.action).startswith(
            "tracking.")).order_by(col(AuditEntry.id))).all())


def test_a_winner_starts_planned_and_the_admin_moves_it_on(client: TestClient, admin: TestClient,
                                                           published: Any,
                                                           database: Database) -> None:
    ref = published.winners[0]
    page = client.get(f"/ideas/{ref}")
    assert "Implementation" in page.text and "Planned" in page.text
    assert '<progress max="100" value="0"' in page.text and "Progress: 0%" in page.text

    response = report(admin, ref, status="in_progress", progress="40",
                      body=f"The contractor started. {HOSTILE}")
    assert response.status_code == 303 and response.headers["location"].endswith("#tracking")

    page = client.get(f"/ideas/{ref}").text
    section = page[page.index('id="tracking"'):]
    assert "<strong>In progress</strong>" in section
    assert '<progress max="100" value="40"' in section and "Progress: 40%" in section
    assert "The contractor started. &lt;script&gt;" in section and "<script>alert" not in page
    entries = audit(database)
    assert [e.action for e in entries] == ["tracking.status"]
    details = json.loads(entries[0].details)
    assert (details["from_status"], details["status"]) == ("planned", "in_progress")
    assert (details["from_progress"], details["progress"]) == (0, 40)


def test_progress_alone_and_news_alone_are_dated_entries_in_the_audit_log(
        client: TestClient, admin: TestClient, published: Any, database: Database) -> None:
    ref = published.winners[0]
    assert report(admin, ref, status="in_progress", progress="10").status_code == 303
    assert report(admin, ref, status="in_progress", progress="55 %").status_code == 303
    assert report(admin, ref, status="in_progress", progress="55",
                  body="Walls are up.").status_code == 303
    assert [e.action for e in audit(database)] == ["tracking.status", "tracking.update",
                                                   "tracking.update"]
    page = client.get(f"/ideas/{ref}").text
    assert page.count("Progress: 55%") == 3  # current state and two entries
    assert "Walls are up." in page


def test_done_means_one_hundred_percent(client: TestClient, admin: TestClient,
                                        published: Any) -> None:
    ref = published.winners[0]
    assert report(admin, ref, status="done", progress="30").status_code == 303
    page = client.get(f"/ideas/{ref}").text
    assert "<strong>Done</strong>" in page and '<progress max="100" value="100"' in page


def test_cancelling_needs_a_public_reason(client: TestClient, admin: TestClient,
                                          published: Any) -> None:
    ref = published.winners[0]
    refused = report(admin, ref, status="cancelled", progress="10")
    assert refused.status_code == 422
    assert "Say publicly why the project is cancelled." in refused.text
    assert "Planned" in client.get(f"/ideas/{ref}").text

    reason = f"The land belongs to the railway. {HOSTILE}"
    assert report(admin, ref, status="cancelled", progress="10",
                  reason=reason).status_code == 303
    page = client.get(f"/ideas/{ref}").text
    assert "Why it was cancelled: The land belongs to the railway. &lt;script&gt;" in page
    listed = client.get("/projects?status=cancelled").text
    assert "The land belongs to the railway." in listed and "Cancelled (1)" in listed


@pytest.mark.parametrize("fields, message", [
    ({"progress": "140"}, "Enter the progress as a whole number from 0 to 100."),
    ({"progress": "-5"}, "Enter the progress as a whole number from 0 to 100."),
    ({"status": "finished"}, "Choose a status."),
    ({"status": "planned", "progress": "0"}, "Nothing to save"),
])
def test_bad_reports_are_refused_with_the_reason(admin: TestClient, published: Any,
                                                 database: Database, fields: dict[str, str],
                                                 message: str) -> None:
    response = report(admin, published.winners[0], **fields)
    assert response.status_code == 422 and message in response.text
    assert audit(database) == []


def test_an_update_with_a_photo_is_published_without_its_location(
        client: TestClient, admin: TestClient, published: Any, database: Database) -> None:
    ref = published.winners[0]
    alt = f"New swings in the yard {HOSTILE}"
    response = report(admin, ref, body="Swings are in.", alt1=alt,
                      files={"photo1": ("swings.jpg", jpeg_with_gps(), "image/jpeg")})
    assert response.status_code == 303, response.text
    with database.session() as s:
        photo = s.exec(select(ProjectPhoto)).one()
    page = client.get(f"/ideas/{ref}").text
    assert 'alt="New swings in the yard &lt;script&gt;' in page
    assert f'src="/projects/photos/{photo.thumb_name}"' in page
    served = client.get(f"/projects/photos/{photo.stored_name}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert b"PhoneMaker" not in served.content
    assert not Image.open(io.BytesIO(served.content)).getexif().get_ifd(GPS_TAG)
    assert json.loads(audit(database)[0].details)["photos"] == 1


def test_a_photo_needs_alt_text_and_must_be_a_photo(admin: TestClient, published: Any,
                                                    database: Database, settings: Any) -> None:
    ref = published.winners[0]
    no_alt = report(admin, ref, body="Look.",
                    files={"photo2": ("a.jpg", jpeg_with_gps(), "image/jpeg")})
    assert no_alt.status_code == 422
    assert "Describe photo 2 for people who cannot see it." in no_alt.text
    assert "Look." in no_alt.text  # what the admin wrote is kept
    fake = report(admin, ref, body="Look.", alt1="A plan",
                  files={"photo1": ("plan.jpg", b"<html>not a photo</html>", "image/jpeg")})
    assert fake.status_code == 422
    assert "plan.jpg: Only JPEG, PNG and WebP photos are accepted." in fake.text
    with database.session() as s:
        assert s.exec(select(ProjectUpdate)).all() == []
    stored = list(settings.upload_dir.glob("*")) if settings.upload_dir.exists() else []
    assert [p for p in stored if not p.name.startswith(".")] == []


def test_two_tabs_end_in_a_friendly_message_not_a_lost_update(
        client: TestClient, app: Any, admin: TestClient, published: Any,
        database: Database) -> None:
    ref = published.winners[0]
    other = staff(app, database, "admin2@example.kg", "admin")
    tab_one = manage_form(admin, ref)
    tab_two = manage_form(other, ref)
    assert report(admin, ref, tab_one, status="in_progress", progress="50",
                  body="First admin's news.").status_code == 303
    stale = report(other, ref, tab_two, status="done", progress="100",
                   body="Second admin's news.")
    assert stale.status_code == 409
    assert "Someone else updated this project while you were writing." in stale.text
    assert "Second admin&#39;s news." in stale.text  # kept for another try
    page = client.get(f"/ideas/{ref}").text
    assert "<strong>In progress</strong>" in page and "Second admin" not in page
    # The re-rendered form shows the project as it is now, with its new version: sending
    # it again goes through.
    assert 'value="in_progress" checked' in stale.text
    again = {"version": VERSION_RE.findall(stale.text)[0], "csrf_token": tab_two["csrf_token"]}
    assert again["version"] != tab_two["version"]
    retry = report(other, ref, again, status="done", progress="100",
                   body="Second admin's news.")
    assert retry.status_code == 303
    assert "<strong>Done</strong>" in client.get(f"/ideas/{ref}").text
    with database.session() as s:
        assert len(s.exec(select(ProjectUpdate)).all()) == 2


def test_two_first_saves_of_a_never_tracked_project_do_not_both_win(
        app: Any, admin: TestClient, published: Any, database: Database) -> None:
    ref = published.winners[1]
    other = staff(app, database, "admin2@example.kg", "admin")
    tab_one, tab_two = manage_form(admin, ref), manage_form(other, ref)
    assert tab_one["version"] == tab_two["version"] == "0"
    assert report(admin, ref, tab_one, progress="5").status_code == 303
    assert report(other, ref, tab_two, progress="7").status_code == 409


@pytest.mark.parametrize("role", [None, "resident", "moderator", "jury", "clerk"])
def test_only_admins_report_progress(app: Any, database: Database, published: Any,
                                     role: str | None) -> None:
    ref = published.winners[0]
    if role is None:
        client = TestClient(app, follow_redirects=False)
    else:
        client = staff(app, database, f"{role}@example.kg",
                       *(() if role == "resident" else (role,)))
    page = client.get(f"/projects/{ref}/manage")
    posted = client.post(f"/projects/{ref}/manage",
                         data={"status": "done", "progress": "100", "version": "0",
                               "csrf_token": csrf_of(client, "/projects")})
    for response in (page, posted):
        if role is None:
            assert response.status_code == 303
            assert response.headers["location"].startswith("/signin?next=")
        else:
            assert response.status_code == 403
    assert audit(database) == []


def test_a_report_without_a_csrf_token_is_refused(admin: TestClient, published: Any,
                                                  database: Database) -> None:
    loaded = manage_form(admin, published.winners[0])
    response = report(admin, published.winners[0], {**loaded, "csrf_token": "forged"})
    assert response.status_code == 403
    assert audit(database) == []
