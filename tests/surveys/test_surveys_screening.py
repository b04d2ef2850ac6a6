"""Written answers pass the moderators before they are published (and never with anything
about who wrote them); per-district satisfaction with suppression; trends of every rating."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from starlette.testclient import TestClient

from core.db import Database
from core.models import utcnow
from surveys import screening, services
from surveys.models import SurveyResponse
from surveys.results import district_breakdown, sparkline
from surveys.template import questions as template_questions
from tests.helpers import csrf_of, make_user, sign_in
from tests.surveys.factories import make_survey

HOSTILE = "<script>alert(1)</script>"


def moderator(app: Any, database: Database) -> TestClient:
    client = TestClient(app, follow_redirects=False, headers={"Accept-Language": "en"})
    make_user(database, "mod@example.kg", roles=("moderator",))
    sign_in(client, "mod@example.kg")
    return client


def fill(database: Database, wave_id: int, d1: int, d2: int, n: int = 12) -> None:
    """n responses with a written answer each, from north (the first 10) and south."""
    for i in range(n):
        services.submit(database, "k", wave_id, f"account:{i}", {
            "sat_roads": 5 if i % 2 else 4, "improve": ["transport"],
            "improve_why": f"Answer {i} {HOSTILE}"},
            {"district_id": d1 if i < 10 else d2, "age_band": "65+", "gender": "female"},
            utcnow())


def test_written_answers_wait_for_a_moderator_who_sees_the_text_only(
        app: Any, database: Database, client: TestClient) -> None:
    setup = make_survey(database, live=True)
    d1, d2 = (d.id for d in setup.districts)
    fill(database, setup.wave.id, d1, d2)
    results = client.get("/surveys/city-2027/results").text
    assert "Answer 3" not in results and "none is published yet" in results
    mod = moderator(app, database)
    assert "12 survey responses to screen" in mod.get("/moderation").text
    page = mod.get("/moderation/surveys")
    assert page.status_code == 200 and "Answer 0 &lt;script&gt;" in page.text
    assert HOSTILE not in page.text
    assert "North" not in page.text and "65+" not in page.text  # nothing about the writer
    with database.session() as s:
        items = screening.pending(s)
    token = csrf_of(mod, "/moderation/surveys")
    for item in items:
        publish = ["improve_why"] if item.response_id != items[0].response_id else []
        done = mod.post(f"/moderation/surveys/{item.response_id}",
                        data={"csrf_token": token, "digest": item.digest, "publish": publish})
        assert done.status_code == 303
    again = mod.post(f"/moderation/surveys/{items[1].response_id}",
                     data={"csrf_token": token, "digest": items[1].digest})
    assert "screened meanwhile" in mod.get(again.headers["location"]).text
    results = client.get("/surveys/city-2027/results").text
    assert "Answer 3 &lt;script&gt;" in results and "Answer 0 " not in results  # withheld
    assert "11 of 12" in results


def test_a_changed_answer_is_screened_again_and_a_stale_decision_refused(
        app: Any, database: Database) -> None:
    setup = make_survey(database)
    answer = {"improve": ["transport"], "improve_why": "First"}
    no_one = {"district_id": None, "age_band": "", "gender": ""}
    services.submit(database, "k", setup.wave.id, "account:1", answer, no_one, utcnow())
    mod = moderator(app, database)
    with database.session() as s:
        [item] = screening.pending(s)
    services.submit(database, "k", setup.wave.id, "account:1",
                    {**answer, "improve_why": "Changed"}, no_one, utcnow())
    stale = mod.post(f"/moderation/surveys/{item.response_id}", data={
        "csrf_token": csrf_of(mod, "/moderation/surveys"), "digest": item.digest,
        "publish": ["improve_why"]})
    assert stale.status_code == 303
    with database.session() as s:
        response = s.get(SurveyResponse, item.response_id)
        assert response is not None and not response.text_cleared
    # An answer without text waits for no one.
    services.submit(database, "k", setup.wave.id, "account:2", {"sat_roads": 3}, no_one,
                    utcnow())
    with database.session() as s:
        assert screening.pending_count(s) == 1


def test_written_answers_of_fewer_than_ten_stay_unpublished(app: Any, database: Database,
                                                           client: TestClient) -> None:
    setup = make_survey(database, live=True)
    d1, d2 = (d.id for d in setup.districts)
    fill(database, setup.wave.id, d1, d2, n=9)
    with database.session(write=True) as s:
        for r in s.exec(select(SurveyResponse)).all():
            r.text_cleared, r.text_published = True, ["improve_why"]
            s.add(r)
    results = client.get("/surveys/city-2027/results").text
    section = results.split('id="q-improve_why"')[1].split("</section>")[0]
    assert "Answer" not in section and "Suppressed" in section


def test_residents_cannot_screen(app: Any, database: Database) -> None:
    resident = TestClient(app, follow_redirects=False)
    make_user(database, "r@example.kg")
    sign_in(resident, "r@example.kg")
    assert resident.get("/moderation/surveys").status_code == 403


def test_district_breakdown_suppresses_small_districts_and_cells() -> None:
    from surveys.models import SurveyQuestion

    qs = [SurveyQuestion(wave_id=1, **q) for q in template_questions()]
    # District 1: 40 answers, 10 x 5, 10 x 4 and 20 x 2 -> 50 % satisfied. District 2: 9.
    # District 3: 15 answers, 5 x 5 (a small cell) and 10 x 1 -> not shown.
    responses: list[tuple[dict[str, Any], int | None]] = (
        [({"sat_roads": 5}, 1)] * 10 + [({"sat_roads": 4}, 1)] * 10
        + [({"sat_roads": 2}, 1)] * 20
        + [({"sat_roads": 4}, 2)] * 9 + [({"sat_roads": 5}, 3)] * 5
        + [({"sat_roads": 1}, 3)] * 10 + [({"sat_roads": 5}, None)] * 30)
    roads = district_breakdown(qs, responses)["sat_roads"]
    assert roads[1] == (0.5, 40)
    assert roads[2] == (None, 9)
    assert roads[3] == (None, 15)
    assert None not in roads  # no district, no row


def test_district_table_and_trends_on_the_demo(client: TestClient, database: Database) -> None:
    from datetime import timedelta

    from core.demo import seed

    with database.session(write=True) as s:
        seed(s, utcnow() - timedelta(seconds=1))
    page = client.get("/surveys/city-services-trust/results?wave=2").text
    table = page.split('id="districts-h"')[1].split("</section>")[0]
    assert "<th scope=\"col\">" in table and "%" in table
    trend = page.split('id="trend-h"')[1].split("</section>")[0]
    assert "Overall, how satisfied" in trend and "<polyline" in trend
    assert "Buses are crowded" in page or "Автобусы" in page or "Маршрутка" in page


def test_sparkline_scales_shares_and_the_trust_index() -> None:
    assert sparkline([0.0, 100.0], "satisfied") == "0.0,28.0 120.0,0.0"
    assert sparkline([-100.0, None, 100.0], "trust") == "0.0,28.0 120.0,0.0"
    assert sparkline([50.0], "satisfied") == ""
