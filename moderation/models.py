"""Moderation records: decisions, reasons for rejection, and residents' reports."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.models import Localized, utcnow


class DecisionKind(StrEnum):
    PUBLISH = "publish"
    REQUEST_CHANGES = "request_changes"
    REJECT = "reject"
    DUPLICATE = "duplicate"
    HIDE = "hide"
    UNHIDE = "unhide"


class ReportReason(StrEnum):
    SPAM = "spam"
    OFFENSIVE = "offensive"
    PERSONAL_DATA = "personal_data"
    NOT_CITY = "not_city"
    OTHER = "other"


class RejectionReason(Localized, SQLModel, table=True):
    """A reason for rejection from the list admins keep, named in every language."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=Column(String(40), unique=True, nullable=False))
    text_ru: str = Field(max_length=200)
    text_ky: str = Field(max_length=200)
    text_en: str = Field(max_length=200)
    active: bool = True
    position: int = 0

    def text(self, locale: str) -> str:
        return self.localized("text", locale)


class Decision(SQLModel, table=True):
    """One moderation decision on an idea or a comment. Appended, never changed."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    moderator_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(max_length=20, index=True)
    idea_id: int | None = Field(default=None, foreign_key="idea.id", index=True)
    comment_id: int | None = Field(default=None, foreign_key="comment.id", index=True)
    round_id: int | None = Field(default=None, foreign_key="round.id", index=True)
    from_status: str = Field(default="", max_length=20)
    to_status: str = Field(default="", max_length=20)
    reason_id: int | None = Field(default=None, foreign_key="rejectionreason.id")
    public_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    private_note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    duplicate_of_id: int | None = Field(default=None, foreign_key="idea.id")


class Report(SQLModel, table=True):
    """A resident's report of an idea or a comment: one per person and target."""

    __table_args__ = (UniqueConstraint("target_type", "target_id", "reporter_id"),)

    id: int | None = Field(default=None, primary_key=True)
    target_type: str = Field(max_length=10)  # "idea" or "comment"
    target_id: int = Field(index=True)
    reporter_id: int = Field(foreign_key="account.id", index=True)
    reason: str = Field(max_length=20)
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    resolved_by_id: int | None = Field(default=None, foreign_key="account.id")
    resolution: str = Field(default="", max_length=20)  # "dismissed" or "upheld"
