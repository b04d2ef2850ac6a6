"""What moderators and the public read: the queue, differences between versions, open
reports, and the transparency figures."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import column, table
from sqlmodel import Session, col, func, select

from core.models import Block, District, User
from ideas.models import Comment, Idea, IdeaStatus, IdeaStatusChange, IdeaVersion
from moderation.models import Decision, RejectionReason, Report

QUEUE_SIZE = 50
DIFF_FIELDS = ("title", "summary", "description", "estimated_cost", "address")


@dataclass(frozen=True)
class QueueFilter:
    round_id: int | None = None
    district_id: int | None = None
    category_id: int | None = None


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str
    after: str
    lines: list[tuple[str, str]]  # ("-"|"+"|" ", text)


@dataclass(frozen=True)
class QueueItem:
    idea: Idea
    author: User
    district: District | None
    changes: list[FieldChange]
    version_count: int


def _blocked_ids(db: Session, now: datetime) -> set[int]:
    return {b.user_id for b in db.exec(select(Block).where(col(Block.lifted_at).is_(None)))
            if b.is_active(now)}


def _filtered(stmt, f: QueueFilter):  # type: ignore[no-untyped-def]
    if f.round_id is not None:
        stmt = stmt.where(Idea.round_id == f.round_id)
    if f.district_id is not None:
        stmt = stmt.where(Idea.district_id == f.district_id)
    if f.category_id is not None:
        stmt = stmt.where(Idea.category_id == f.category_id)
    return stmt


def queue(db: Session, f: QueueFilter, now: datetime) -> tuple[list[QueueItem], int]:
    """Submitted ideas, oldest first, with what changed since the previous version.
    Ideas of blocked authors are held back; their number is returned too."""
    blocked = _blocked_ids(db, now)
    stmt = _filtered(select(Idea, User, District)
                     .join(User, col(User.id) == Idea.author_id)
                     .join(District, col(District.id) == Idea.district_id, isouter=True)
                     .where(Idea.status == IdeaStatus.SUBMITTED), f)
    rows = db.exec(stmt.order_by(col(Idea.submitted_at), col(Idea.id))).all()
    held = sum(1 for idea, _u, _d in rows if idea.author_id in blocked)
    items: list[QueueItem] = []
    for idea, author, district in rows:
        if idea.author_id in blocked:
            continue
        if len(items) == QUEUE_SIZE:
            break
        versions = list(db.exec(select(IdeaVersion).where(IdeaVersion.idea_id == idea.id)
                                .order_by(col(IdeaVersion.number).desc()).limit(2)).all())
        changes = diff(versions[1], versions[0]) if len(versions) == 2 else []
        count = db.exec(select(func.count()).select_from(IdeaVersion).where(
            IdeaVersion.idea_id == idea.id)).one()
        items.append(QueueItem(idea, author, district, changes, int(count)))
    return items, held


def diff(old: IdeaVersion, new: IdeaVersion) -> list[FieldChange]:
    changes = []
    for name in DIFF_FIELDS:
        before, after = str(getattr(old, name)), str(getattr(new, name))
        if before == after:
            continue
        lines = [(line[0], line[2:]) for line in difflib.ndiff(before.splitlines(),
                                                                 after.splitlines())
                 if line[:1] in "-+ "]
        changes.append(FieldChange(name, before, after, lines))
    return changes


def counts(db: Session, f: QueueFilter) -> dict[str, int]:
    stmt = _filtered(select(Idea.status, func.count()).group_by(Idea.status), f)
    found = {status: int(n) for status, n in db.exec(stmt).all()}
    hidden = db.exec(_filtered(select(func.count()).select_from(Idea).where(
        col(Idea.hidden_at).is_not(None)), f)).one()
    # Ideas keep their moderation status when they go on a ballot; the ballot table (voting/,
    # which builds on this package) says which are on one.
    ballot_ideas: Any = select(column("idea_id")).select_from(
        table("ballotitem", column("idea_id")))
    on_ballot = db.exec(_filtered(select(func.count()).select_from(Idea).where(
        col(Idea.id).in_(ballot_ideas)), f)).one()
    return {**{s: found.get(s, 0) for s in IdeaStatus if s != IdeaStatus.DRAFT},
            "on_ballot": int(on_ballot), "hidden": int(hidden)}


def decisions_of(db: Session, idea_id: int) -> list[tuple[Decision, User]]:
    return [(d, u) for d, u in db.exec(
        select(Decision, User).join(User, col(User.id) == Decision.moderator_id)
        .where(Decision.idea_id == idea_id).order_by(col(Decision.id))).all()]


@dataclass(frozen=True)
class ReportGroup:
    target_type: str
    target_id: int
    idea: Idea
    comment: Comment | None
    reports: list[Report]


def open_reports(db: Session) -> list[ReportGroup]:
    rows = db.exec(select(Report).where(col(Report.resolved_at).is_(None))
                   .order_by(col(Report.created_at))).all()
    grouped: dict[tuple[str, int], list[Report]] = {}
    for row in rows:
        grouped.setdefault((row.target_type, row.target_id), []).append(row)
    groups = []
    for (target_type, target_id), reports in grouped.items():
        comment = db.get(Comment, target_id) if target_type == "comment" else None
        idea = db.get(Idea, comment.idea_id if comment else target_id)
        if idea is not None:
            groups.append(ReportGroup(target_type, target_id, idea, comment, reports))
    return groups


def transparency(db: Session) -> list[tuple[int | None, str, int | None, int]]:
    """(round id, decision kind, rejection reason id, count): no people, only numbers."""
    on_comment = col(Decision.comment_id).is_not(None)
    rows = db.exec(select(Decision.round_id, Decision.kind, Decision.reason_id,  # type: ignore[call-overload]
                          on_comment, func.count())
                   .group_by(col(Decision.round_id), col(Decision.kind), col(Decision.reason_id),
                             on_comment)).all()
    out = [(r, f"comment_{k}" if comment else k, reason, int(n))
           for r, k, reason, comment, n in rows]
    # The jury's verdicts (feasible, so on to the ballot, or not feasible) are decisions too;
    # the ideas' public timeline records them.
    verdicts = db.exec(select(Idea.round_id, IdeaStatusChange.to_status, func.count())
                       .join(Idea, col(Idea.id) == IdeaStatusChange.idea_id)
                       .where(col(IdeaStatusChange.to_status).in_(
                           (IdeaStatus.ADMITTED, IdeaStatus.NOT_FEASIBLE)))
                       .group_by(col(Idea.round_id), col(IdeaStatusChange.to_status))).all()
    out += [(r, str(status), None, int(n)) for r, status, n in verdicts]
    return sorted(out, key=lambda row: (row[0] or 0, row[1], row[2] or 0))


def reasons(db: Session, active_only: bool = True) -> list[RejectionReason]:
    stmt = select(RejectionReason).order_by(col(RejectionReason.position),
                                            col(RejectionReason.id))
    if active_only:
        stmt = stmt.where(col(RejectionReason.active))
    return list(db.exec(stmt).all())
