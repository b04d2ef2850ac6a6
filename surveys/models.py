"""Tables of surveys: a survey, its waves, each wave's questions, who took part (by keyed
pseudonym only) and the responses (answers and demographics, never an account)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.models import utcnow


class Audience(StrEnum):
    VERIFIED = "verified"  # verified residents only
    ACCOUNTS = "accounts"  # any signed-in account
    ANONYMOUS = "anonymous"  # anyone, one response per browser (cookie-bound)


class QuestionType(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    RATING5 = "rating5"
    RATING10 = "rating10"  # 0..10
    MATRIX = "matrix"
    RANKING = "ranking"
    NUMBER = "number"
    SHORT = "short"
    LONG = "long"


class Channel(StrEnum):
    WEB = "web"
    PHONE = "phone"
    PAPER = "paper"


#: A text in every working language: {"ru": ..., "ky": ..., "en": ...}.
Texts = dict[str, str]


class Survey(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("audience IN ('verified', 'accounts', 'anonymous')",
                        name="survey_audience_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=Column(String(60), unique=True, nullable=False))
    title: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    intro: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    audience: str = Field(default=Audience.ACCOUNTS, max_length=12)
    #: Results visible while a wave is open (otherwise only once it has closed).
    live_results: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class SurveyWave(SQLModel, table=True):
    """One run of a survey between two instants (entered in the city's time zone, kept UTC)."""

    __table_args__ = (UniqueConstraint("survey_id", "number"),
                      CheckConstraint("closes_at > opens_at", name="survey_wave_dates"))

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    number: int = 1
    label: str = Field(default="", max_length=80)
    opens_at: datetime
    closes_at: datetime


class SurveyQuestion(SQLModel, table=True):
    """A question of one wave. `key` is stable across waves (trends join on it); `options`
    holds choice labels {value: Texts}, `rows` matrix rows, `scale_low/high` labelled ends;
    `show_if` is {"key": earlier question key, "equals"|"includes": value}."""

    __table_args__ = (UniqueConstraint("wave_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    wave_id: int = Field(foreign_key="surveywave.id", index=True)
    key: str = Field(max_length=40)
    position: int = 0
    section: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    kind: str = Field(max_length=12)
    text: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    required: bool = False
    options: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rows: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    allow_other: bool = False
    scale_low: dict[str, Any] = Field(default_factory=dict,
                                      sa_column=Column(JSON, nullable=False))
    scale_high: dict[str, Any] = Field(default_factory=dict,
                                       sa_column=Column(JSON, nullable=False))
    show_if: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    #: A satisfaction question about a named municipal service (ranked in the results).
    service: bool = False
    #: A trust question: its index is % trusting minus % distrusting.
    trust: bool = False


class SurveyParticipation(SQLModel, table=True):
    """That someone took part in a wave: a keyed pseudonym (HMAC of the account id or the
    browser token, with the app secret and the wave id) and a sealed pointer to the response,
    openable only with a key derived from the same principal. No account id, no time."""

    __table_args__ = (UniqueConstraint("wave_id", "pseudonym"),)

    id: int | None = Field(default=None, primary_key=True)
    wave_id: int = Field(foreign_key="surveywave.id", index=True)
    pseudonym: str = Field(max_length=64)
    sealed: str = Field(default="", max_length=300)


class SurveyResponse(SQLModel, table=True):
    """The answers and demographics of one response, with no link to a person."""

    __table_args__ = (
        CheckConstraint("channel IN ('web', 'phone', 'paper')", name="survey_response_channel"),
    )

    id: int | None = Field(default=None, primary_key=True)
    wave_id: int = Field(foreign_key="surveywave.id", index=True)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    district_id: int | None = Field(default=None, foreign_key="district.id")
    age_band: str = Field(default="", max_length=12)
    gender: str = Field(default="", max_length=12)
    channel: str = Field(default=Channel.WEB, max_length=6)
    #: Its free text was screened by a moderator (or it has none); unscreened text is never
    #: published. A changed response is screened again.
    text_cleared: bool = False
    #: Keys of the text answers the moderator published (the others are withheld).
    text_published: list[Any] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
