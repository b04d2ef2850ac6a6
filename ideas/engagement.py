"""Supports and comments: what residents add to other people's ideas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select, update

from contests.models import Round
from core.i18n import gettext as _
from core.models import User
from ideas.models import Comment, Idea, Support
from ideas.notifications import Notice, notify
from ideas.services import IdeaError

COMMENT_EDIT_WINDOW = timedelta(minutes=15)


def _lock_person(db: Session, user_id: int) -> None:
    """Serialise one person's supports so two tabs cannot exceed the round's limit together.

    SQLite already runs one writer at a time (BEGIN IMMEDIATE); PostgreSQL locks the row."""
    if db.get_bind().dialect.name == "postgresql":
        db.exec(select(User.id).where(User.id == user_id).with_for_update()).one()


def supports_used(db: Session, user_id: int, round_id: int) -> int:
    return int(db.exec(select(func.count()).select_from(Support).where(
        Support.user_id == user_id, Support.round_id == round_id)).one())


def has_supported(db: Session, user_id: int | None, idea_id: int) -> bool:
    if user_id is None:
        return False
    return db.exec(select(Support.id).where(Support.user_id == user_id,
                                            Support.idea_id == idea_id)).first() is not None


def support(db: Session, idea: Idea, round_: Round, user_id: int, now: datetime) -> None:
    """Add one support. Raises IdeaError when already given or over the round's limit.
    The unique constraint decides between two simultaneous clicks."""
    assert idea.id is not None and round_.id is not None
    _lock_person(db, user_id)
    if has_supported(db, user_id, idea.id):
        raise IdeaError(_("You already support this idea."))
    if supports_used(db, user_id, round_.id) >= round_.max_supports_per_person:
        raise IdeaError(_("You have used all %(n)s of your supports in this round. Withdraw "
                          "one to support this idea.", n=round_.max_supports_per_person))
    nested = db.begin_nested()
    db.add(Support(idea_id=idea.id, user_id=user_id, round_id=round_.id, created_at=now))
    try:
        nested.commit()
    except IntegrityError:
        nested.rollback()
        raise IdeaError(_("You already support this idea.")) from None
    db.execute(update(Idea).where(col(Idea.id) == idea.id)
               .values(support_count=col(Idea.support_count) + 1))


def withdraw_support(db: Session, idea: Idea, user_id: int) -> None:
    row = db.exec(select(Support).where(Support.user_id == user_id,
                                        Support.idea_id == idea.id)).first()
    if row is None:
        return
    db.delete(row)
    db.flush()
    db.execute(update(Idea).where(col(Idea.id) == idea.id)
               .values(support_count=col(Idea.support_count) - 1))


@dataclass(frozen=True)
class Thread:
    comment: Comment
    author: User
    replies: list[tuple[Comment, User]]


def threads(db: Session, idea_id: int) -> list[Thread]:
    rows = db.exec(select(Comment, User).join(User, col(User.id) == Comment.author_id)
                   .where(Comment.idea_id == idea_id).order_by(col(Comment.id))).all()
    replies: dict[int, list[tuple[Comment, User]]] = {}
    for comment, author in rows:
        if comment.parent_id is not None:
            replies.setdefault(comment.parent_id, []).append((comment, author))
    return [Thread(c, a, replies.get(c.id or 0, [])) for c, a in rows if c.parent_id is None]


def add_comment(db: Session, idea: Idea, author: User, body: str, parent_id: int | None,
                now: datetime) -> tuple[Comment, list[Notice]]:
    """Add a comment or a reply (one level: a reply to a reply joins the same thread)."""
    assert idea.id is not None and author.id is not None
    parent = None
    if parent_id is not None:
        parent = db.get(Comment, parent_id)
        if parent is None or parent.idea_id != idea.id:
            raise IdeaError(_("The comment you reply to no longer exists."), 404)
        if parent.parent_id is not None:
            parent = db.get(Comment, parent.parent_id)
    comment = Comment(idea_id=idea.id, author_id=author.id, body=body,
                      parent_id=parent.id if parent else None, created_at=now)
    db.add(comment)
    db.execute(update(Idea).where(col(Idea.id) == idea.id)
               .values(comment_count=col(Idea.comment_count) + 1))
    db.flush()
    notices = []
    if idea.author_id != author.id:
        notices.append(notify(db, idea.author_id, "comment", idea, now,
                              name=author.display_name))
    if parent is not None and parent.author_id not in (author.id, idea.author_id):
        notices.append(notify(db, parent.author_id, "reply", idea, now,
                              name=author.display_name))
    return comment, notices


def can_edit_comment(comment: Comment, user_id: int | None, now: datetime) -> bool:
    return (user_id == comment.author_id and comment.hidden_at is None
            and now - comment.created_at < COMMENT_EDIT_WINDOW)


def edit_comment(db: Session, comment: Comment, user_id: int, body: str, now: datetime) -> None:
    if not can_edit_comment(comment, user_id, now):
        raise IdeaError(_("Comments can be edited for %(n)s minutes after posting.",
                          n=int(COMMENT_EDIT_WINDOW.total_seconds() // 60)), 403)
    comment.body = body
    comment.edited_at = now
    db.add(comment)
