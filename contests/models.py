"""Contests, their rounds and the rounds' phase schedules."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.models import utcnow


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
    verified_only: bool = False
    created_at: datetime = Field(default_factory=utcnow)


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
