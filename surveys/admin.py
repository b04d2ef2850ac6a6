"""Admin pages to build surveys: the list (new from the template or blank), a survey's texts,
audience and waves, a wave's dates and questions, and each question in ru, ky and en.

Each endpoint demands the admin role, reads a POST through `read_form` (CSRF), calls one
service, then redirects (303 with a message) or shows the form again at 422. Surveys, waves
and questions are named in paths by slug, number and key, as the public pages name them.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.forms import Form
from core.i18n import get_locale
from core.i18n import gettext as _
from core.models import Role
from core.templating import render
from core.web import db, field_str, read_form, redirect, require_role
from surveys import admin_forms as forms
from surveys import admin_services as services
from surveys.models import Audience, QuestionType, Survey, SurveyQuestion, SurveyWave
from surveys.services import SurveyError, check_editable, has_responses, questions_of, text_of


def access_survey(s: Session, request: Request) -> Survey:
    """The survey in the path (404 when none); the caller checked the role."""
    survey = s.exec(select(Survey).where(
        Survey.slug == str(request.path_params["slug"])[:60])).first()
    if survey is None:
        raise HTTPException(404)
    return survey


def access_wave(s: Session, request: Request) -> tuple[Survey, SurveyWave]:
    survey = access_survey(s, request)
    wave = s.exec(select(SurveyWave).where(
        SurveyWave.survey_id == survey.id,
        SurveyWave.number == request.path_params["number"])).first()
    if wave is None:
        raise HTTPException(404)
    return survey, wave


def access_question(s: Session, request: Request) -> tuple[Survey, SurveyWave, SurveyQuestion]:
    survey, wave = access_wave(s, request)
    question = s.exec(select(SurveyQuestion).where(
        SurveyQuestion.wave_id == wave.id,
        SurveyQuestion.key == str(request.path_params["key"])[:40])).first()
    if question is None:
        raise HTTPException(404)
    return survey, wave, question


def _page(request: Request, template: str, context: dict[str, Any], shown: list[Form]
          ) -> Response:
    status = 422 if any(f.errors for f in shown) else 200
    t = {"t": lambda texts: text_of(texts, get_locale()), "audiences": _audiences(),
         "time_zone": request.app.state.settings.time_zone}
    return render(request, template, {**t, **context}, status_code=status)


def _audiences() -> list[tuple[str, str]]:
    return [(Audience.VERIFIED, _("Verified residents only")),
            (Audience.ACCOUNTS, _("Any signed-in account")),
            (Audience.ANONYMOUS, _("Anyone, without an account (one response per browser)"))]


def _kinds() -> list[tuple[str, str]]:
    return [(QuestionType.SINGLE, _("Single choice")),
            (QuestionType.MULTIPLE, _("Multiple choice")),
            (QuestionType.RATING5, _("Rating 1-5")), (QuestionType.RATING10, _("Rating 0-10")),
            (QuestionType.MATRIX, _("Matrix (rows x a 1-5 scale)")),
            (QuestionType.RANKING, _("Ranking")), (QuestionType.NUMBER, _("Number")),
            (QuestionType.SHORT, _("Short text")), (QuestionType.LONG, _("Long text"))]


async def surveys_page(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    now = request.state.now
    time_zone = request.app.state.settings.time_zone
    form = Form(values={"start": "template"})
    if request.method == "POST":
        form, data = forms.new_survey_form(await read_form(request), time_zone)
        if data is not None:
            try:
                with db(request, write=True) as s:
                    survey = services.create_survey(s, data, admin.id, now)
                return redirect(request, f"/admin/surveys/{survey.slug}",
                                _("The survey is created."))
            except services.Taken:
                form.errors["slug"] = _("This short name is already taken. Choose another.")
    with db(request) as s:
        surveys = list(s.exec(select(Survey).order_by(col(Survey.id))).all())
        waves = {sv.id: services.waves_of(s, sv) for sv in surveys}
    return _page(request, "surveys/admin_list.html",
                 {"surveys": surveys, "waves": waves, "form": form}, [form])


async def _survey_page(request: Request, form: Form | None = None,
                       wave_form: Form | None = None) -> Response:
    with db(request) as s:
        survey = access_survey(s, request)
        waves = services.waves_of(s, survey)
        answered = {w.id: has_responses(s, w.id or 0) for w in waves}
    form = form or Form(values=forms.survey_values(survey))
    wave_form = wave_form or Form()
    return _page(request, "surveys/admin_survey.html", {
        "survey": survey, "waves": waves, "answered": answered, "form": form,
        "wave_form": wave_form}, [form, wave_form])


async def survey_edit(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    if request.method == "GET":
        return await _survey_page(request)
    form, data = forms.survey_form(await read_form(request))
    if data is None:
        return await _survey_page(request, form=form)
    with db(request, write=True) as s:
        survey = access_survey(s, request)
        services.update_survey(s, survey, data, admin.id, request.state.now)
    return redirect(request, f"/admin/surveys/{survey.slug}", _("The survey is saved."))


async def wave_create(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    form, data = forms.wave_form(await read_form(request),
                                 request.app.state.settings.time_zone)
    if data is not None:
        with db(request) as s:
            _overlap(form, services.waves_of(s, access_survey(s, request)), data, None)
    if data is None or not form.ok:
        return await _survey_page(request, wave_form=form)
    with db(request, write=True) as s:
        survey = access_survey(s, request)
        wave = services.add_wave(s, survey, data, admin.id, request.state.now)
    return redirect(request, f"/admin/surveys/{survey.slug}/waves/{wave.number}",
                    _("The new wave is created with the questions of the previous one."))


async def _wave_page(request: Request, form: Form | None = None) -> Response:
    time_zone = request.app.state.settings.time_zone
    with db(request) as s:
        survey, wave = access_wave(s, request)
        questions = questions_of(s, wave.id or 0)
        locked = has_responses(s, wave.id or 0)
    form = form or Form(values=forms.wave_values(wave, time_zone))
    return _page(request, "surveys/admin_wave.html", {
        "survey": survey, "wave": wave, "questions": questions, "locked": locked,
        "form": form, "kinds": dict(_kinds())}, [form])


async def wave_edit(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    if request.method == "GET":
        return await _wave_page(request)
    form, data = forms.wave_form(await read_form(request),
                                 request.app.state.settings.time_zone)
    if data is not None:
        with db(request) as s:
            survey, wave = access_wave(s, request)
            _overlap(form, services.waves_of(s, survey), data, wave.id)
    if data is None or not form.ok:
        return await _wave_page(request, form)
    with db(request, write=True) as s:
        survey, wave = access_wave(s, request)
        services.update_wave(s, wave, data, admin.id, request.state.now)
    return redirect(request, _wave_url(survey, wave), _("The wave is saved."))


def _overlap(form: Form, waves: list[SurveyWave], data: forms.WaveData,
             own_id: int | None) -> None:
    """Waves of one survey do not overlap: the survey page answers in one wave at a time."""
    other = services.overlapping(waves, data.opens_at, data.closes_at, own_id)
    if other is not None:
        form.errors["opens_at"] = _("These dates overlap wave %(n)s.", n=other.number)


def _wave_url(survey: Survey, wave: SurveyWave) -> str:
    return f"/admin/surveys/{survey.slug}/waves/{wave.number}"


def _lock_of(s: Session, wave: SurveyWave) -> SurveyError | None:
    try:
        check_editable(s, wave.id or 0)
    except SurveyError as exc:
        return exc
    return None


def _locked(request: Request, survey: Survey, wave: SurveyWave, exc: SurveyError) -> Response:
    return redirect(request, _wave_url(survey, wave), exc.message, "error")


async def _question_page(request: Request, survey: Survey, wave: SurveyWave,
                         question: SurveyQuestion | None, form: Form,
                         earlier: list[SurveyQuestion], locked: bool = False) -> Response:
    return _page(request, "surveys/admin_question.html", {
        "survey": survey, "wave": wave, "question": question, "form": form,
        "kinds": _kinds(), "earlier": earlier, "locked": locked}, [form])


async def question_create(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    with db(request) as s:
        survey, wave = access_wave(s, request)
        questions = questions_of(s, wave.id or 0)
        refusal = _lock_of(s, wave)
    if refusal is not None:
        return _locked(request, survey, wave, refusal)
    if request.method == "GET":
        return await _question_page(request, survey, wave, None,
                                    Form(values={"kind": QuestionType.RATING5}), questions)
    form, values = forms.question_form(await read_form(request), questions,
                                       {q.key for q in questions})
    if values is None:
        return await _question_page(request, survey, wave, None, form, questions)
    try:
        with db(request, write=True) as s:
            _survey, target = access_wave(s, request)
            services.add_question(s, target, values, admin.id, request.state.now)
    except SurveyError as exc:
        return _locked(request, survey, wave, exc)
    return redirect(request, _wave_url(survey, wave), _("The question is added."))


async def question_edit(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    with db(request) as s:
        survey, wave, question = access_question(s, request)
        questions = questions_of(s, wave.id or 0)
        refusal = _lock_of(s, wave)
    earlier = questions[:next(i for i, q in enumerate(questions) if q.id == question.id)]
    if request.method == "GET":
        return await _question_page(request, survey, wave, question,
                                    Form(values=forms.question_values(question)), earlier,
                                    locked=refusal is not None)
    if refusal is not None:
        return _locked(request, survey, wave, refusal)
    form, values = forms.question_form(await read_form(request), earlier,
                                       {q.key for q in questions}, key=question.key)
    if values is None:
        return await _question_page(request, survey, wave, question, form, earlier)
    try:
        with db(request, write=True) as s:
            _s, _w, target = access_question(s, request)
            services.update_question(s, target, values, admin.id, request.state.now)
    except SurveyError as exc:
        return _locked(request, survey, wave, exc)
    return redirect(request, _wave_url(survey, wave), _("The question is saved."))


async def question_move(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    data = await read_form(request)
    direction = field_str(data, "direction", 5)
    with db(request) as s:
        survey, wave, moved = access_question(s, request)
    if direction not in ("up", "down"):
        return redirect(request, _wave_url(survey, wave), _("Choose up or down."), "error")
    try:
        with db(request, write=True) as s:
            _s, _w, question = access_question(s, request)
            services.move_question(s, question, direction == "up", admin.id,
                                   request.state.now)
    except SurveyError as exc:
        return _locked(request, survey, wave, exc)
    return redirect(request, f"{_wave_url(survey, wave)}#question-{moved.key}",
                    _("The question is moved."))


async def question_delete(request: Request) -> Response:
    admin = require_role(request, Role.ADMIN)
    data = await read_form(request)
    with db(request) as s:
        survey, wave, _question = access_question(s, request)
    if field_str(data, "confirm", 5) != "yes":
        return redirect(request, _wave_url(survey, wave),
                        _("Tick the box to confirm the removal."), "error")
    try:
        with db(request, write=True) as s:
            _s, _w, question = access_question(s, request)
            services.delete_question(s, question, admin.id, request.state.now)
    except SurveyError as exc:
        return _locked(request, survey, wave, exc)
    return redirect(request, _wave_url(survey, wave), _("The question is removed."))


routes = [
    Route("/admin/surveys", surveys_page, methods=["GET", "POST"], name="surveys"),
    Route("/admin/surveys/{slug}", survey_edit, methods=["GET", "POST"], name="survey"),
    Route("/admin/surveys/{slug}/waves", wave_create, methods=["POST"], name="wave_create"),
    Route("/admin/surveys/{slug}/waves/{number:int}", wave_edit, methods=["GET", "POST"],
          name="wave"),
    Route("/admin/surveys/{slug}/waves/{number:int}/questions/new", question_create,
          methods=["GET", "POST"], name="question_create"),
    Route("/admin/surveys/{slug}/waves/{number:int}/questions/{key}", question_edit,
          methods=["GET", "POST"], name="question"),
    Route("/admin/surveys/{slug}/waves/{number:int}/questions/{key}/move", question_move,
          methods=["POST"], name="question_move"),
    Route("/admin/surveys/{slug}/waves/{number:int}/questions/{key}/delete", question_delete,
          methods=["POST"], name="question_delete"),
]
