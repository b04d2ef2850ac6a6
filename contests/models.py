"""Contests, their rounds and the rounds' phase schedules."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.models import Localized, utcnow


class Phase(StrEnum):
    """A round moves through these in order; each phase opens certain actions."""

    SUBMISSION = "submission"
    MODERATION = "moderation"
    SUPPORTS = "supports"
    JURY_REVIEW = "jury_review"
    VOTING = "voting"
    COUNTING = "counting"
    RESULTS = "results"
    IMPLEMENTATION = "implementation"


PHASE_ORDER = tuple(Phase)


class Contest(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=Column(String(60), unique=True, nullable=False))
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    year: int
    created_at: datetime = Field(default_factory=utcnow)


class Round(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("contest_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = Field(foreign_key="contest.id", index=True)
    number: int = Field(ge=1)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    verified_only: bool = False
    #: How many ideas one resident may support in this round (pre-selection).
    max_supports_per_person: int = Field(default=5, ge=0)
    #: Supports an idea needs to go on to jury review (0: no threshold).
    min_supports: int = Field(default=0, ge=0)
    #: Ideas one resident may submit per day in this round.
    max_ideas_per_day: int = Field(default=3, ge=1)
    created_at: datetime = Field(default_factory=utcnow)


class Category(Localized, SQLModel, table=True):
    """A topic ideas are filed under (parks, roads, ...), named in every language."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=Column(String(40), unique=True, nullable=False))
    name_ru: str = Field(max_length=120)
    name_ky: str = Field(max_length=120)
    name_en: str = Field(max_length=120)
    position: int = 0

    def name(self, locale: str) -> str:
        return self.localized("name", locale)


class RoundPot(SQLModel, table=True):
    """A budget of a round: one per district taking part, and one city-wide (no district)."""

    __table_args__ = (
        UniqueConstraint("round_id", "district_id"),
        CheckConstraint("budget >= 0", name="round_pot_budget_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    district_id: int | None = Field(default=None, foreign_key="district.id")
    budget: int = 0


class RoundPhase(SQLModel, table=True):
    """One phase of a round: open on the half-open UTC interval [starts_at, ends_at)."""

    __table_args__ = (
        UniqueConstraint("round_id", "phase"),
        CheckConstraint("starts_at < ends_at", name="round_phase_positive_length"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    phase: str = Field(max_length=20)
    starts_at: datetime
    ends_at: datetime

    def is_open(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at
