"""The results page, publishing through the pages, and who can see what before and after."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from core.db import Database
from core.models import AuditEntry, District
from tests.helpers import HOSTILE, csrf_of, make_user, sign_in
from tests.results.factories import make_voted_round

ROLES = ("resident", "moderator", "clerk", "jury", "admin")


def signed_in(app: Any, database: Database, role: str | None) -> TestClient:
    client = TestClient(app, follow_redirects=False, headers={"Accept-Language": "en"})
    if role is not None:
        email = f"{role}@staff.example.kg"
        make_user(database, email, roles=() if role == "resident" else (role,))
        sign_in(client, email)
    return client


def post(client: TestClient, path: str, data: dict[str, str]) -> Any:
    token = csrf_of(client, path.rsplit("/", 1)[0])
    return client.post(path, data={**data, "csrf_token": token})


def count_and_publish(client: TestClient, round_id: int, extra: dict[str, str] | None = None
                      ) -> Any:
    assert post(client, f"/rounds/{round_id}/results/count", {}).status_code == 303
    page = client.get(f"/rounds/{round_id}/results").text
    run = page.split('name="run" value="', 1)[1].split('"', 1)[0]
    return post(client, f"/rounds/{round_id}/results/publish",
                {"run": run, "statement": f"We checked. {HOSTILE}", **(extra or {})})


def exports(round_: Any, pots: dict[Any, int]) -> list[str]:
    return [f"/rounds/{round_.id}/results.csv", f"/api/rounds/{round_.id}/results",
            *[f"/rounds/{round_.id}/results/pots/{p}.pb" for p in pots.values()]]


def test_nothing_about_votes_is_reachable_before_publication(app: Any,
                                                             database: Database) -> None:
    setup = make_voted_round(database)
    jury = signed_in(app, database, "jury")
    assert post(jury, f"/rounds/{setup.round.id}/results/count", {}).status_code == 303
    clients = {role: signed_in(app, database, role) for role in (None, *ROLES)
               if role != "jury"}
    clients["jury"] = jury
    for role in (None, *ROLES):
        client = clients[role]
        page = client.get(f"/rounds/{setup.round.id}/results")
        assert page.status_code == 200
        if role in ("jury", "admin"):
            assert "Computed winners" in page.text and "Publish the results" in page.text
        else:
            assert "not published yet" in page.text
            assert "Project 1" not in page.text and "Turnout" not in page.text
        for path in exports(setup.round, setup.pots):
            assert client.get(path).status_code == 404, (role, path)
        api = client.get(f"/api/rounds/{setup.round.id}").json()
        assert api["results"] is None
        assert "Result of the vote" not in client.get("/ideas/2027-0001").text
    for role in (None, "resident", "moderator", "clerk"):
        client = clients[role]
        for action in ("count", "publish"):
            response = post(client, f"/rounds/{setup.round.id}/results/{action}",
                            {"run": "1", "statement": "x"})
            if role is None:
                assert response.status_code == 303 and "/signin" in response.headers["location"]
            else:
                assert response.status_code == 403


def test_jury_publishes_with_a_justified_change_shown_on_the_page(app: Any,
                                                                  database: Database) -> None:
    setup = make_voted_round(database)
    with database.session(write=True) as s:
        for d in s.exec(select(District)).all():
            d.population = 1000
            s.add(d)
    jury = signed_in(app, database, "jury")
    c = setup.items[0][2]
    refused = count_and_publish(jury, setup.round.id, {f"change_{c}": "yes"})
    assert refused.status_code == 422
    assert "Every change" in refused.text and "We checked. &lt;script&gt;" in refused.text
    assert f'name="change_{c}" value="yes" checked' in refused.text
    published = count_and_publish(jury, setup.round.id,
                                  {f"change_{c}": "yes", f"why_{c}": f"School asked {HOSTILE}"})
    assert published.status_code == 303
    page = TestClient(app, headers={"Accept-Language": "en"}).get(
        f"/rounds/{setup.round.id}/results")
    assert "Statement of the jury" in page.text and "We checked." in page.text
    assert "added against the computed outcome" in page.text
    assert "School asked &lt;script&gt;" in page.text and "<script>alert" not in page.text
    assert "<figcaption" in page.text and 'class="bar-label"' in page.text
    assert "0.5%" in page.text  # 5 voters of 1,000 residents in district 0
    assert "What the other rule would have chosen" in page.text
    with database.session() as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "results.publish")).one()
    data = page_json = TestClient(app).get(f"/api/rounds/{setup.round.id}/results").json()
    pot = next(p for p in page_json["pots"] if p["pot_id"] == setup.pots[0])
    assert c in pot["winners"] and c not in pot["computed"]
    assert pot["changes"][0]["justification"].startswith("School asked")
    assert data["count"]["tie_break"] == "min-cost,max-votes,lot:shaar"
    csv = TestClient(app).get(f"/rounds/{setup.round.id}/results.csv")
    assert csv.status_code == 200 and csv.text.startswith("pot_id,district_id,idea_id")
    idea = TestClient(app, headers={"Accept-Language": "en"}).get("/ideas/2027-0002").text
    assert "Result of the vote" in idea and "This project won" in idea
    assert "in order of votes" in idea
    lost = TestClient(app, headers={"Accept-Language": "en"}).get("/ideas/2027-0010").text
    assert "did not win" in lost
    # Published once: a second publication and a new count are refused.
    again = post(jury, f"/rounds/{setup.round.id}/results/count", {})
    assert "already published" in jury.get(again.headers["location"]).text


@pytest.mark.parametrize("path", ["/api/contests", "/api/rounds/{id}", "/api/rounds/{id}/ideas"])
def test_open_data_api_lists_public_things(app: Any, database: Database, path: str) -> None:
    setup = make_voted_round(database)
    response = TestClient(app).get(path.format(id=setup.round.id))
    assert response.status_code == 200
    body = json.dumps(response.json())
    assert "contest" in body or "ideas" in body or "phases" in body


def test_open_data_ideas_leave_out_drafts_and_hidden_ideas(app: Any, database: Database) -> None:
    from core.models import utcnow
    from ideas.models import Idea, IdeaStatus

    setup = make_voted_round(database)
    with database.session(write=True) as s:
        s.add(Idea(reference="2027-0901", round_id=setup.round.id, author_id=setup.author.id,
                   title="Draft idea", summary="x", status=IdeaStatus.DRAFT))
        s.add(Idea(reference="2027-0902", round_id=setup.round.id, author_id=setup.author.id,
                   title="Hidden idea", summary="x", status=IdeaStatus.PUBLISHED,
                   hidden_at=utcnow()))
    ideas = TestClient(app).get(f"/api/rounds/{setup.round.id}/ideas").json()["ideas"]
    references = {i["reference"] for i in ideas}
    assert "2027-0001" in references
    assert not references & {"2027-0901", "2027-0902"}
    assert all("votes" not in i for i in ideas)
