"""Results and open data as a reader gets them: hidden until the wave closes, weights shown,
small cells suppressed in the page, the CSV and the JSON; the demo city's waves."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from starlette.testclient import TestClient

from core.db import Database
from core.models import utcnow
from surveys.models import SurveyResponse
from surveys.opendata import datasets
from tests.surveys.factories import make_survey


def fill(database: Database, wave_id: int, d1: int, d2: int) -> None:
    """50 responses, 25 per district. Trust: north 20 x 5 and 5 x 4; south 5 x 4, 10 x 2,
    10 x 1 (nobody answers 3). Roads: 2 from 3 people only."""
    trust = [5] * 20 + [4] * 10 + [2] * 10 + [1] * 10
    with database.session(write=True) as s:
        for i in range(50):
            answers: dict[str, Any] = {"trust_city_hall": trust[i], "improve": ["parks"]}
            if i < 3:
                answers["sat_roads"] = 2
            s.add(SurveyResponse(wave_id=wave_id, answers=answers,
                                 district_id=d1 if i < 25 else d2,
                                 age_band="65+" if i == 0 else "25-34"))


def test_results_wait_for_the_close(client: TestClient, database: Database) -> None:
    make_survey(database)
    assert client.get("/surveys/city-2027/results").status_code == 404
    assert client.get("/surveys/city-2027/waves/1/responses.csv").status_code == 404
    with database.session() as s:
        assert datasets(s) == []


def test_live_results_show_while_open(client: TestClient, database: Database) -> None:
    make_survey(database, live=True)
    assert client.get("/surveys/city-2027/results").status_code == 200


def test_results_page_weights_suppression_and_trust(client: TestClient,
                                                    database: Database) -> None:
    setup = make_survey(database, closed=True)
    d1, d2 = (d.id for d in setup.districts)
    fill(database, setup.wave.id, d1, d2)
    page = client.get("/surveys/city-2027/results")
    assert page.status_code == 200
    text = page.text
    # Weights: north 0.6 / (25/50) = 1.2, south 0.4 / (25/50) = 0.8.
    assert "<td>1.2</td>" in text and "<td>0.8</td>" in text
    # Trust, unweighted: 60 % - 40 % = 20. Weighted: trusting (25 x 1.2 + 5 x 0.8) / 50
    # = 68 %, distrusting 20 x 0.8 / 50 = 32 %: 36.
    assert "<strong>36</strong> (unweighted 20)" in text
    assert "<svg" in text and "Suppressed: fewer than 10 responses" in text
    # The roads question had 3 answers: no figure of it anywhere.
    section = text.split('id="q-sat_roads"')[1].split("</section>")[0]
    assert "n = 3" in section and "<svg" not in section


def test_open_data_removes_small_cells_and_lists_the_dataset(client: TestClient,
                                                             database: Database) -> None:
    setup = make_survey(database, closed=True)
    d1, d2 = (d.id for d in setup.districts)
    fill(database, setup.wave.id, d1, d2)
    raw = client.get("/surveys/city-2027/waves/1/responses.csv")
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(raw.text)))
    assert len(rows) == 50
    assert {r["sat_roads"] for r in rows} == {""}  # 3 answers: removed
    assert {r["age_band"] for r in rows} == {"", "25-34"}  # the lone 65+ is removed
    assert {r["trust_city_hall"] for r in rows} == {"5", "4", "2", "1"}
    assert "improve_why" not in rows[0]  # free text is never in open data
    # Shuffled: not in the order of answering.
    assert [r["district"] for r in rows] != ["north"] * 25 + ["south"] * 25
    data = client.get("/surveys/city-2027/waves/1/responses.json").json()
    assert len(data["rows"]) == 50 and all(r["sat_roads"] is None for r in data["rows"])
    book = client.get("/surveys/city-2027/waves/1/codebook.json").json()
    trust = next(q for q in book["questions"] if q["id"] == "trust_city_hall")
    assert set(trust["label"]) == {"ru", "ky", "en"} and trust["values"]["5"]["en"]
    with database.session() as s:
        [listed] = datasets(s, "https://city.example")
    assert listed["url"]["csv"] == "https://city.example/surveys/city-2027/waves/1/responses.csv"
    assert client.get("/surveys/city-2027/waves/1/other.txt").status_code == 404


def test_demo_city_has_two_closed_waves_and_an_open_one(client: TestClient,
                                                        database: Database) -> None:
    from core.demo import seed

    with database.session(write=True) as s:
        seed(s, utcnow() - timedelta(seconds=1))
    listing = client.get("/surveys").text
    assert "City services and trust" in listing and "Answer the survey" in listing
    page = client.get("/surveys/city-services-trust/results").text
    assert "Wave 2" in page and "Trends across waves" in page
    assert "Satisfaction with services, ranked" in page
    assert "Suppressed" not in page.split("Trust index")[1].split("</section>")[0]
    with database.session() as s:
        assert len(datasets(s)) == 2
