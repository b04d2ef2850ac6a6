"""Writes of the survey admin pages. Every write is also an audit entry; every change to a
wave's questions first checks the wave has no response yet (`check_editable`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.audit import record
from core.i18n import gettext as _
from surveys.admin_forms import NewSurvey, SurveyData, WaveData
from surveys.models import Survey, SurveyQuestion, SurveyWave
from surveys.services import SurveyError, check_editable, copy_wave, questions_of
from surveys.template import create_city_services_survey


class Taken(Exception):
    """The short name is in use."""


def create_survey(s: Session, data: NewSurvey, admin_id: int | None, now: datetime) -> Survey:
    """A survey from the "City services and trust" template, or a blank one (its title is
    the short name until edited), with its first wave. Raises Taken."""
    if s.exec(select(Survey.id).where(Survey.slug == data.slug)).first() is not None:
        raise Taken
    window = (data.opens_at, data.closes_at)
    try:
        if data.start == "template":
            survey, _wave = create_city_services_survey(s, data.slug, window)
        else:
            survey = Survey(slug=data.slug, title={lang: data.slug for lang in ("ru", "ky",
                                                                                   "en")})
            s.add(survey)
            s.flush()
            s.add(SurveyWave(survey_id=survey.id or 0, number=1, opens_at=window[0],
                             closes_at=window[1]))
            s.flush()
    except IntegrityError as exc:
        raise Taken from exc
    record(s, admin_id, "survey.create", "survey", survey.id or 0, now, slug=data.slug,
           start=data.start)
    return survey


def update_survey(s: Session, survey: Survey, data: SurveyData, admin_id: int | None,
                  now: datetime) -> None:
    survey.title = data.title
    survey.intro = data.intro
    survey.audience = data.audience
    survey.live_results = data.live_results
    s.add(survey)
    record(s, admin_id, "survey.update", "survey", survey.id or 0, now,
           audience=data.audience, live_results=data.live_results)


def waves_of(s: Session, survey: Survey) -> list[SurveyWave]:
    return list(s.exec(select(SurveyWave).where(SurveyWave.survey_id == survey.id)
                       .order_by(col(SurveyWave.number))).all())


def overlapping(waves: list[SurveyWave], opens_at: datetime, closes_at: datetime,
                own_id: int | None = None) -> SurveyWave | None:
    """The first other wave whose [opens, closes) meets this one, if any."""
    def aware(moment: datetime) -> datetime:
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    return next((w for w in waves if w.id != own_id and aware(w.opens_at) < closes_at
                 and opens_at < aware(w.closes_at)), None)


def add_wave(s: Session, survey: Survey, data: WaveData, admin_id: int | None,
             now: datetime) -> SurveyWave:
    """A new wave with the questions of the latest one (same keys, so trends join)."""
    waves = waves_of(s, survey)
    if waves:
        wave = copy_wave(s, waves[-1], data.opens_at, data.closes_at, data.label)
    else:
        wave = SurveyWave(survey_id=survey.id or 0, number=1, label=data.label,
                          opens_at=data.opens_at, closes_at=data.closes_at)
        s.add(wave)
        s.flush()
    record(s, admin_id, "survey.wave_create", "surveywave", wave.id or 0, now,
           survey=survey.slug, number=wave.number)
    return wave


def update_wave(s: Session, wave: SurveyWave, data: WaveData, admin_id: int | None,
                now: datetime) -> None:
    """New dates or label. Dates may move even after responses (to extend a wave)."""
    wave.label, wave.opens_at, wave.closes_at = data.label, data.opens_at, data.closes_at
    s.add(wave)
    record(s, admin_id, "survey.wave_update", "surveywave", wave.id or 0, now,
           opens_at=data.opens_at.isoformat(), closes_at=data.closes_at.isoformat())


def add_question(s: Session, wave: SurveyWave, values: dict[str, Any], admin_id: int | None,
                 now: datetime) -> SurveyQuestion:
    """A question at the end of the wave. Raises SurveyError once the wave has responses."""
    check_editable(s, wave.id or 0)
    existing = questions_of(s, wave.id or 0)
    question = SurveyQuestion(wave_id=wave.id or 0, position=len(existing), **values)
    s.add(question)
    s.flush()
    record(s, admin_id, "survey.question_create", "surveyquestion", question.id or 0, now,
           key=question.key)
    return question


def update_question(s: Session, question: SurveyQuestion, values: dict[str, Any],
                    admin_id: int | None, now: datetime) -> None:
    check_editable(s, question.wave_id)
    later = [q for q in questions_of(s, question.wave_id)
             if (q.show_if or {}).get("key") == question.key]
    if later:
        from surveys.results import choice_values

        changed = SurveyQuestion(wave_id=question.wave_id, **{
            **values, "key": question.key})
        for q in later:
            cond = q.show_if or {}
            wanted = "includes" if changed.kind == "multiple" else "equals"
            if wanted not in cond or str(cond[wanted]) not in choice_values(changed):
                raise SurveyError(_("A later question is shown depending on this one: "
                                    "change its condition first."))
    for name, value in values.items():
        if name != "key":
            setattr(question, name, value)
    s.add(question)
    record(s, admin_id, "survey.question_update", "surveyquestion", question.id or 0, now,
           key=question.key)


def delete_question(s: Session, question: SurveyQuestion, admin_id: int | None,
                    now: datetime) -> None:
    """Remove a question no later question's condition names."""
    check_editable(s, question.wave_id)
    rest = [q for q in questions_of(s, question.wave_id) if q.id != question.id]
    if any((q.show_if or {}).get("key") == question.key for q in rest):
        raise SurveyError(_("A later question is shown depending on this one: change its "
                            "condition first."))
    record(s, admin_id, "survey.question_delete", "surveyquestion", question.id or 0, now,
           key=question.key)
    s.delete(question)
    for i, q in enumerate(rest):
        q.position = i
        s.add(q)


def move_question(s: Session, question: SurveyQuestion, up: bool, admin_id: int | None,
                  now: datetime) -> None:
    """Swap a question with its neighbour. A question cannot move above the question its
    condition names (nor that one below it): conditions read earlier answers only."""
    check_editable(s, question.wave_id)
    order = questions_of(s, question.wave_id)
    i = next(n for n, q in enumerate(order) if q.id == question.id)
    j = i - 1 if up else i + 1
    if not 0 <= j < len(order):
        return
    first, second = (order[j], order[i]) if up else (order[i], order[j])
    if (second.show_if or {}).get("key") == first.key:
        raise SurveyError(_("A question must stay below the question its condition names."))
    order[i], order[j] = order[j], order[i]
    for n, q in enumerate(order):
        q.position = n
        s.add(q)
    record(s, admin_id, "survey.question_move", "surveyquestion", question.id or 0, now,
           key=question.key, up=up)
