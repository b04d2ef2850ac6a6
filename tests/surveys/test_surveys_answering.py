"""Answering: validation per type, conditional questions without JS, one response per
person per wave (also under 50 parallel submissions), changing answers, interviews."""

from __future__ import annotations

import threading
from typing import Any

from sqlmodel import select
from starlette.testclient import TestClient

from core.db import Database
from core.models import utcnow
from surveys import services
from surveys.models import QuestionType, SurveyParticipation, SurveyQuestion, SurveyResponse
from tests.helpers import csrf_of, make_user, sign_in
from tests.surveys.factories import make_survey

SERVICES = ["transport", "roads", "lighting", "waste", "parks", "water", "certificates"]


def full_answers(**extra: str) -> dict[str, Any]:
    data: dict[str, Any] = {f"q-sat_{k}": "4" for k in SERVICES}
    data.update({"q-sat_overall": "8", "q-trust_city_hall": "3",
                 "shown": [*(f"sat_{k}" for k in SERVICES), "sat_overall", "trust_city_hall",
                           "drivers", "improve", "improve_why"]})
    data.update(extra)
    return data


def signed_in(app: Any, database: Database, email: str = "r@example.kg") -> TestClient:
    client = TestClient(app, follow_redirects=False, headers={"Accept-Language": "en"})
    make_user(database, email)
    sign_in(client, email)
    return client


def post(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_of(client, "/surveys")})


def responses(database: Database) -> list[SurveyResponse]:
    with database.session() as s:
        return list(s.exec(select(SurveyResponse)).all())


def test_page_has_a_fieldset_per_question_and_a_matrix_table(app: Any,
                                                             database: Database) -> None:
    make_survey(database)
    client = signed_in(app, database)
    page = client.get("/surveys/city-2027")
    assert page.status_code == 200
    assert page.text.count('<fieldset class="field') == 11  # 7 services + 4
    assert '<th scope="row" id="q-drivers-integrity-label">' in page.text
    assert "Anyone with an account may answer" in page.text
    # The conditional question stays hidden until "transport" is chosen.
    assert "Why this?" not in page.text


def test_validation_per_type_comes_back_with_422_and_field_errors(
        app: Any, database: Database) -> None:
    make_survey(database)
    client = signed_in(app, database)
    bad = full_answers(**{"q-sat_roads": "6", "q-sat_overall": "11",
                          "q-drivers-reliability": "3", "q-improve": ["roads", "nonsense"],
                          "district": "999"})
    del bad["q-trust_city_hall"]
    page = post(client, "/surveys/city-2027", bad)
    assert page.status_code == 422
    assert 'id="error-q-sat_roads"' in page.text and "from 1 to 5" in page.text
    assert 'id="error-q-sat_overall"' in page.text and "from 0 to 10" in page.text
    assert 'id="error-q-trust_city_hall"' in page.text and "needs an answer" in page.text
    assert 'id="error-q-improve"' in page.text and 'id="error-district"' in page.text
    # What was typed stays.
    assert 'name="q-drivers-reliability" value="3" aria-labelledby' in page.text
    assert responses(database) == []


def test_check_one_covers_the_other_types() -> None:
    def run(q: SurveyQuestion, form: dict[str, Any]) -> services.Checked:
        out = services.Checked()
        services.check_one(q, lambda n: form.get(n[2:], ""), lambda n: form.get(n[2:], []),
                           out)
        return out

    opts = [{"value": v, "label": {"en": v}} for v in ("a", "b", "c")]
    rank = SurveyQuestion(wave_id=1, key="r", kind=QuestionType.RANKING, options=opts)
    assert run(rank, {"r-a": "2", "r-b": "1", "r-c": "3"}).answers == {"r": ["b", "a", "c"]}
    assert "r" not in run(rank, {"r-a": "1", "r-b": "1", "r-c": "3"}).answers
    assert run(rank, {"r-a": "1", "r-b": "1", "r-c": "3"}).errors
    number = SurveyQuestion(wave_id=1, key="n", kind=QuestionType.NUMBER, required=True)
    assert run(number, {"n": "3,5"}).answers == {"n": 3.5}
    assert run(number, {"n": "nan"}).errors and run(number, {"n": ""}).errors
    single = SurveyQuestion(wave_id=1, key="s", kind=QuestionType.SINGLE, options=opts,
                            allow_other=True)
    assert run(single, {"s": "other", "s-other": "Trams"}).answers == {
        "s": "other", "s.other": "Trams"}
    assert run(single, {"s": "other"}).errors
    rating = SurveyQuestion(wave_id=1, key="g", kind=QuestionType.RATING5)
    assert run(rating, {"g": "²"}).errors and run(rating, {"g": "３"}).errors
    assert run(rating, {"g": " 3 "}).answers == {"g": 3}
    short = SurveyQuestion(wave_id=1, key="t", kind=QuestionType.SHORT)
    assert run(short, {"t": "x" * 201}).errors and run(short, {"t": ""}).answers == {}


def test_a_conditional_question_appears_on_a_second_step(app: Any,
                                                         database: Database) -> None:
    make_survey(database)
    client = signed_in(app, database)
    data = full_answers(**{"q-improve": ["transport"]})
    data["shown"] = [k for k in data["shown"] if k != "improve_why"]
    step = post(client, "/surveys/city-2027", data)
    assert step.status_code == 200 and "Why this?" in step.text
    assert "opened further questions" in step.text and responses(database) == []
    # A wrong district on that step is reported, not a crash.
    odd = post(client, "/surveys/city-2027", {**data, "district": "<b>"})
    assert odd.status_code == 200 and 'id="error-district"' in odd.text
    data["shown"].append("improve_why")
    done = post(client, "/surveys/city-2027", {**data, "q-improve_why": "Buses are late"})
    assert done.status_code == 303
    [saved] = responses(database)
    assert saved.answers["improve_why"] == "Buses are late"
    # Without "transport" the follow-up is not asked and an answer to it is dropped.
    client2 = signed_in(app, database, "r2@example.kg")
    post(client2, "/surveys/city-2027", full_answers(**{"q-improve": ["roads"],
                                                        "q-improve_why": "sneaky"}))
    assert all("improve_why" not in r.answers for r in responses(database)
               if r.answers.get("improve") == ["roads"])


def test_one_response_per_person_changeable_and_unlinked(app: Any,
                                                         database: Database) -> None:
    setup = make_survey(database)
    client = signed_in(app, database)
    assert post(client, "/surveys/city-2027", full_answers()).status_code == 303
    again = post(client, "/surveys/city-2027", full_answers(**{"q-trust_city_hall": "5"}))
    assert again.status_code == 303
    [saved] = responses(database)
    assert saved.answers["trust_city_hall"] == 5
    page = client.get("/surveys/city-2027").text
    assert "You have answered already" in page
    assert 'name="q-trust_city_hall" value="5" checked' in page
    with database.session() as s:
        [part] = s.exec(select(SurveyParticipation)).all()
    assert part.wave_id == setup.wave.id
    # The sealed pointer opens only with the principal's own key.
    with database.session() as s:
        secret = app.state.settings.secret_key
        user_id = part.pseudonym and s.exec(select(SurveyResponse.id)).first()
        assert services.own_response(s, secret, setup.wave.id, "account:999999") is None
        from core.models import User

        me = s.exec(select(User)).first()
        mine = services.own_response(s, secret, setup.wave.id, f"account:{me.id}")
        assert mine is not None and mine.id == user_id
    assert "account_id" not in SurveyResponse.model_fields
    assert "user_id" not in SurveyParticipation.model_fields


def test_fifty_parallel_submissions_leave_one_response(database: Database) -> None:
    setup = make_survey(database)
    now = utcnow()
    errors: list[BaseException] = []

    def go(i: int) -> None:
        try:
            services.submit(database, "secret", setup.wave.id, "account:7",
                            {"trust_city_hall": 1 + i % 5},
                            {"district_id": None, "age_band": "", "gender": ""}, now)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(responses(database)) == 1
    with database.session() as s:
        assert len(s.exec(select(SurveyParticipation)).all()) == 1


def test_verified_only_and_anonymous_surveys(app: Any, database: Database) -> None:
    make_survey(database, audience="verified")
    client = signed_in(app, database)  # not verified
    assert client.get("/surveys/city-2027").status_code == 403
    anonymous = TestClient(app, follow_redirects=False)
    assert anonymous.get("/surveys/city-2027").headers["location"].startswith("/signin")


def test_anonymous_survey_one_per_browser(app: Any, database: Database) -> None:
    make_survey(database, audience="anonymous")
    browser = TestClient(app, follow_redirects=False, headers={"Accept-Language": "en"})
    assert post(browser, "/surveys/city-2027", full_answers()).status_code == 303
    assert post(browser, "/surveys/city-2027", full_answers()).status_code == 303
    assert len(responses(database)) == 1
    other = TestClient(app, follow_redirects=False, headers={"Accept-Language": "en"})
    assert post(other, "/surveys/city-2027", full_answers()).status_code == 303
    assert len(responses(database)) == 2


def test_clerk_enters_interviews_with_their_channel(app: Any, database: Database) -> None:
    make_survey(database)
    clerk = TestClient(app, follow_redirects=False, headers={"Accept-Language": "en"})
    make_user(database, "clerk@example.kg", roles=("clerk",))
    sign_in(clerk, "clerk@example.kg")
    form = clerk.get("/surveys/city-2027/interview")
    assert form.status_code == 200 and "Why this?" in form.text
    missing = post(clerk, "/surveys/city-2027/interview", full_answers())
    assert missing.status_code == 422 and 'id="error-channel"' in missing.text
    for _i in range(2):
        ok = post(clerk, "/surveys/city-2027/interview", full_answers(channel="paper"))
        assert ok.status_code == 303
    assert [r.channel for r in responses(database)] == ["paper", "paper"]
    resident = signed_in(app, database)
    assert resident.get("/surveys/city-2027/interview").status_code == 403


def test_questions_lock_once_a_wave_has_responses(database: Database) -> None:
    import pytest

    setup = make_survey(database)
    services.submit(database, "k", setup.wave.id, "account:1", {"sat_roads": 2},
                    {"district_id": None, "age_band": "", "gender": ""}, utcnow())
    from datetime import timedelta

    with database.session(write=True) as s:
        with pytest.raises(services.SurveyError):
            services.check_editable(s, setup.wave.id)
        wave = s.get(type(setup.wave), setup.wave.id)
        new = services.copy_wave(s, wave, utcnow() + timedelta(days=30),
                                 utcnow() + timedelta(days=40))
        services.check_editable(s, new.id)  # the new wave has no responses: editable
        assert [q.key for q in services.questions_of(s, new.id)] == [
            q.key for q in services.questions_of(s, setup.wave.id)]
        assert new.number == 2


def test_the_page_speaks_kyrgyz_and_russian(app: Any, database: Database) -> None:
    make_survey(database)
    client = signed_in(app, database)
    ky = client.get("/surveys/city-2027", headers={"Accept-Language": "ky"}).text
    assert "Мэрияга канчалык ишенесиз?" in ky and "Жоопторумду жөнөтүү" in ky
    ru = client.get("/surveys/city-2027", headers={"Accept-Language": "ru"}).text
    assert "Насколько вы доверяете мэрии?" in ru and "Отправить ответы" in ru
