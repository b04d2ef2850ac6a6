"""What everyone sees: the list of winning projects with its status filter, the tracking
section on winners' idea pages only, and the open data."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from starlette.testclient import TestClient

from core.db import Database
from ideas.models import Idea
from tests.helpers import csrf_of
from tests.tracking.test_tracking_progress import jpeg_with_gps
from tests.tracking.tracking_factories import make_published_round, report, staff


def test_the_list_shows_winners_with_their_progress_and_filters_by_status(
        client: TestClient, app: Any, database: Database) -> None:
    published = make_published_round(database)
    admin = staff(app, database, "admin@example.kg", "admin")
    first, second = published.winners[:2]
    assert report(admin, first, status="done", progress="100").status_code == 303
    assert report(admin, second, status="in_progress", progress="25").status_code == 303

    page = client.get("/projects").text
    for ref in published.winners:
        assert f'href="/ideas/{ref}#tracking"' in page
    for ref in published.losers:
        assert f"/ideas/{ref}#" not in page
    assert '<progress max="100" value="25" aria-hidden="true"></progress>' in page
    assert "Progress: 25%" in page and "&lt;script&gt;" in page and "<script>alert" not in page
    assert f"All ({len(published.winners)})" in page and "Done (1)" in page
    assert "/manage" not in page

    done = client.get("/projects?status=done").text
    assert f"/ideas/{first}#" in done and f"/ideas/{second}#" not in done
    assert 'href="/projects?status=done" aria-current="page"' in done
    nothing = client.get("/projects?status=cancelled").text
    assert "No project has this status." in nothing
    # An unknown status is ignored rather than echoed or failing.
    odd = client.get("/projects?status=%3Cscript%3E")
    assert odd.status_code == 200 and f"/ideas/{second}#" in odd.text
    assert f'href="/projects/{first}/manage"' in admin.get("/projects").text


def test_a_project_that_did_not_win_has_no_tracking(client: TestClient, app: Any,
                                                    database: Database) -> None:
    published = make_published_round(database)
    loser = published.losers[0]
    page = client.get(f"/ideas/{loser}")
    assert page.status_code == 200
    assert 'id="tracking"' not in page.text and "This project did not win." in page.text
    admin = staff(app, database, "admin@example.kg", "admin")
    assert admin.get(f"/projects/{loser}/manage").status_code == 404
    assert report_status(admin, loser) == 404
    follow = admin.post(f"/projects/{loser}/follow", data={"csrf_token": csrf_of(admin, "/")})
    assert follow.status_code == 404
    assert loser not in {p["reference"] for p in client.get("/api/projects").json()["projects"]}


def test_the_jury_s_changes_decide_who_is_tracked(client: TestClient,
                                                 database: Database) -> None:
    published = make_published_round(database, overrule=True)
    assert published.added in published.winners
    assert published.removed not in published.winners
    assert 'id="tracking"' in client.get(f"/ideas/{published.added}").text
    assert 'id="tracking"' not in client.get(f"/ideas/{published.removed}").text


def report_status(admin: TestClient, reference: str) -> int:
    data = {"status": "done", "progress": "100", "version": "0",
            "csrf_token": csrf_of(admin, "/projects")}
    return int(admin.post(f"/projects/{reference}/manage", data=data).status_code)


def test_nothing_is_tracked_before_the_results_are_published(client: TestClient, app: Any,
                                                             database: Database) -> None:
    counted = make_published_round(database, publish_it=False)
    assert counted.winners == []
    with database.session() as s:
        refs = [i.reference for i in s.exec(select(Idea)).all()]
    for ref in refs:
        assert 'id="tracking"' not in client.get(f"/ideas/{ref}").text
    assert "No results are published yet." in client.get("/projects").text
    assert client.get("/api/projects").json()["projects"] == []
    admin = staff(app, database, "admin@example.kg", "admin")
    assert admin.get(f"/projects/{refs[0]}/manage").status_code == 404


def test_a_hidden_winner_leaves_the_list_and_its_photos_go_with_it(
        client: TestClient, app: Any, database: Database) -> None:
    published = make_published_round(database)
    ref = published.winners[0]
    admin = staff(app, database, "admin@example.kg", "admin")
    assert report(admin, ref, body="News.", alt1="Fence",
                  files={"photo1": ("f.jpg", jpeg_with_gps(), "image/jpeg")}
                  ).status_code == 303
    photo = client.get("/api/projects").json()["projects"][0]["updates"][0]["photos"][0]
    path = photo["url"].removeprefix("http://testserver")
    assert client.get(path).status_code == 200
    with database.session(write=True) as s:
        idea = s.exec(select(Idea).where(Idea.reference == ref)).one()
        from core.models import utcnow

        idea.hidden_at, idea.hidden_reason = utcnow(), "moderators"
        s.add(idea)
    assert f"/ideas/{ref}#" not in client.get("/projects").text
    assert client.get(path).status_code == 404
    assert ref not in {p["reference"] for p in client.get("/api/projects").json()["projects"]}


def test_the_open_data_carries_status_progress_and_dated_updates(
        client: TestClient, app: Any, database: Database) -> None:
    published = make_published_round(database)
    admin = staff(app, database, "admin@example.kg", "admin")
    first = published.winners[0]
    assert report(admin, first, status="in_progress", progress="40", body="Started.",
                  alt1="Workers lay paving",
                  files={"photo1": ("p.jpg", jpeg_with_gps(), "image/jpeg")}
                  ).status_code == 303
    assert report(admin, first, status="cancelled", progress="40",
                  reason="Flooded site.").status_code == 303
    response = client.get("/api/projects")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    data = response.json()
    assert data["statuses"] == ["planned", "in_progress", "done", "cancelled"]
    projects = {p["reference"]: p for p in data["projects"]}
    assert set(projects) == set(published.winners)
    tracked = projects[first]
    assert (tracked["status"], tracked["progress"]) == ("cancelled", 40)
    assert tracked["cancel_reason"] == "Flooded site."
    assert tracked["round_id"] == published.round.id and tracked["cost"] > 0
    latest, earlier = tracked["updates"]
    assert (latest["status"], latest["status_changed"]) == ("cancelled", True)
    assert earlier["text"] == "Started." and earlier["progress"] == 40
    assert earlier["photos"][0]["alt"] == "Workers lay paving"
    untouched = projects[published.winners[1]]
    assert (untouched["status"], untouched["progress"], untouched["updates"]) == \
        ("planned", 0, [])
    only = client.get("/api/projects?status=cancelled").json()["projects"]
    assert [p["reference"] for p in only] == [first]
