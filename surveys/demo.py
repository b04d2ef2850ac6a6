"""Demo data: the ready "City services and trust" survey with two closed waves of generated
responses (enough to pass suppression) and an open third wave."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from core.models import District
from surveys.models import Audience, Channel, QuestionType, SurveyResponse
from surveys.services import AGE_BANDS, GENDERS, copy_wave, questions_of
from surveys.template import create_city_services_survey


def _answers(questions: list[Any], rng: random.Random, mood: float) -> dict[str, Any]:
    """Plausible answers: a respondent's mood shifts every rating a little."""
    out: dict[str, Any] = {}
    for q in questions:
        if q.kind == QuestionType.RATING5:
            out[q.key] = min(5, max(1, round(rng.gauss(3 + mood, 1.1))))
        elif q.kind == QuestionType.RATING10:
            out[q.key] = min(10, max(0, round(rng.gauss(5.5 + 2 * mood, 2.2))))
        elif q.kind == QuestionType.MATRIX:
            out[q.key] = {str(r["value"]): min(5, max(1, round(rng.gauss(3 + mood, 1.2))))
                          for r in q.rows}
        elif q.kind == QuestionType.MULTIPLE:
            out[q.key] = sorted(rng.sample([str(o["value"]) for o in q.options], 2))
        elif q.kind == QuestionType.LONG and "transport" in out.get("improve", []):
            out[q.key] = rng.choice(WHY)
    return out


#: Written answers of the demo, as a moderator would have published them.
WHY = [
    "Автобусы ходят редко, особенно вечером.",
    "Маршруткалар толуп кетет, күтүү узак.",
    "Buses are crowded and there is no timetable at the stops.",
    "Нужны выделенные полосы для автобусов.",
    "Кечинде автобус жок, таксиге акча кетет.",
]


def seed_demo_surveys(session: Session, now: datetime, districts: list[District],
                      per_wave: int = 240, seed: int = 2027) -> None:
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible on purpose
    survey, first = create_city_services_survey(
        session, "city-services-trust", (now - timedelta(days=200), now - timedelta(days=170)),
        audience=Audience.ACCOUNTS, label="I")
    second = copy_wave(session, first, now - timedelta(days=100), now - timedelta(days=70), "II")
    copy_wave(session, second, now - timedelta(days=3), now + timedelta(days=27), "III")
    ids = [d.id for d in districts]
    for wave, shift in ((first, -0.2), (second, 0.15)):
        questions = questions_of(session, wave.id or 0)
        for i in range(per_wave):
            mood = rng.gauss(shift, 0.6)
            answers = _answers(questions, rng, mood)
            session.add(SurveyResponse(
                wave_id=wave.id or 0, answers=answers,
                text_published=[k for k in ("improve_why",) if k in answers],
                # The sample over-represents the first district, as web samples do.
                district_id=ids[0] if rng.random() < 0.4 else rng.choice(ids),
                age_band=rng.choice(AGE_BANDS[1:]), gender=rng.choice(GENDERS[1:]),
                channel=Channel.PHONE if i % 6 == 0 else Channel.WEB, text_cleared=True))
    session.flush()
