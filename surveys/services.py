"""Answering a survey: which questions show, checking answers per type, and recording one
response per person and wave (a keyed pseudonym under a unique constraint, kept apart from
the answers), which its author may change until the wave closes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.db import Database
from core.i18n import gettext as _
from surveys.models import (
    Channel,
    QuestionType,
    Survey,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
    SurveyWave,
)

MAX_SHORT = 200
MAX_LONG = 5000
MAX_NUMBER = 10**9
OTHER = "other"
ASCII_INT = re.compile(r"-?[0-9]{1,12}")
AGE_BANDS = ("", "16-24", "25-34", "35-44", "45-54", "55-64", "65+", "no_say")
GENDERS = ("", "female", "male", "no_say")


class SurveyError(Exception):
    def __init__(self, message: str, status_code: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def text_of(texts: dict[str, Any] | None, locale: str) -> str:
    """The text in the reader's language, else Russian, else any."""
    if not texts:
        return ""
    return str(texts.get(locale) or texts.get("ru") or next(iter(texts.values()), ""))


def questions_of(s: Session, wave_id: int) -> list[SurveyQuestion]:
    return list(s.exec(select(SurveyQuestion).where(SurveyQuestion.wave_id == wave_id)
                       .order_by(col(SurveyQuestion.position), col(SurveyQuestion.id))).all())


def texts_of(questions: list[SurveyQuestion], answers: dict[str, Any]) -> list[
        tuple[SurveyQuestion, str]]:
    """The free-text answers (short and long text questions) of a response, in question
    order: what a moderator screens before any is published."""
    return [(q, str(answers[q.key])) for q in questions
            if q.kind in (QuestionType.SHORT, QuestionType.LONG) and answers.get(q.key)]


def is_open(wave: SurveyWave, now: datetime) -> bool:
    return wave.opens_at <= now < wave.closes_at


def open_surveys(s: Session, now: datetime) -> list[tuple[Survey, SurveyWave]]:
    """Surveys with a wave open now, with that wave (for the home page)."""
    rows = s.exec(select(Survey, SurveyWave).where(
        SurveyWave.survey_id == Survey.id, SurveyWave.opens_at <= now,
        SurveyWave.closes_at > now).order_by(col(SurveyWave.closes_at))).all()
    return [(sv, w) for sv, w in rows]


def has_responses(s: Session, wave_id: int) -> bool:
    return s.exec(select(SurveyResponse.id).where(SurveyResponse.wave_id == wave_id)
                  .limit(1)).first() is not None


def check_editable(s: Session, wave_id: int) -> None:
    """Questions are locked once the wave has a response; a new wave copies them."""
    if has_responses(s, wave_id):
        raise SurveyError(_("This wave has responses: its questions are locked. "
                            "Start a new wave to change them."))


def copy_wave(s: Session, wave: SurveyWave, opens_at: datetime,
              closes_at: datetime, label: str = "") -> SurveyWave:
    """A new wave of the same survey with the same questions (same keys, so trends join)."""
    last = s.exec(select(SurveyWave.number).where(SurveyWave.survey_id == wave.survey_id)
                  .order_by(col(SurveyWave.number).desc())).first() or 0
    new = SurveyWave(survey_id=wave.survey_id, number=last + 1, label=label,
                     opens_at=opens_at, closes_at=closes_at)
    s.add(new)
    s.flush()
    for q in questions_of(s, wave.id or 0):
        data = q.model_dump(exclude={"id", "wave_id"})
        s.add(SurveyQuestion(wave_id=new.id or 0, **data))
    s.flush()
    return new


# --- which questions show ---------------------------------------------------------------

def condition_met(question: SurveyQuestion, answers: dict[str, Any]) -> bool:
    cond = question.show_if
    if not cond:
        return True
    given = answers.get(str(cond.get("key", "")))
    if given is None:
        return False
    if "equals" in cond:
        return str(given) == str(cond["equals"])
    if "includes" in cond:
        return isinstance(given, list) and str(cond["includes"]) in given
    return True


def visible(questions: list[SurveyQuestion], answers: dict[str, Any]) -> list[SurveyQuestion]:
    """Questions shown for these answers; a condition can only name an earlier question."""
    return [q for q in questions if condition_met(q, answers)]


# --- checking answers -------------------------------------------------------------------

@dataclass
class Checked:
    answers: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    #: Raw values to re-render the form with.
    values: dict[str, Any] = field(default_factory=dict)


def _option_values(q: SurveyQuestion) -> list[str]:
    return [str(o["value"]) for o in q.options]


def _int_in(raw: str, low: int, high: int) -> int | None:
    raw = raw.strip()
    if not ASCII_INT.fullmatch(raw):  # not str.isdigit: it takes "²" and "１２３"
        return None
    n = int(raw)
    return n if low <= n <= high else None


def scale_of(q: SurveyQuestion) -> range:
    return range(0, 11) if q.kind == QuestionType.RATING10 else range(1, 6)


def _check_other(q: SurveyQuestion, get: Any, out: Checked) -> str | None:
    """The text of an "other" answer: stored beside the answer, or an error."""
    name = f"q-{q.key}"
    other = get(f"{name}-other").strip()
    out.values[f"{name}-other"] = other
    if not other:
        return _("Say what your other answer is.")
    if len(other) > MAX_SHORT:
        return _("At most %(n)s characters.", n=MAX_SHORT)
    out.answers[f"{q.key}.other"] = other
    return None


def check_one(q: SurveyQuestion, get: Any, getlist: Any, out: Checked) -> None:
    """Check one visible question's fields; `get(name)` / `getlist(name)` read the form."""
    name = f"q-{q.key}"
    kind = q.kind
    err: str | None = None
    value: Any = None
    if kind == QuestionType.SINGLE:
        raw = get(name)
        out.values[name] = raw
        if raw:
            if raw == OTHER and q.allow_other:
                err = _check_other(q, get, out)
                value = OTHER if err is None else None
            elif raw in _option_values(q):
                value = raw
            else:
                err = _("Choose one of the answers.")
    elif kind == QuestionType.MULTIPLE:
        raws = [r for r in getlist(name) if r]
        out.values[name] = raws
        allowed = set(_option_values(q)) | ({OTHER} if q.allow_other else set())
        if any(r not in allowed for r in raws) or len(raws) != len(set(raws)):
            err = _("Choose among the answers shown.")
        elif raws:
            if OTHER in raws:
                err = _check_other(q, get, out)
            value = sorted(raws, key=lambda v: (v == OTHER, v))
    elif kind in (QuestionType.RATING5, QuestionType.RATING10):
        raw = get(name).strip()
        out.values[name] = raw
        scale = scale_of(q)
        if raw:
            value = _int_in(raw, scale.start, scale.stop - 1)
            if value is None:
                err = _("Choose a point on the scale from %(low)s to %(high)s.",
                        low=scale.start, high=scale.stop - 1)
    elif kind == QuestionType.MATRIX:
        scale = scale_of(q)
        got: dict[str, int] = {}
        missing = False
        for row in q.rows:
            rname = f"{name}-{row['value']}"
            raw = get(rname).strip()
            out.values[rname] = raw
            if not raw:
                missing = True
                continue
            n = _int_in(raw, scale.start, scale.stop - 1)
            if n is None:
                err = _("Choose a point on the scale from %(low)s to %(high)s.",
                        low=scale.start, high=scale.stop - 1)
            else:
                got[str(row["value"])] = n
        if got and missing and q.required and err is None:
            err = _("Answer every row.")
        value = got or None
    elif kind == QuestionType.RANKING:
        opts = _option_values(q)
        ranks: dict[str, int] = {}
        for o in opts:
            raw = get(f"{name}-{o}").strip()
            out.values[f"{name}-{o}"] = raw
            if raw:
                n = _int_in(raw, 1, len(opts))
                if n is None:
                    err = _("Give each item a different rank from 1 to %(n)s.", n=len(opts))
                else:
                    ranks[o] = n
        if ranks and err is None:
            if len(ranks) != len(opts) or sorted(ranks.values()) != list(range(1, len(opts) + 1)):
                err = _("Give each item a different rank from 1 to %(n)s.", n=len(opts))
            else:
                value = sorted(opts, key=lambda o: ranks[o])
    elif kind == QuestionType.NUMBER:
        raw = get(name).strip().replace(",", ".").replace("\u00a0", "").replace(" ", "")
        out.values[name] = get(name)
        if raw:
            try:
                number = float(raw)
            except ValueError:
                number = float("nan")
            if number != number or abs(number) > MAX_NUMBER:
                err = _("Enter a number.")
            else:
                value = int(number) if number.is_integer() else number
    elif kind in (QuestionType.SHORT, QuestionType.LONG):
        limit = MAX_SHORT if kind == QuestionType.SHORT else MAX_LONG
        raw = get(name).strip()
        out.values[name] = raw
        if len(raw) > limit:
            err = _("At most %(n)s characters.", n=limit)
        elif raw:
            value = raw
    if err is None and value is None and q.required:
        err = _("This question needs an answer.")
    if err is not None:
        out.errors[name] = err
    elif value is not None:
        out.answers[q.key] = value


def check_answers(questions: list[SurveyQuestion], get: Any, getlist: Any) -> tuple[
        Checked, list[SurveyQuestion]]:
    """Answers of the questions visible given the earlier answers, in order (so a condition
    sees what was answered before it). Returns the check and the visible questions."""
    out = Checked()
    shown: list[SurveyQuestion] = []
    for q in questions:
        if not condition_met(q, out.answers):
            continue
        shown.append(q)
        check_one(q, get, getlist, out)
    return out, shown


def check_demographics(get: Any, district_ids: set[int], out: Checked) -> dict[str, Any]:
    district = _int_in(get("district"), 1, 10**9)
    out.values["district"] = get("district")
    if get("district") and district not in district_ids:
        out.errors["district"] = _("Choose your district from the list.")
        district = None
    age = get("age_band")
    gender = get("gender")
    out.values.update(age_band=age, gender=gender)
    if age not in AGE_BANDS:
        out.errors["age_band"] = _("Choose an age band from the list.")
    if gender not in GENDERS:
        out.errors["gender"] = _("Choose an answer from the list.")
    return {"district_id": district, "age_band": age if age in AGE_BANDS else "",
            "gender": gender if gender in GENDERS else ""}


# --- who answered, once -----------------------------------------------------------------

def principal_of(survey: Survey, user: Any, browser_id: str) -> str | None:
    """The secret the pseudonym is keyed from: the account, or (anonymous surveys, no
    account) the browser's token. None when this person may not answer."""
    from surveys.models import Audience

    if survey.audience == Audience.VERIFIED:
        return f"account:{user.id}" if user is not None and user.is_verified else None
    if survey.audience == Audience.ACCOUNTS:
        return f"account:{user.id}" if user is not None else None
    return f"account:{user.id}" if user is not None else f"browser:{browser_id}"


def pseudonym(secret: str, wave_id: int, principal: str) -> str:
    return hmac.new(secret.encode(), f"survey-pseudonym|{wave_id}|{principal}".encode(),
                    hashlib.sha256).hexdigest()


def _sealer(secret: str, wave_id: int, principal: str) -> Fernet:
    key = hmac.new(secret.encode(), f"survey-seal|{wave_id}|{principal}".encode(),
                   hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _open_seal(secret: str, wave_id: int, principal: str, sealed: str) -> int | None:
    try:
        return int(_sealer(secret, wave_id, principal).decrypt(sealed.encode()))
    except (InvalidToken, ValueError):
        return None


def own_response(s: Session, secret: str, wave_id: int, principal: str) -> SurveyResponse | None:
    """The response this person gave in this wave, if any (to show or change it)."""
    part = s.exec(select(SurveyParticipation).where(
        SurveyParticipation.wave_id == wave_id,
        SurveyParticipation.pseudonym == pseudonym(secret, wave_id, principal))).first()
    if part is None:
        return None
    rid = _open_seal(secret, wave_id, principal, part.sealed)
    return s.get(SurveyResponse, rid) if rid is not None else None


def submit(database: Database, secret: str, wave_id: int, principal: str,
           answers: dict[str, Any], demographics: dict[str, Any], now: datetime) -> bool:
    """Record (or replace) this person's response. True when it is new. Parallel calls for
    one person leave one response: the participation's unique pseudonym lets one insert win;
    the others then update the response the winner sealed."""
    name = pseudonym(secret, wave_id, principal)
    for _attempt in range(5):
        try:
            with database.session(write=True) as s:
                wave = s.get(SurveyWave, wave_id)
                if wave is None or not is_open(wave, now):
                    raise SurveyError(_("This survey is not open now."))
                part = s.exec(select(SurveyParticipation).where(
                    SurveyParticipation.wave_id == wave_id,
                    SurveyParticipation.pseudonym == name)).first()
                nothing_to_screen = not texts_of(questions_of(s, wave_id), answers)
                if part is None:
                    part = SurveyParticipation(wave_id=wave_id, pseudonym=name)
                    s.add(part)
                    s.flush()  # the unique constraint decides here
                    response = SurveyResponse(wave_id=wave_id, answers=answers,
                                              channel=Channel.WEB,
                                              text_cleared=nothing_to_screen, **demographics)
                    s.add(response)
                    s.flush()
                    part.sealed = _sealer(secret, wave_id, principal).encrypt(
                        str(response.id).encode()).decode()
                    s.add(part)
                    return True
                rid = _open_seal(secret, wave_id, principal, part.sealed)
                found = s.get(SurveyResponse, rid) if rid is not None else None
                if found is None:
                    raise SurveyError(_("Your earlier response cannot be found."))
                found.answers = answers
                found.district_id = demographics["district_id"]
                found.age_band = demographics["age_band"]
                found.gender = demographics["gender"]
                # Changed text is screened again.
                found.text_cleared = nothing_to_screen
                found.text_published = []
                s.add(found)
                return False
        except IntegrityError:
            continue  # someone (this person, in another tab) inserted first: update theirs
    raise SurveyError(_("Please try again."), 503)


def record_interview(s: Session, wave: SurveyWave, answers: dict[str, Any],
                     demographics: dict[str, Any], channel: str) -> SurveyResponse:
    """A telephone or paper interview a clerk types in: a response without a participation
    (the interviewer's list of whom they called stays outside the platform)."""
    if channel not in (Channel.PHONE, Channel.PAPER):
        raise SurveyError(_("Choose telephone or paper."), 422)
    response = SurveyResponse(wave_id=wave.id or 0, answers=answers, channel=channel,
                              text_cleared=not texts_of(questions_of(s, wave.id or 0), answers),
                              **demographics)
    s.add(response)
    s.flush()
    return response
