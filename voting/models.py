"""Tables of voting: a round's voting settings, the ballot, who took part, what was voted
(with no person id), the public hash-chained ballot log, drafts, and paper ballots.

Who voted (`Participation`) and what was voted (`Ballot`) are kept apart: a ballot carries a
keyed pseudonym of its voter, never their id, so that a re-vote can replace the earlier ballot.
See docs/privacy.md for what this does and does not hide.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.models import utcnow


class Channel(StrEnum):
    ONLINE = "online"
    PAPER = "paper"


class SheetStatus(StrEnum):
    """A paper sheet waits for its second entry, is counted, disagrees, or was voided."""

    PENDING = "pending"
    COUNTED = "counted"
    MISMATCH = "mismatch"
    VOID = "void"


class RoundVoting(SQLModel, table=True):
    """A round's voting settings: eligibility and the counting rule. Also the row that casts
    in the round lock on PostgreSQL, so that the ballot log grows one entry at a time."""

    __table_args__ = (
        CheckConstraint("rule IN ('greedy', 'mes')", name="round_voting_rule_known"),
        CheckConstraint("min_age IS NULL OR (min_age >= 0 AND min_age <= 120)",
                        name="round_voting_min_age_range"),
        CheckConstraint("paper_voters IN ('census')", name="round_voting_paper_voters_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", unique=True)
    verified_only: bool = True
    #: Residents declare they are at least this old (the account has no birth date).
    min_age: int | None = None
    rule: str = Field(default="greedy", max_length=10)
    #: Who may vote on paper: "census" = an ID number on the census list, in a district that
    #: votes in the pot (the only rule so far; the column leaves room for others).
    paper_voters: str = Field(default="census", max_length=10,
                              sa_column_kwargs={"server_default": "census"})
    #: Further RuleSpec options (completion, comparison, threshold, tie-break) as JSON.
    rule_options: str = Field(default="{}", sa_column=Column(Text, nullable=False,
                                                             default="{}"))
    updated_at: datetime = Field(default_factory=utcnow)


class PotVoting(SQLModel, table=True):
    """How residents vote in one budget pot. Zero means "no limit" for the counts."""

    __table_args__ = (
        CheckConstraint("kind IN ('approval', 'knapsack', 'cumulative', 'ordinal')",
                        name="pot_voting_kind_known"),
        CheckConstraint("max_choices >= 0 AND min_choices >= 0",
                        name="pot_voting_counts_not_negative"),
        CheckConstraint("max_choices = 0 OR min_choices <= max_choices",
                        name="pot_voting_min_not_above_max"),
        CheckConstraint("points_total >= 0 AND max_points_per_project >= 0",
                        name="pot_voting_points_not_negative"),
        CheckConstraint("min_spend_percent >= 0 AND min_spend_percent <= 100",
                        name="pot_voting_min_spend_percent"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    pot_id: int = Field(foreign_key="roundpot.id", unique=True)
    kind: str = Field(default="knapsack", max_length=12)
    max_choices: int = 0
    min_choices: int = 1
    points_total: int = 0
    max_points_per_project: int = 0
    min_spend_percent: int = 0


class BallotItem(SQLModel, table=True):
    """An idea on the ballot of one pot, with its final cost in som."""

    __table_args__ = (
        UniqueConstraint("round_id", "idea_id"),
        CheckConstraint("cost >= 0", name="ballot_item_cost_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    pot_id: int = Field(foreign_key="roundpot.id", index=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    cost: int = 0
    position: int = 0


class Participation(SQLModel, table=True):
    """Who took part in a round, through which channel. Says nothing of what they voted."""

    __table_args__ = (
        UniqueConstraint("round_id", "person_id"),
        UniqueConstraint("round_id", "id_hash"),
        CheckConstraint("channel IN ('online', 'paper')", name="participation_channel_known"),
        CheckConstraint("person_id IS NOT NULL OR id_hash IS NOT NULL",
                        name="participation_names_someone"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="account.id")
    #: Salted hash of the ID number (census style), when known: links online and paper.
    id_hash: str | None = Field(default=None, sa_column=Column(String(64)))
    channel: str = Field(max_length=10)
    at: datetime = Field(default_factory=utcnow)


class Ballot(SQLModel, table=True):
    """What was voted in one pot. No person id: `pseudonym` is a keyed hash of the voter.

    `is_current` is TRUE for the ballot that counts and NULL once replaced, so the unique
    constraint allows exactly one current ballot per voter and pot (NULLs never collide).
    """

    __table_args__ = (
        UniqueConstraint("round_id", "pot_id", "pseudonym", "is_current"),
        CheckConstraint("is_current IS NULL OR is_current", name="ballot_current_true_or_null"),
        CheckConstraint("channel IN ('online', 'paper')", name="ballot_channel_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    pot_id: int = Field(foreign_key="roundpot.id", index=True)
    pseudonym: str = Field(sa_column=Column(String(64), nullable=False))
    channel: str = Field(max_length=10)
    #: Canonical JSON of the marks (see voting/ballots.py).
    content: str = Field(sa_column=Column(Text, nullable=False))
    salt: str = Field(sa_column=Column(String(32), nullable=False))
    log_seq: int
    cast_hour: datetime
    is_current: bool | None = True
    superseded_hour: datetime | None = None


class BallotLogEntry(SQLModel, table=True):
    """One link of a round's public, append-only hash chain. Never updated or deleted."""

    __table_args__ = (
        UniqueConstraint("round_id", "seq"),
        CheckConstraint("seq >= 1", name="ballot_log_seq_positive"),
        CheckConstraint("supersedes IS NULL OR (supersedes >= 1 AND supersedes < seq)",
                        name="ballot_log_supersedes_earlier"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    seq: int
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False))
    commitment: str = Field(sa_column=Column(String(64), nullable=False))
    entry_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    #: The hour of the cast (UTC), never the exact time.
    hour: datetime
    #: The seq of the entry this one replaces (a re-vote), if any.
    supersedes: int | None = None


class BallotDraft(SQLModel, table=True):
    """The basket of a ballot being filled in without JavaScript. Deleted when cast."""

    __table_args__ = (UniqueConstraint("round_id", "pot_id", "pseudonym"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    pot_id: int = Field(foreign_key="roundpot.id")
    pseudonym: str = Field(sa_column=Column(String(64), nullable=False))
    content: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    updated_at: datetime = Field(default_factory=utcnow)


class PaperSheet(SQLModel, table=True):
    """A paper ballot, identified by the serial printed on it, entered by two clerks."""

    __table_args__ = (
        UniqueConstraint("round_id", "serial"),
        CheckConstraint("status IN ('pending', 'counted', 'mismatch', 'void')",
                        name="paper_sheet_status_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    serial: str = Field(max_length=40)
    status: str = Field(default=SheetStatus.PENDING, max_length=10)
    receipt: str | None = Field(default=None, sa_column=Column(String(64)))
    resolved_by_id: int | None = Field(default=None, foreign_key="account.id")
    resolved_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class PaperEntry(SQLModel, table=True):
    """One clerk's reading of a paper sheet. Two different clerks must read each sheet.

    A reading links an ID hash to ballot content, so it lives only while the sheet waits:
    once the sheet is counted or voided its readings are deleted (the ballot itself is in
    `Ballot`, who took part in `Participation`, and nothing joins the two)."""

    __table_args__ = (UniqueConstraint("sheet_id", "clerk_id"),)

    id: int | None = Field(default=None, primary_key=True)
    sheet_id: int = Field(foreign_key="papersheet.id", index=True)
    clerk_id: int = Field(foreign_key="account.id")
    pot_id: int = Field(foreign_key="roundpot.id")
    id_hash: str = Field(sa_column=Column(String(64), nullable=False))
    content: str = Field(sa_column=Column(Text, nullable=False))
    entered_at: datetime = Field(default_factory=utcnow)
