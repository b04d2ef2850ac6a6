"""Tables of results: each count of a round (repeatable, recorded with the engine version and
the tie-breaking chain), what it gave per pot, and the jury's publication with its changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.models import utcnow


class ResultRun(SQLModel, table=True):
    """One count of a round's current ballots: which engine, which rule, which tie-break."""

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    engine_version: str = Field(max_length=40)
    #: The RuleSpec used, as JSON (rule, threshold, completion, comparison, ...).
    rule_spec: str = Field(sa_column=Column(Text, nullable=False))
    rule_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    tie_break: str = Field(max_length=200)
    seed: str = Field(default="", max_length=100)
    #: The ballot log at the time of the count: how many entries and the head hash.
    log_count: int = 0
    log_head: str = Field(default="", sa_column=Column(String(64), nullable=False, default=""))
    counted_by_id: int | None = Field(default=None, foreign_key="account.id")
    counted_at: datetime = Field(default_factory=utcnow)


class PotResult(SQLModel, table=True):
    """What one count gave in one pot. Ids in the JSON columns are idea ids."""

    __table_args__ = (UniqueConstraint("run_id", "pot_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="resultrun.id", index=True)
    pot_id: int = Field(foreign_key="roundpot.id")
    budget: int = 0
    voters: int = 0
    total_cost: int = 0
    #: Selected idea ids in selection order (JSON list).
    selected: str = Field(sa_column=Column(Text, nullable=False))
    #: Per idea: {"votes": n, "score": n, "cost": n} (JSON object keyed by idea id).
    tallies: str = Field(sa_column=Column(Text, nullable=False))
    #: The engine's steps (Result.to_dict()).
    steps: str = Field(sa_column=Column(Text, nullable=False))
    other_rule: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    other_selected: str = Field(default="[]", sa_column=Column(Text, nullable=False,
                                                              default="[]"))


class Publication(SQLModel, table=True):
    """The jury's publication of a round's results: one per round, never edited."""

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", unique=True)
    run_id: int = Field(foreign_key="resultrun.id")
    statement: str = Field(sa_column=Column(Text, nullable=False))
    published_by_id: int | None = Field(default=None, foreign_key="account.id")
    published_at: datetime = Field(default_factory=utcnow)


class PublicationChange(SQLModel, table=True):
    """A project the jury added to or removed from the computed outcome, and why (public)."""

    __table_args__ = (
        UniqueConstraint("publication_id", "idea_id"),
        CheckConstraint("action IN ('add', 'remove')", name="publication_change_action_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="publication.id", index=True)
    pot_id: int = Field(foreign_key="roundpot.id")
    idea_id: int = Field(foreign_key="idea.id")
    action: str = Field(max_length=10)
    justification: str = Field(sa_column=Column(Text, nullable=False))
