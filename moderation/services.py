"""Moderation decisions, reports and blocks. Every write here is also an audit entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from core.audit import record
from core.i18n import get_locale
from core.i18n import gettext as _
from core.models import Block, User
from ideas.models import Comment, Idea, IdeaStatus
from ideas.notifications import Notice, notify
from ideas.queries import on_a_ballot
from ideas.services import IdeaError, change_status, set_hidden
from moderation.models import Decision, DecisionKind, RejectionReason, Report, ReportReason

#: Which status each decision moves an idea to, and from which statuses it may.
TRANSITIONS: dict[str, tuple[IdeaStatus, tuple[IdeaStatus, ...]]] = {
    DecisionKind.PUBLISH: (IdeaStatus.PUBLISHED, (IdeaStatus.SUBMITTED,)),
    DecisionKind.REQUEST_CHANGES: (IdeaStatus.CHANGES_REQUESTED, (IdeaStatus.SUBMITTED,)),
    DecisionKind.REJECT: (IdeaStatus.REJECTED, (IdeaStatus.SUBMITTED, IdeaStatus.PUBLISHED)),
    DecisionKind.DUPLICATE: (IdeaStatus.DUPLICATE, (IdeaStatus.SUBMITTED,
                                                    IdeaStatus.PUBLISHED)),
}
AUTO_HIDDEN = "reports"


class ModerationError(IdeaError):
    """A decision that cannot be taken; the message says why."""


@dataclass(frozen=True)
class DecisionInput:
    kind: str
    expected_version: int
    public_reason: str = ""
    private_note: str = ""
    reason_id: int | None = None
    duplicate_of: Idea | None = None


def active_block(db: Session, user_id: int, now: datetime) -> Block | None:
    blocks = db.exec(select(Block).where(Block.user_id == user_id,
                                         col(Block.lifted_at).is_(None))).all()
    return next((b for b in blocks if b.is_active(now)), None)


def decide(db: Session, idea: Idea, moderator_id: int, d: DecisionInput,
           now: datetime) -> list[Notice]:
    """Record a decision on an idea and apply it. Raises ModerationError when the decision
    does not fit the idea's state, and StaleIdea when someone decided first."""
    assert idea.id is not None
    before = idea.status
    notices: list[Notice] = []
    if d.kind in (DecisionKind.HIDE, DecisionKind.UNHIDE):
        hide = d.kind == DecisionKind.HIDE
        if hide and not d.public_reason:
            raise ModerationError(_("Say publicly why the idea is hidden."), 422)
        set_hidden(db, idea, hide, d.public_reason, d.expected_version, now)
        notices.append(notify(db, idea.author_id, "hidden" if hide else "unhidden", idea, now,
                              note=d.public_reason))
    elif d.kind in TRANSITIONS:
        target, allowed = TRANSITIONS[d.kind]
        if idea.status not in allowed:
            raise ModerationError(_("This idea is no longer waiting for this decision."))
        note = d.public_reason
        if d.kind == DecisionKind.PUBLISH and active_block(db, idea.author_id, now):
            raise ModerationError(_("The author is blocked; their ideas are held."))
        if d.kind == DecisionKind.REQUEST_CHANGES and not note:
            raise ModerationError(_("Tell the author what to change."), 422)
        if d.kind == DecisionKind.REJECT:
            reason = db.get(RejectionReason, d.reason_id) if d.reason_id else None
            if reason is None or not reason.active:
                raise ModerationError(_("Choose a reason for the rejection."), 422)
            # The timeline keeps one text: the listed reason, then the moderator's words.
            note = reason.text(get_locale()) + (f": {note}" if note else "")
        if d.kind == DecisionKind.DUPLICATE:
            other = d.duplicate_of
            if other is None or other.id == idea.id or other.status != IdeaStatus.PUBLISHED:
                raise ModerationError(_("Give the reference of a published idea this one "
                                        "repeats."), 422)
            idea.duplicate_of_id = other.id
            db.add(idea)
        notices += change_status(db, idea, target, moderator_id, d.expected_version, now,
                                 public_note=note)
    else:
        raise ModerationError(_("Unknown decision."), 422)
    db.add(Decision(at=now, moderator_id=moderator_id, kind=d.kind, idea_id=idea.id,
                    round_id=idea.round_id, from_status=before, to_status=idea.status,
                    reason_id=d.reason_id, public_reason=d.public_reason,
                    private_note=d.private_note,
                    duplicate_of_id=d.duplicate_of.id if d.duplicate_of else None))
    record(db, moderator_id, f"idea.{d.kind}", "idea", idea.reference, now,
           from_status=before, to_status=idea.status, reason_id=d.reason_id)
    return notices


def moderate_comment(db: Session, comment: Comment, moderator_id: int, hide: bool,
                     reason: str, now: datetime) -> None:
    if hide and not reason:
        raise ModerationError(_("Say publicly why the comment is hidden."), 422)
    comment.hidden_at = now if hide else None
    comment.hidden_reason = reason if hide else ""
    db.add(comment)
    kind = DecisionKind.HIDE if hide else DecisionKind.UNHIDE
    idea = db.get(Idea, comment.idea_id)
    db.add(Decision(at=now, moderator_id=moderator_id, kind=kind, comment_id=comment.id,
                    idea_id=comment.idea_id, round_id=idea.round_id if idea else None,
                    public_reason=reason))
    record(db, moderator_id, f"comment.{kind}", "comment", comment.id or 0, now)


def report(db: Session, target_type: str, target: Idea | Comment, reporter_id: int,
           reason: str, note: str, threshold: int, now: datetime) -> bool:
    """File one report. Returns True when this report made the target hidden.
    Raises ModerationError when this person already reported it."""
    assert target.id is not None
    if reason not in set(ReportReason):
        raise ModerationError(_("Choose a reason for the report."), 422)
    nested = db.begin_nested()
    db.add(Report(target_type=target_type, target_id=target.id, reporter_id=reporter_id,
                  reason=reason, note=note, created_at=now))
    try:
        nested.commit()
    except IntegrityError:
        nested.rollback()
        raise ModerationError(_("You have already reported this. Thank you.")) from None
    open_reports = db.exec(select(func.count()).select_from(Report).where(
        Report.target_type == target_type, Report.target_id == target.id,
        col(Report.resolved_at).is_(None))).one()
    if open_reports < threshold or target.hidden_at is not None:
        return False
    if isinstance(target, Idea) and on_a_ballot(db, target.id):
        return False  # a ballot item is not hidden by reports: the open reports await moderators
    if isinstance(target, Idea):
        set_hidden(db, target, True, AUTO_HIDDEN, None, now)
    else:
        target.hidden_at, target.hidden_reason = now, AUTO_HIDDEN
        db.add(target)
    return True


def resolve_reports(db: Session, target_type: str, target: Idea | Comment, moderator_id: int,
                    upheld: bool, public_reason: str, now: datetime) -> int:
    """Close every open report on the target. Dismissing shows content hidden only by
    reports again; upholding keeps (or makes) it hidden with the moderator's reason."""
    rows = db.exec(select(Report).where(Report.target_type == target_type,
                                        Report.target_id == target.id,
                                        col(Report.resolved_at).is_(None))).all()
    for row in rows:
        row.resolved_at, row.resolved_by_id = now, moderator_id
        row.resolution = "upheld" if upheld else "dismissed"
        db.add(row)
    if upheld:
        reason = public_reason or _("It breaks the rules of the platform.")
        if isinstance(target, Idea):
            decide(db, target, moderator_id, DecisionInput(DecisionKind.HIDE, target.version,
                                                           public_reason=reason), now)
        else:
            moderate_comment(db, target, moderator_id, True, reason, now)
    elif target.hidden_reason == AUTO_HIDDEN:
        if isinstance(target, Idea):
            set_hidden(db, target, False, "", None, now)
        else:
            target.hidden_at, target.hidden_reason = None, ""
            db.add(target)
    record(db, moderator_id, "reports.upheld" if upheld else "reports.dismissed", target_type,
           target.id or 0, now, count=len(rows))
    return len(rows)


def block_user(db: Session, user: User, reason: str, ends_at: datetime | None, actor_id: int,
               now: datetime) -> Block:
    assert user.id is not None
    if user.id == actor_id:
        raise ModerationError(_("You cannot block yourself."), 422)
    if not reason:
        raise ModerationError(_("Give the reason for the block; the person will see it."), 422)
    if ends_at is not None and ends_at <= now:
        raise ModerationError(_("The end of the block must be in the future."), 422)
    if active_block(db, user.id, now):
        raise ModerationError(_("This account is already blocked."))
    block = Block(user_id=user.id, reason=reason, starts_at=now, ends_at=ends_at,
                  created_by_id=actor_id)
    db.add(block)
    record(db, actor_id, "account.block", "account", user.id, now, reason=reason,
           ends_at=ends_at.isoformat() if ends_at else None)
    return block


def lift_block(db: Session, user: User, actor_id: int, now: datetime) -> None:
    assert user.id is not None
    block = active_block(db, user.id, now)
    if block is None:
        raise ModerationError(_("This account is not blocked."))
    block.lifted_at, block.lifted_by_id = now, actor_id
    db.add(block)
    record(db, actor_id, "account.unblock", "account", user.id, now)
