"""Admin pages of surveys: creating from the template or blank, editing texts in three
languages, questions of every type, conditions, order, locking, waves in the city's time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select
from starlette.testclient import TestClient

from core.db import Database
from core.models import utcnow
from surveys import services
from surveys.models import Survey, SurveyQuestion, SurveyWave
from tests.helpers import csrf_of, make_user, sign_in
from tests.surveys.factories import make_survey

HOSTILE = "<script>alert(1)</script>"


def admin_client(app: Any, database: Database) -> TestClient:
    client = TestClient(app, follow_redirects=False, headers={"Accept-Language": "en"})
    make_user(database, "admin@example.kg", roles=("admin",))
    sign_in(client, "admin@example.kg")
    return client


def post(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_of(client, "/admin/surveys")})


def question(**extra: str) -> dict[str, str]:
    data = {"key": "bus", "kind": "single", "text_ru": "Автобус?", "text_ky": "Автобус?",
            "text_en": f"Bus {HOSTILE}?",
            "options": "yes | Да | Ооба | Yes\nno | Нет | Жок | No"}
    data.update(extra)
    return data


def wave_of(database: Database, slug: str, number: int = 1) -> SurveyWave:
    with database.session() as s:
        survey = s.exec(select(Survey).where(Survey.slug == slug)).one()
        return s.exec(select(SurveyWave).where(SurveyWave.survey_id == survey.id,
                                               SurveyWave.number == number)).one()


def keys(database: Database, wave: SurveyWave) -> list[str]:
    with database.session() as s:
        return [q.key for q in services.questions_of(s, wave.id or 0)]


def test_only_admins_reach_the_survey_admin(app: Any, database: Database) -> None:
    resident = TestClient(app, follow_redirects=False)
    make_user(database, "r@example.kg")
    sign_in(resident, "r@example.kg")
    assert resident.get("/admin/surveys").status_code == 403
    assert TestClient(app, follow_redirects=False).get("/admin/surveys").status_code == 303


def test_create_from_template_with_dates_in_the_city_time_zone(app: Any,
                                                              database: Database) -> None:
    admin = admin_client(app, database)
    bad = post(admin, "/admin/surveys", {"slug": "Not a slug", "start": "template",
                                         "opens_at": "2027-03-01T09:00",
                                         "closes_at": "2027-02-01T09:00"})
    assert bad.status_code == 422
    assert 'id="error-slug"' in bad.text and 'id="error-closes_at"' in bad.text
    ok = post(admin, "/admin/surveys", {"slug": "trust-2027", "start": "template",
                                        "opens_at": "2027-03-01T09:00",
                                        "closes_at": "2027-03-31T18:00"})
    assert ok.status_code == 303 and ok.headers["location"] == "/admin/surveys/trust-2027"
    wave = wave_of(database, "trust-2027")
    # Bishkek is UTC+6: 09:00 there is 03:00 UTC.
    assert wave.opens_at.replace(tzinfo=UTC) == datetime(2027, 3, 1, 3, 0, tzinfo=UTC)
    assert "sat_transport" in keys(database, wave)
    page = admin.get("/admin/surveys/trust-2027/waves/1")
    assert 'value="2027-03-01T09:00"' in page.text
    taken = post(admin, "/admin/surveys", {"slug": "trust-2027", "start": "blank",
                                           "opens_at": "2027-03-01T09:00",
                                           "closes_at": "2027-03-31T18:00"})
    assert taken.status_code == 422 and "already taken" in taken.text


def test_edit_texts_audience_and_live_results(app: Any, database: Database) -> None:
    make_survey(database)
    admin = admin_client(app, database)
    missing = post(admin, "/admin/surveys/city-2027", {"title_ru": "Т", "title_ky": "",
                                                       "title_en": "T", "audience": "x"})
    assert missing.status_code == 422
    assert 'id="error-title_ky"' in missing.text and 'id="error-audience"' in missing.text
    ok = post(admin, "/admin/surveys/city-2027", {
        "title_ru": "Опрос", "title_ky": "Сурамжылоо", "title_en": HOSTILE,
        "intro_ru": "", "intro_ky": "", "intro_en": "", "audience": "verified",
        "live_results": "yes"})
    assert ok.status_code == 303
    with database.session() as s:
        survey = s.exec(select(Survey).where(Survey.slug == "city-2027")).one()
        assert survey.title["ky"] == "Сурамжылоо" and survey.audience == "verified"
        assert survey.live_results
    assert HOSTILE not in admin.get("/admin/surveys/city-2027").text


def test_blank_survey_gets_questions_of_every_kind_and_a_condition(app: Any,
                                                                   database: Database) -> None:
    admin = admin_client(app, database)
    post(admin, "/admin/surveys", {"slug": "blank", "start": "blank",
                                   "opens_at": "2030-01-01T00:00",
                                   "closes_at": "2030-02-01T00:00"})
    base = "/admin/surveys/blank/waves/1/questions"
    assert post(admin, f"{base}/new", question()).status_code == 303
    dup = post(admin, f"{base}/new", question())
    assert dup.status_code == 422 and 'id="error-key"' in dup.text
    few = post(admin, f"{base}/new", question(key="one", options="yes | Да | Ооба | Yes"))
    assert few.status_code == 422 and 'id="error-options"' in few.text
    broken = post(admin, f"{base}/new", question(key="two", options="yes | Да"))
    assert broken.status_code == 422 and "Line 1" in broken.text
    for kind in ("rating5", "rating10", "number", "short", "long"):
        assert post(admin, f"{base}/new", question(key=f"k_{kind}", kind=kind,
                                                   options="")).status_code == 303
    matrix = post(admin, f"{base}/new", question(key="grid", kind="matrix", options="",
                                                 rows="a | А | А | A"))
    assert matrix.status_code == 303
    wrong = post(admin, f"{base}/new", question(key="why", kind="long", options="",
                                                show_key="bus", show_op="equals",
                                                show_value="maybe"))
    assert wrong.status_code == 422 and 'id="error-show_value"' in wrong.text
    later = post(admin, f"{base}/new", question(key="why", kind="long", options="",
                                                show_key="nothing", show_op="equals"))
    assert later.status_code == 422 and 'id="error-show_key"' in later.text
    ok = post(admin, f"{base}/new", question(key="why", kind="long", options="",
                                             show_key="bus", show_op="equals",
                                             show_value="no", section_ru="Ещё",
                                             section_ky="Дагы", section_en="More"))
    assert ok.status_code == 303
    wave = wave_of(database, "blank")
    assert keys(database, wave) == ["bus", "k_rating5", "k_rating10", "k_number", "k_short",
                                    "k_long", "grid", "why"]
    with database.session() as s:
        why = s.exec(select(SurveyQuestion).where(SurveyQuestion.key == "why")).one()
        assert why.show_if == {"key": "bus", "equals": "no"}
        assert why.section["en"] == "More"
    # Edit: every language; the key stays.
    edited = post(admin, f"{base}/bus", question(key="ignored", text_ky="Автобус барбы?",
                                                 required="yes"))
    assert edited.status_code == 303
    with database.session() as s:
        bus = s.exec(select(SurveyQuestion).where(SurveyQuestion.key == "bus")).one()
        assert bus.text["ky"] == "Автобус барбы?" and bus.required
    # Order: the condition's target cannot move below it; others move.
    assert post(admin, f"{base}/k_rating5/move", {"direction": "up"}).status_code == 303
    assert keys(database, wave)[:2] == ["k_rating5", "bus"]
    # Remove: needs the box ticked, and not while a later condition names it.
    refused = post(admin, f"{base}/k_short/delete", {})
    assert refused.status_code == 303 and "k_short" in keys(database, wave)
    assert post(admin, f"{base}/k_short/delete", {"confirm": "yes"}).status_code == 303
    assert "k_short" not in keys(database, wave)
    post(admin, f"{base}/bus/delete", {"confirm": "yes"})
    assert "bus" in keys(database, wave)
    assert admin.get(f"{base}/nothing").status_code == 404


def test_questions_lock_with_a_clear_refusal_and_a_new_wave_copies_them(
        app: Any, database: Database) -> None:
    setup = make_survey(database)
    services.submit(database, "k", setup.wave.id, "account:1", {"sat_roads": 2},
                    {"district_id": None, "age_band": "", "gender": ""}, utcnow())
    admin = admin_client(app, database)
    base = "/admin/surveys/city-2027/waves/1/questions"
    for path, data in ((f"{base}/new", question()), (f"{base}/sat_roads", question()),
                       (f"{base}/sat_roads/move", {"direction": "up"}),
                       (f"{base}/sat_roads/delete", {"confirm": "yes"})):
        refused = post(admin, path, data)
        assert refused.status_code == 303, path
        page = admin.get(refused.headers["location"])
        assert "its questions are locked" in page.text
    bad = post(admin, "/admin/surveys/city-2027/waves", {"opens_at": "tomorrow",
                                                         "closes_at": ""})
    assert bad.status_code == 422 and 'id="error-opens_at"' in bad.text
    new = post(admin, "/admin/surveys/city-2027/waves", {
        "label": "II", "opens_at": "2031-01-01T08:00", "closes_at": "2031-02-01T08:00"})
    assert new.headers["location"] == "/admin/surveys/city-2027/waves/2"
    assert keys(database, wave_of(database, "city-2027", 2)) == keys(database, setup.wave)
    assert post(admin, "/admin/surveys/city-2027/waves/2/questions/sat_roads/delete",
                {"confirm": "yes"}).status_code == 303
    assert "sat_roads" not in keys(database, wave_of(database, "city-2027", 2))


def test_surveys_are_linked_from_the_menu_footer_home_and_admin(app: Any,
                                                               database: Database) -> None:
    make_survey(database)
    admin = admin_client(app, database)
    home = admin.get("/").text
    assert home.count('href="/surveys"') >= 3  # menu, footer, home page section
    assert 'href="/surveys/city-2027"' in home and "Open until" in home
    assert 'href="/admin/surveys"' in admin.get("/admin").text


def test_waves_do_not_overlap_and_conditions_keep_their_target(app: Any,
                                                              database: Database) -> None:
    make_survey(database)  # wave 1: from yesterday for ten days
    admin = admin_client(app, database)
    now = utcnow()
    from surveys.admin_forms import local

    overlap = post(admin, "/admin/surveys/city-2027/waves", {
        "opens_at": local(now + timedelta(days=2), "Asia/Bishkek"),
        "closes_at": local(now + timedelta(days=20), "Asia/Bishkek")})
    assert overlap.status_code == 422 and "overlap wave 1" in overlap.text
    # improve_why is shown when "improve" includes transport: transport cannot go away.
    base = "/admin/surveys/city-2027/waves/1/questions"
    page = admin.get(f"{base}/improve")
    assert page.status_code == 200 and "transport |" in page.text
    refused = post(admin, f"{base}/improve", question(
        kind="multiple", options="roads | Дороги | Жолдор | Roads\nwater | Вода | Суу | Water"))
    assert refused.status_code == 303
    assert "change its condition first" in admin.get(refused.headers["location"]).text
