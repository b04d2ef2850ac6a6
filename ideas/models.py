"""Ideas residents propose in a round, and what hangs off them: versions, status changes,
attachments, supports, comments and notifications."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, String, Text, UniqueConstraint
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
    ADMITTED = "admitted"
    NOT_FEASIBLE = "not_feasible"


#: Statuses anyone may see. Everything else is visible to its author (and moderators) only.
PUBLIC_STATUSES = (IdeaStatus.PUBLISHED, IdeaStatus.REJECTED, IdeaStatus.DUPLICATE,
                   IdeaStatus.ADMITTED, IdeaStatus.NOT_FEASIBLE)
#: Statuses in which the author may edit the text.
EDITABLE_STATUSES = (IdeaStatus.DRAFT, IdeaStatus.CHANGES_REQUESTED)


class Idea(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("estimated_cost >= 0", name="idea_cost_not_negative"),
        CheckConstraint("latitude IS NULL OR (latitude >= -90 AND latitude <= 90)",
                        name="idea_latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude >= -180 AND longitude <= 180)",
                        name="idea_longitude_range"),
        # The public list: visible ideas (hidden_at IS NULL) in each sort order, so a page is
        # read off an index instead of sorting every idea; and (hidden_at, status) counts
        # them from the index alone. Leading with hidden_at also steers SQLite's planner to
        # these before it has statistics (see migration 0008).
        Index("ix_idea_hidden_published", "hidden_at", "published_at"),
        Index("ix_idea_hidden_supports", "hidden_at", "support_count"),
        Index("ix_idea_hidden_cost", "hidden_at", "estimated_cost"),
        Index("ix_idea_hidden_status", "hidden_at", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(sa_column=Column(String(20), unique=True, nullable=False))
    round_id: int = Field(foreign_key="round.id", index=True)
    author_id: int = Field(foreign_key="account.id", index=True)
    district_id: int | None = Field(default=None, foreign_key="district.id", index=True)
    category_id: int | None = Field(default=None, foreign_key="category.id", index=True)
    title: str = Field(max_length=150)
    summary: str = Field(max_length=500)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    estimated_cost: int = Field(default=0)
    address: str = Field(default="", max_length=300)
    latitude: float | None = None
    longitude: float | None = None
    status: str = Field(default=IdeaStatus.DRAFT, max_length=20, index=True)
    #: Bumped on every change, so two people acting on the same idea can notice each other.
    version: int = 1
    #: Stemmed title, summary and description, for full-text search in any of our languages.
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    support_count: int = Field(default=0, ge=0)
    comment_count: int = Field(default=0, ge=0)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    published_at: datetime | None = None
    #: Hidden by moderators or by residents' reports: 404 to the public, the author sees why.
    hidden_at: datetime | None = None
    hidden_reason: str = Field(default="", max_length=300)
    #: For status "duplicate": the idea this one repeats.
    duplicate_of_id: int | None = Field(default=None, foreign_key="idea.id", index=True)


class IdeaVersion(SQLModel, table=True):
    """The text of an idea as it was each time its author submitted it."""

    __table_args__ = (UniqueConstraint("idea_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    number: int
    title: str = Field(max_length=150)
    summary: str = Field(max_length=500)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    estimated_cost: int = 0
    district_id: int | None = Field(default=None, foreign_key="district.id")
    category_id: int | None = Field(default=None, foreign_key="category.id")
    address: str = Field(default="", max_length=300)
    latitude: float | None = None
    longitude: float | None = None
    created_at: datetime = Field(default_factory=utcnow)


class IdeaStatusChange(SQLModel, table=True):
    """One step of an idea's public timeline. Appended, never edited."""

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    actor_id: int | None = Field(default=None, foreign_key="account.id")
    from_status: str = Field(default="", max_length=20)
    to_status: str = Field(max_length=20)
    public_note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class Attachment(SQLModel, table=True):
    """A photo or a PDF of an idea, stored under a name we chose, re-encoded where possible."""

    __table_args__ = (CheckConstraint("size >= 0", name="attachment_size_not_negative"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    uploaded_by_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(max_length=10)  # "image" or "document"
    stored_name: str = Field(sa_column=Column(String(80), unique=True, nullable=False))
    thumb_name: str | None = Field(default=None, max_length=80)
    original_name: str = Field(max_length=200)
    content_type: str = Field(max_length=60)
    size: int = 0
    width: int | None = None
    height: int | None = None
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class Support(SQLModel, table=True):
    """A resident's support for an idea in the pre-selection phase: one per person and idea."""

    __table_args__ = (UniqueConstraint("idea_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    user_id: int = Field(foreign_key="account.id", index=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class Comment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    author_id: int = Field(foreign_key="account.id", index=True)
    #: Replies go one level deep: a reply's parent is always a top-level comment.
    parent_id: int | None = Field(default=None, foreign_key="comment.id", index=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    edited_at: datetime | None = None
    hidden_at: datetime | None = None
    hidden_reason: str = Field(default="", max_length=300)


class Notification(SQLModel, table=True):
    """Something a person should know about, shown in the app and optionally mailed."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(max_length=30)
    idea_id: int | None = Field(default=None, foreign_key="idea.id")
    #: JSON of the values the message needs (status, note, commenter), rendered per locale.
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    read_at: datetime | None = None
