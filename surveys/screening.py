"""Screening of survey free text: a moderator reads each response's written answers (and
nothing else about it: no district, age band, gender or channel) and publishes or withholds
each. Only published answers appear in the results, and only for a question with at least
MIN_CELL answers. The moderation queue links here (moderation/routes.py)."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.audit import record
from core.i18n import get_locale
from core.i18n import gettext as _
from core.models import Role
from core.templating import render
from core.web import db, read_form, redirect, require_user
from surveys.models import Survey, SurveyQuestion, SurveyResponse, SurveyWave
from surveys.services import SurveyError, questions_of, text_of, texts_of

PAGE = 30


@dataclass
class Pending:
    response_id: int
    survey: Survey
    wave: SurveyWave
    texts: list[tuple[SurveyQuestion, str]]
    digest: str


def digest(texts: list[tuple[SurveyQuestion, str]]) -> str:
    """A fingerprint of the texts a moderator saw: if the resident changes them in between,
    the decision is refused rather than applied to text nobody read."""
    raw = json.dumps([(q.key, t) for q, t in texts], ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def pending_count(s: Session) -> int:
    return int(s.exec(select(func.count(col(SurveyResponse.id)))
                      .where(col(SurveyResponse.text_cleared).is_(False))).one())


def pending(s: Session, limit: int = PAGE) -> list[Pending]:
    """Responses whose written answers wait for screening, oldest first."""
    rows = s.exec(select(SurveyResponse).where(col(SurveyResponse.text_cleared).is_(False))
                  .order_by(col(SurveyResponse.id)).limit(limit)).all()
    out: list[Pending] = []
    questions: dict[int, list[SurveyQuestion]] = {}
    for r in rows:
        if r.wave_id not in questions:
            questions[r.wave_id] = questions_of(s, r.wave_id)
        wave = s.get(SurveyWave, r.wave_id)
        survey = s.get(Survey, wave.survey_id) if wave else None
        if wave is None or survey is None:
            continue
        texts = texts_of(questions[r.wave_id], dict(r.answers))
        out.append(Pending(r.id or 0, survey, wave, texts, digest(texts)))
    return out


def screen(s: Session, response: SurveyResponse, seen: str, published: set[str],
           moderator_id: int, now: datetime) -> None:
    """Publish the written answers whose keys are in `published`, withhold the others.
    Raises SurveyError when the texts changed since the moderator read them."""
    texts = texts_of(questions_of(s, response.wave_id), dict(response.answers))
    if response.text_cleared or seen != digest(texts):
        raise SurveyError(_("This answer changed or was screened meanwhile; screen it again."))
    keys = [q.key for q, _t in texts if q.key in published]
    response.text_cleared = True
    response.text_published = keys
    s.add(response)
    record(s, moderator_id, "survey.text_screen", "surveyresponse", response.id or 0, now,
           published=len(keys), withheld=len(texts) - len(keys))


def published_texts(s: Session, wave_id: int, key: str, seed: int) -> list[str]:
    """The published written answers to one question, shuffled (so their order says nothing
    of when or by whom they were given)."""
    rows = s.exec(select(SurveyResponse.answers, SurveyResponse.text_published)
                  .where(SurveyResponse.wave_id == wave_id,
                         col(SurveyResponse.text_cleared).is_(True))).all()
    texts = [str(a[key]) for a, p in rows if key in (p or []) and a.get(key)]
    random.Random(seed).shuffle(texts)  # noqa: S311 - order only, not a secret
    return texts


def _require_moderator(request: Request) -> int:
    user = require_user(request)
    if not request.state.roles & {Role.MODERATOR, Role.ADMIN}:
        raise HTTPException(403, _("Only moderators can do this."))
    return int(user.id)


async def queue_page(request: Request) -> Response:
    _require_moderator(request)
    with db(request) as s:
        items = pending(s)
        total = pending_count(s)
    locale = get_locale()
    return render(request, "surveys/screening.html", {
        "items": items, "total": total, "t": lambda texts: text_of(texts, locale)})


async def decide(request: Request) -> Response:
    moderator_id = _require_moderator(request)
    data = await read_form(request)
    seen = data.get("digest")
    published = {v for v in data.getlist("publish") if isinstance(v, str)}
    try:
        with db(request, write=True) as s:
            response = s.get(SurveyResponse, request.path_params["response_id"])
            if response is None:
                raise HTTPException(404)
            screen(s, response, seen if isinstance(seen, str) else "", published,
                   moderator_id, request.state.now)
    except SurveyError as exc:
        return redirect(request, "/moderation/surveys", exc.message, "error")
    return redirect(request, "/moderation/surveys", _("The written answers are screened."))


routes = [
    Route("/moderation/surveys", queue_page, name="queue"),
    Route("/moderation/surveys/{response_id:int}", decide, methods=["POST"], name="decide"),
]
