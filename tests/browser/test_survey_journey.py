"""A survey in Chromium, from its making to its published results: an admin creates it from
the "City services and trust" template (dates typed in the city's time), a resident answers
(a conditional question appears on a second step, without any script), a moderator screens
the written answer, the admin closes the wave, and the resident reads the results: charts,
the district table, trends and the published written answer.

Two passes: Russian with JavaScript on, Kyrgyz with it off. Every page is screenshotted into
test-artifacts/ and checked with axe-core (WCAG 2.2 AA, serious and critical violations fail).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from core.db import Database, make_database
from core.models import District
from surveys.models import Survey, SurveyResponse, SurveyWave
from tests.browser.axe_check import AxeChecker
from tests.browser.test_journeys import Journey, Pass

ADMIN = ("admin@demo.shaar.kg", "demo-admin-pass")
MODERATOR = ("moderator@demo.shaar.kg", "demo-moderator-pass")
RESIDENT = ("resident@demo.shaar.kg", "demo-resident-pass")
CITY = ZoneInfo("Asia/Bishkek")  # the live server's TIME_ZONE (the default)
SERVICES = ("transport", "roads", "lighting", "waste", "parks", "water", "certificates")
PASSES = [Pass("ru", True, "oktyabrsky", ("approval", "approval")),
          Pass("ky", False, "pervomaisky", ("approval", "approval"))]
WRITTEN = {"ru": "Автобус № 7 ходит раз в час <b>вечером</b>.",
           "ky": "Кечинде 7-автобус саатына бир гана жүрөт."}


@pytest.fixture(scope="module")
def survey_db(live_server: str, live_database_url: str) -> Iterator[Database]:
    database = make_database(live_database_url)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def axe(browser: Any) -> Iterator[AxeChecker]:
    checker = AxeChecker(browser)
    yield checker
    checker.close()


def local(moment: datetime) -> str:
    return moment.astimezone(CITY).strftime("%Y-%m-%dT%H:%M")


def others_answer(database: Database, slug: str, district_slug: str, n: int = 14) -> None:
    """Other residents' responses (their written answers already screened), so that the
    figures pass the suppression of cells under ten."""
    rng = random.Random(slug)  # noqa: S311 - test data
    with database.session(write=True) as s:
        survey = s.exec(select(Survey).where(Survey.slug == slug)).one()
        wave = s.exec(select(SurveyWave).where(SurveyWave.survey_id == survey.id)).one()
        district = s.exec(select(District).where(District.slug == district_slug)).one()
        for i in range(n):
            answers: dict[str, Any] = {f"sat_{k}": rng.choice((4, 5)) for k in SERVICES}
            answers.update(sat_overall=rng.randint(5, 10), trust_city_hall=rng.choice((4, 5)),
                           improve=["transport", "water"], improve_why=f"Ответ {i}")
            s.add(SurveyResponse(wave_id=wave.id or 0, answers=answers,
                                 district_id=district.id, text_cleared=True,
                                 text_published=["improve_why"]))


@pytest.mark.parametrize("p", PASSES, ids=[p.name for p in PASSES])
def test_a_survey_from_answering_to_published_results(browser: Any, live_server: str,
                                                      live_var: Path, survey_db: Database,
                                                      axe: AxeChecker, p: Pass) -> None:
    base = live_server
    slug = f"journey-{p.lang}"
    journey = Journey(browser, live_server, p, axe, survey_db, live_var / "server.log",
                      slug="survey")
    try:
        # The admin makes the survey from the template; a first try without dates is refused.
        admin = journey.person()
        journey.sign_in(admin, *ADMIN)
        page = admin.page
        page.goto(f"{base}/admin")
        page.click("a[href='/admin/surveys']")
        journey.step(admin, "admin-surveys")
        page.fill("#field-slug", slug)
        page.check("#start-template")
        page.click("form[action='/admin/surveys'] button[type=submit]")
        expect(page.locator(".error-summary")).to_be_visible()
        journey.step(admin, "admin-survey-errors")
        now = datetime.now(CITY)
        page.fill("#field-opens_at", local(now - timedelta(hours=2)))
        page.fill("#field-closes_at", local(now + timedelta(days=1)))
        page.click("form[action='/admin/surveys'] button[type=submit]")
        page.wait_for_url(f"{base}/admin/surveys/{slug}")
        journey.step(admin, "admin-survey")
        page.click(f"a[href='/admin/surveys/{slug}/waves/1']")
        expect(page.locator("#question-sat_transport")).to_be_visible()
        journey.step(admin, "admin-wave")

        # The resident finds it from the home page and answers.
        resident = journey.person()
        journey.sign_in(resident, *RESIDENT)
        rpage = resident.page
        rpage.click(f"main a[href='/surveys/{slug}']")
        rpage.wait_for_url(f"{base}/surveys/{slug}")
        journey.step(resident, "answer")
        for key in SERVICES:
            rpage.check(f"input[name='q-sat_{key}'][value='4']")
        rpage.check("input[name='q-sat_overall'][value='8']")
        rpage.check("input[name='q-trust_city_hall'][value='4']")
        rpage.check("input[name='q-improve'][value='transport']")
        rpage.select_option("#field-district", index=1)
        rpage.click("main form button[type=submit]")
        # Choosing transport opened a further question: the page comes back with it.
        expect(rpage.locator("#field-q-improve_why")).to_be_visible()
        journey.step(resident, "answer-more")
        rpage.fill("#field-q-improve_why", WRITTEN[p.lang])
        rpage.click("main form button[type=submit]")
        rpage.wait_for_url(f"{base}/surveys/{slug}")
        expect(rpage.locator(".flash").first).to_be_visible()
        journey.step(resident, "answered")
        others_answer(survey_db, slug, p.district)

        # The moderator reads the written answer (text only) and publishes it.
        moderator = journey.person()
        journey.sign_in(moderator, *MODERATOR)
        mpage = moderator.page
        mpage.goto(f"{base}/moderation")
        mpage.click("a[href='/moderation/surveys']")
        journey.step(moderator, "screening")
        item = mpage.locator("article.queue-item", has_text=WRITTEN[p.lang][:20])
        item.locator("input[name=publish]").check()
        item.locator("button[type=submit]").click()
        mpage.wait_for_url(f"{base}/moderation/surveys")
        expect(mpage.locator("article.queue-item", has_text=WRITTEN[p.lang][:20])
               ).to_have_count(0)
        journey.step(moderator, "screened")

        # The admin closes the wave (a minute ago, in the city's time).
        page.goto(f"{base}/admin/surveys/{slug}/waves/1")
        page.fill("#field-closes_at", local(datetime.now(CITY) - timedelta(minutes=1)))
        page.click(f"form[action='/admin/surveys/{slug}/waves/1'] button[type=submit]")
        page.wait_for_url(f"{base}/admin/surveys/{slug}/waves/1")
        journey.step(admin, "wave-closed")

        # The resident reads the published results.
        rpage.goto(f"{base}/surveys")
        rpage.click(f"a[href='/surveys/{slug}/results']")
        rpage.wait_for_url(f"{base}/surveys/{slug}/results")
        expect(rpage.locator("#districts-h")).to_be_visible()
        expect(rpage.locator("svg.survey-chart").first).to_be_visible()
        expect(rpage.locator(".survey-texts")).to_contain_text(WRITTEN[p.lang])
        journey.step(resident, "results")
        for who in journey.people:
            # The refused first try is a 422 by design; Chromium logs every 4xx document.
            errors = [e for e in who.errors if "422" not in e and "/admin/surveys," not in e]
            assert errors == [] and who.foreign == [], (who.errors, who.foreign)
    finally:
        journey.close()
    failures = [f for f in axe.failures if f.where.startswith(journey.prefix)]
    assert journey.steps >= 11
    assert not failures, axe.report(failures)


SURVEY_PAGES = ["/surveys", "/surveys/city-services-trust", "/surveys/city-services-trust/results",
                "/surveys/city-services-trust/results?wave=1", "/admin/surveys",
                "/admin/surveys/city-services-trust", "/admin/surveys/city-services-trust/waves/3",
                "/admin/surveys/city-services-trust/waves/3/questions/new",
                "/admin/surveys/city-services-trust/waves/3/questions/drivers",
                "/admin/surveys/city-services-trust/waves/1/questions/improve",
                "/moderation/surveys"]


def test_survey_pages_fit_a_320_px_phone(browser: Any, live_server: str) -> None:
    """The survey pages of the demo city (the admin sees them all) on a 320 px phone, in
    Kyrgyz, the longest of the three languages."""
    from tests.browser.test_phone_width import OVERFLOW

    context = browser.new_context(locale="ky", extra_http_headers={"Accept-Language": "ky"},
                                  viewport={"width": 320, "height": 640})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/signin")
        page.fill("#field-email", ADMIN[0])
        page.fill("#field-password", ADMIN[1])
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        wide = {}
        for path in SURVEY_PAGES:
            response = page.goto(live_server + path)
            assert response is not None and response.status == 200, path
            measured = page.evaluate(OVERFLOW)
            if measured["scroll"] > measured["width"] or measured["wide"]:
                wide[path] = measured
        assert wide == {}, wide
    finally:
        context.close()
