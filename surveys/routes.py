"""Survey pages: the list, answering (one response per person per wave, changeable until the
wave closes), clerks' interview entry, results and the open data of a wave."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.i18n import get_locale
from core.i18n import gettext as _
from core.models import District, Role
from core.templating import render
from core.web import db, read_form, redirect, require_role
from surveys import opendata, services
from surveys.models import Audience, Survey, SurveyQuestion, SurveyWave
from surveys.results import (
    MIN_CELL,
    TEXT_KINDS,
    cached_results,
    choice_values,
    scale_values,
    sparkline,
    trends,
)
from surveys.screening import published_texts


def _survey(s: Session, slug: str) -> Survey:
    survey = s.exec(select(Survey).where(Survey.slug == slug[:60])).first()
    if survey is None:
        raise HTTPException(404)
    return survey


def _waves(s: Session, survey: Survey) -> list[SurveyWave]:
    return list(s.exec(select(SurveyWave).where(SurveyWave.survey_id == survey.id)
                       .order_by(col(SurveyWave.number))).all())


def _open_wave(s: Session, survey: Survey, now: Any) -> SurveyWave | None:
    return next((w for w in _waves(s, survey) if services.is_open(w, now)), None)


def _open_survey(s: Session, request: Request, now: Any) -> tuple[
        Survey, SurveyWave, list[SurveyQuestion], list[District]]:
    """The survey in the path, its open wave (404 when none), its questions and the
    districts a respondent chooses from."""
    survey = _survey(s, request.path_params["slug"])
    wave = _open_wave(s, survey, now)
    if wave is None:
        raise HTTPException(404)
    questions = services.questions_of(s, wave.id or 0)
    districts = list(s.exec(select(District).order_by(col(District.id))).all())
    return survey, wave, questions, districts


def results_visible(survey: Survey, wave: SurveyWave, now: Any) -> bool:
    return now >= wave.closes_at or (survey.live_results and now >= wave.opens_at)


def _text(request: Request) -> Any:
    locale = get_locale()
    return lambda texts: services.text_of(texts, locale)


async def survey_list(request: Request) -> Response:
    now = request.state.now
    with db(request) as s:
        surveys = list(s.exec(select(Survey).order_by(col(Survey.id))).all())
        rows = [(sv, _open_wave(s, sv, now),
                 [w for w in _waves(s, sv) if results_visible(sv, w, now)]) for sv in surveys]
    return render(request, "surveys/list.html", {"rows": rows, "t": _text(request)})


def _form_values(questions: list[SurveyQuestion], answers: dict[str, Any]) -> dict[str, Any]:
    """The form fields that show a stored response (to change it)."""
    values: dict[str, Any] = {}
    for q in questions:
        got = answers.get(q.key)
        name = f"q-{q.key}"
        if got is None:
            continue
        if isinstance(got, dict):
            values.update({f"{name}-{r}": str(v) for r, v in got.items()})
        elif q.kind == "ranking":
            values.update({f"{name}-{o}": str(i + 1) for i, o in enumerate(got)})
        elif isinstance(got, list):
            values[name] = got
        else:
            values[name] = str(got)
        if f"{q.key}.other" in answers:
            values[f"{name}-other"] = answers[f"{q.key}.other"]
    return values


def _answer_page(request: Request, survey: Survey, wave: SurveyWave,
                 shown: list[SurveyQuestion], values: dict[str, Any], errors: dict[str, str],
                 districts: list[District], *, status_code: int = 200, action: str,
                 notice: str | None = None, changing: bool = False,
                 clerk: bool = False) -> Response:
    return render(request, "surveys/answer.html", {
        "survey": survey, "wave": wave, "shown": shown, "values": values, "errors": errors,
        "districts": districts, "t": _text(request), "notice": notice, "action": action,
        "changing": changing, "clerk": clerk, "age_bands": services.AGE_BANDS[1:],
        "genders": services.GENDERS[1:], "scale": scale_values, "choices": choice_values,
        "audience": survey.audience, "Audience": Audience,
    }, status_code=status_code)


def _principal(request: Request, survey: Survey) -> str | None:
    return services.principal_of(survey, request.state.user, request.state.browser_id)


def _refusal(survey: Survey, request: Request) -> Response:
    if request.state.user is None:
        return redirect(request, f"/signin?next=/surveys/{survey.slug}")
    raise HTTPException(403, _("Only verified residents may answer this survey."))


async def answer(request: Request) -> Response:
    now = request.state.now
    secret = request.app.state.settings.secret_key
    with db(request) as s:
        survey, wave, questions, districts = _open_survey(s, request, now)
        principal = _principal(request, survey)
        if principal is None:
            return _refusal(survey, request)
        action = f"/surveys/{survey.slug}"
        if request.method == "GET":
            mine = services.own_response(s, secret, wave.id or 0, principal)
            answers = dict(mine.answers) if mine else {}
            values = _form_values(questions, answers)
            if mine:
                values.update(district=str(mine.district_id or ""), age_band=mine.age_band,
                              gender=mine.gender)
            return _answer_page(request, survey, wave, services.visible(questions, answers),
                                values, {}, districts, action=action, changing=mine is not None)
    data = await read_form(request)
    checked, shown = _check(data, questions, districts)
    posted = set(data.getlist("shown"))
    if posted and any(q.key not in posted for q in shown):
        # Earlier answers made further questions appear: show them (no JS needed).
        return _answer_page(request, survey, wave, shown, checked.values,
                            {k: v for k, v in checked.errors.items()
                             if not k.startswith("q-") or k.split("-")[1] in posted},
                            districts, action=action,
                            notice=_("Your answers opened further questions below. "
                                     "Answer them and send again."))
    if checked.errors:
        return _answer_page(request, survey, wave, shown, checked.values, checked.errors,
                            districts, status_code=422, action=action)
    demographics = checked.answers.pop("__demographics")
    try:
        new = services.submit(request.app.state.database, secret, wave.id or 0, principal,
                              checked.answers, demographics, now)
    except services.SurveyError as exc:
        raise HTTPException(exc.status_code, exc.message) from exc
    return redirect(request, f"/surveys/{survey.slug}",
                    _("Thank you: your answers are saved.") if new else
                    _("Your changed answers are saved."))


def _check(data: FormData, questions: list[SurveyQuestion],
           districts: list[District]) -> tuple[services.Checked, list[SurveyQuestion]]:
    def get(name: str) -> str:
        value = data.get(name)
        return value[:services.MAX_LONG + 1] if isinstance(value, str) else ""

    def getlist(name: str) -> list[str]:
        return [v[:100] for v in data.getlist(name) if isinstance(v, str)]

    checked, shown = services.check_answers(questions, get, getlist)
    demographics = services.check_demographics(get, {d.id or 0 for d in districts}, checked)
    checked.answers["__demographics"] = demographics
    return checked, shown


async def interview(request: Request) -> Response:
    """A clerk types in a telephone or paper interview, with its channel."""
    require_role(request, Role.CLERK)
    now = request.state.now
    with db(request) as s:
        survey, wave, questions, districts = _open_survey(s, request, now)
    action = f"/surveys/{survey.slug}/interview"
    if request.method == "GET":
        return _answer_page(request, survey, wave, questions, {}, {}, districts,
                            action=action, clerk=True)
    data = await read_form(request)
    checked, _shown = _check(data, questions, districts)
    channel = data.get("channel")
    if channel not in ("phone", "paper"):
        checked.errors["channel"] = _("Choose telephone or paper.")
    # A clerk sees every question: the interviewer asks conditional ones as the paper says.
    if checked.errors:
        checked.values["channel"] = channel if isinstance(channel, str) else ""
        return _answer_page(request, survey, wave, questions, checked.values, checked.errors,
                            districts, status_code=422, action=action, clerk=True)
    demographics = checked.answers.pop("__demographics")
    with db(request, write=True) as s:
        wave = s.get(SurveyWave, wave.id)
        assert wave is not None
        services.record_interview(s, wave, checked.answers, demographics, str(channel))
    return redirect(request, action, _("The interview is saved."))


def _visible_wave(s: Session, survey: Survey, number: int | None, now: Any) -> SurveyWave:
    waves = [w for w in _waves(s, survey) if results_visible(survey, w, now)]
    if not waves:
        raise HTTPException(404)
    if number is None:
        return waves[-1]
    found = next((w for w in waves if w.number == number), None)
    if found is None:
        raise HTTPException(404)
    return found


async def results_page(request: Request) -> Response:
    now = request.state.now
    raw = request.query_params.get("wave", "")
    number = int(raw) if raw.isdigit() and len(raw) < 6 else None
    with db(request) as s:
        survey = _survey(s, request.path_params["slug"])
        wave = _visible_wave(s, survey, number, now)
        result = cached_results(s, wave, now)
        visible_waves = [w for w in _waves(s, survey) if results_visible(survey, w, now)]
        trend = trends(s, survey.id or 0, {w.id or 0 for w in visible_waves})
        texts = {q.key: published_texts(s, wave.id or 0, q.key, wave.id or 0)
                 for q in result.questions if q.kind in TEXT_KINDS
                 and not result.by_key[q.key].suppressed}
    return render(request, "surveys/results.html", {
        "survey": survey, "wave": wave, "r": result, "t": _text(request),
        "waves": visible_waves, "trend": trend, "min_cell": MIN_CELL, "texts": texts,
        "labeller": _labeller, "sparkline": sparkline,
        "district_names": {d.id: d.localized("name", get_locale()) for d in result.districts},
    })


def _labeller(q: SurveyQuestion | None) -> Any:
    """The label of an answer value in the reader's language (scale points are numbers)."""
    locale = get_locale()
    labels = {str(o["value"]): services.text_of(o["label"], locale)
              for o in (q.options if q is not None else [])}
    labels[services.OTHER] = _("Other")
    return lambda v: labels.get(v, v)


async def open_data(request: Request) -> Response:
    now = request.state.now
    fmt = request.path_params["fmt"]
    with db(request) as s:
        survey = _survey(s, request.path_params["slug"])
        wave = _visible_wave(s, survey, int(request.path_params["number"]), now)
        return opendata.response(s, survey, wave, fmt, request.app.state.settings.secret_key)


routes = [
    Route("/surveys", survey_list, name="list"),
    Route("/surveys/{slug}", answer, methods=["GET", "POST"], name="answer"),
    Route("/surveys/{slug}/interview", interview, methods=["GET", "POST"], name="interview"),
    Route("/surveys/{slug}/results", results_page, name="results"),
    Route("/surveys/{slug}/waves/{number:int}/{fmt}", open_data, name="data"),
]
