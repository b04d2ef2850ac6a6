"""Ideas residents propose in a round."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, String, Text
from sqlmodel import Field, SQLModel

from core.models import utcnow


class IdeaStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"


PUBLIC_STATUSES = (IdeaStatus.PUBLISHED, IdeaStatus.REJECTED, IdeaStatus.DUPLICATE)


class Idea(SQLModel, table=True):
    __table_args__ = (CheckConstraint("estimated_cost >= 0", name="idea_cost_not_negative"),)

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(sa_column=Column(String(20), unique=True, nullable=False))
    round_id: int = Field(foreign_key="round.id", index=True)
    author_id: int = Field(foreign_key="account.id", index=True)
    district_id: int | None = Field(default=None, foreign_key="district.id", index=True)
    title: str = Field(max_length=150)
    summary: str = Field(max_length=500)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    estimated_cost: int = Field(default=0)
    status: str = Field(default=IdeaStatus.DRAFT, max_length=20, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    published_at: datetime | None = None
