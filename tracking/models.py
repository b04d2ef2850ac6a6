"""Tables of implementation tracking: the public status of winning projects."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.models import utcnow


class ProjectStatus(StrEnum):
    """Where a winning project stands. Cancelled needs a public reason: a city that drops a
    project residents voted for owes them an explanation, not a project stuck at "planned"."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


STATUSES = tuple(ProjectStatus)


class ProjectTracking(SQLModel, table=True):
    """The current status of one winning project. A winner without a row is planned at 0 %."""

    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="tracking_progress_range"),
        CheckConstraint("status IN ('planned', 'in_progress', 'done', 'cancelled')",
                        name="tracking_status_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", unique=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    status: str = Field(default=ProjectStatus.PLANNED, max_length=20, index=True)
    progress: int = 0
    #: Shown to everyone when the project is cancelled.
    public_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    #: Bumped on every save, so two admins editing at once notice each other.
    version: int = 1
    updated_by_id: int | None = Field(default=None, foreign_key="account.id")
    updated_at: datetime = Field(default_factory=utcnow)


class ProjectUpdate(SQLModel, table=True):
    """One dated entry of a project's public timeline: the status and progress it left the
    project at, and what the city wrote. Appended, never edited."""

    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="project_update_progress"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="account.id")
    status: str = Field(max_length=20)
    progress: int = 0
    #: True when this entry changed the status (not only progress or news).
    status_changed: bool = False
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class ProjectPhoto(SQLModel, table=True):
    """A photo of an update, re-encoded by ideas/uploads.py, with the alt text it needs."""

    __table_args__ = (CheckConstraint("size >= 0", name="project_photo_size_not_negative"),)

    id: int | None = Field(default=None, primary_key=True)
    update_id: int = Field(foreign_key="projectupdate.id", index=True)
    stored_name: str = Field(sa_column=Column(String(80), unique=True, nullable=False))
    thumb_name: str | None = Field(default=None, max_length=80)
    original_name: str = Field(max_length=200)
    content_type: str = Field(max_length=60)
    size: int = 0
    width: int | None = None
    height: int | None = None
    alt: str = Field(max_length=300)
    position: int = 0

    @property
    def kind(self) -> str:
        return "image"


class ProjectFollow(SQLModel, table=True):
    """A resident who wants to hear about a project's progress: one per person and project."""

    __table_args__ = (UniqueConstraint("idea_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    user_id: int = Field(foreign_key="account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
