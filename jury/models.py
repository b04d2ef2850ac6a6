"""Jury records: who chairs a round's jury, each juror's assessments, the chair's decisions.

Assessments and decisions are appended, never edited: a juror's latest assessment of an idea
counts, the earlier ones stay as the record of how the jury got there.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Text
from sqlmodel import Field, SQLModel

from core.models import utcnow


class VerdictKind(StrEnum):
    ADMIT = "admit"
    NOT_FEASIBLE = "not_feasible"


class RoundJury(SQLModel, table=True):
    """The jury member an admin named as chair of a round's jury."""

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", unique=True)
    chair_user_id: int | None = Field(default=None, foreign_key="account.id")
    updated_at: datetime = Field(default_factory=utcnow)


class JuryAssessment(SQLModel, table=True):
    """One juror's assessment of one idea. A juror's latest row counts."""

    __table_args__ = (
        CheckConstraint("final_cost >= 0", name="jury_assessment_cost_not_negative"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 10)",
                        name="jury_assessment_score_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    juror_id: int = Field(foreign_key="account.id", index=True)
    feasible: bool
    public_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    final_cost: int = 0
    score: int | None = None
    private_note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)


class JuryVerdict(SQLModel, table=True):
    """The chair's (or an admin's) confirmation: admitted with a cost, or not feasible."""

    __table_args__ = (
        CheckConstraint("kind IN ('admit', 'not_feasible')", name="jury_verdict_kind_known"),
        CheckConstraint("final_cost IS NULL OR final_cost >= 0",
                        name="jury_verdict_cost_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    actor_id: int = Field(foreign_key="account.id")
    kind: str = Field(max_length=20)
    final_cost: int | None = None
    pot_id: int | None = Field(default=None, foreign_key="roundpot.id")
    public_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    at: datetime = Field(default_factory=utcnow)
