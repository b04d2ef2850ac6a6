"""Notifications: a row per person and event, shown in the app and queued for mail in the
same transaction (core/outbox.py), so the mail goes out after commit and only then.

Messages are rendered when shown or queued, in the reader's own language, from the values
stored with the notification."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select, update

from core import i18n
from core.models import User
from core.outbox import enqueue_mail
from core.settings import Settings
from ideas.models import Idea, Notification


@dataclass(frozen=True)
class Notice:
    """A notification just created, for `queue_mail` in the same transaction."""

    notification_id: int
    user_id: int


def notify(db: Session, user_id: int, kind: str, idea: Idea, now: datetime,
           **data: Any) -> Notice:
    row = Notification(user_id=user_id, kind=kind, idea_id=idea.id, created_at=now,
                       data=json.dumps({"reference": idea.reference, "title": idea.title,
                                        **data}, ensure_ascii=False))
    db.add(row)
    db.flush()
    assert row.id is not None
    return Notice(row.id, user_id)


def status_label(status: str) -> str:
    _ = i18n.gettext
    labels = {
        "draft": _("Draft"), "submitted": _("Submitted"), "published": _("Published"),
        "changes_requested": _("Changes requested"), "rejected": _("Rejected"),
        "duplicate": _("Duplicate"), "withdrawn": _("Withdrawn"),
        "admitted": _("Admitted to the ballot"), "not_feasible": _("Not feasible"),
    }
    return labels.get(status, status)


def message(row: Notification) -> str:
    """The notification as a sentence in the current locale."""
    _ = i18n.gettext
    data = json.loads(row.data or "{}")
    if row.kind == "status":
        text = _("Your idea %(reference)s “%(title)s” is now: %(status)s.",
                 reference=data.get("reference", ""), title=data.get("title", ""),
                 status=status_label(str(data.get("status", ""))))
        if data.get("note"):
            text += " " + _("Note from the moderators: %(note)s", note=data["note"])
        return text
    if row.kind in ("hidden", "unhidden"):
        if row.kind == "hidden":
            return _("The moderators hid your idea %(reference)s “%(title)s”: %(note)s",
                     reference=data.get("reference", ""), title=data.get("title", ""),
                     note=data.get("note", ""))
        return _("Your idea %(reference)s “%(title)s” is visible again.",
                 reference=data.get("reference", ""), title=data.get("title", ""))
    if row.kind == "comment":
        return _("%(name)s commented on your idea %(reference)s “%(title)s”.",
                 name=data.get("name", ""), reference=data.get("reference", ""),
                 title=data.get("title", ""))
    if row.kind == "reply":
        return _("%(name)s replied to your comment on %(reference)s “%(title)s”.",
                 name=data.get("name", ""), reference=data.get("reference", ""),
                 title=data.get("title", ""))
    if row.kind == "tracking":
        from tracking.notifications import message as tracking_message

        return tracking_message(data, "")
    return str(data.get("title", ""))


def reference(row: Notification) -> str:
    return str(json.loads(row.data or "{}").get("reference", ""))


def unread_count(db: Session, user_id: int) -> int:
    return int(db.exec(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, col(Notification.read_at).is_(None))).one())


def recent(db: Session, user_id: int, limit: int = 50) -> list[Notification]:
    return list(db.exec(select(Notification).where(Notification.user_id == user_id)
                        .order_by(col(Notification.id).desc()).limit(limit)).all())


def mark_all_read(db: Session, user_id: int, now: datetime) -> None:
    db.execute(update(Notification).where(col(Notification.user_id) == user_id,
                                          col(Notification.read_at).is_(None))
               .values(read_at=now))


def mail_each(db: Session, settings: Settings,
              rows: list[tuple[Notification | None, User | None]],
              compose: Callable[[Notification, dict[str, Any]], tuple[str, str]],
              now: datetime) -> None:
    """Queue a mail of each notification to its reader, if they allow e-mail, in their
    language: `compose(row, data)` gives the subject and body."""
    previous = i18n.get_locale()
    try:
        for row, user in rows:
            if row is None or user is None or not user.email or not user.email_notifications:
                continue
            i18n.set_locale(user.locale or settings.default_locale, settings.time_zone)
            subject, body = compose(row, json.loads(row.data or "{}"))
            enqueue_mail(db, settings, user.email, subject, body, kind=row.kind[:20], now=now)
    finally:
        i18n.set_locale(previous, settings.time_zone)


def queue_mail(db: Session, settings: Settings, notices: list[Notice], now: datetime) -> None:
    """Queue mail of each notice for people who allow e-mail (see `mail_each`), in the
    transaction that created the notices."""
    if not notices:
        return
    rows = [(db.get(Notification, n.notification_id), db.get(User, n.user_id))
            for n in notices]

    def compose(row: Notification, data: dict[str, Any]) -> tuple[str, str]:
        link = f"{settings.base_url}/ideas/{data.get('reference', '')}"
        return i18n.gettext("News about your idea"), (
            message(row) + "\n\n" + link + "\n\n"
            + i18n.gettext("You can turn these e-mails off on your profile page."))

    mail_each(db, settings, rows, compose, now)
