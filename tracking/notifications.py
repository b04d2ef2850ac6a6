"""Telling followers about a project's progress. The notification rows are the ideas' own
(ideas/notifications.py, kind "tracking"), so they appear in the app's list; the mail is
written here, in each reader's language, and queued in the same transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core import i18n
from core.models import User
from core.settings import Settings
from ideas.models import Notification
from ideas.notifications import Notice, mail_each
from tracking.models import ProjectStatus, ProjectUpdate
from tracking.queries import percent


def status_label(status: str) -> str:
    _ = i18n.gettext
    labels: dict[str, str] = {
        ProjectStatus.PLANNED: _("Planned"), ProjectStatus.IN_PROGRESS: _("In progress"),
        ProjectStatus.DONE: _("Done"), ProjectStatus.CANCELLED: _("Cancelled")}
    return labels.get(status, status)


def message(data: dict[str, Any], body: str) -> str:
    """The news as plain text: the project's new status (or why it was cancelled) and what
    the city wrote."""
    _ = i18n.gettext
    values = {"reference": data.get("reference", ""), "title": data.get("title", "")}
    status = str(data.get("status", ""))
    if status == ProjectStatus.CANCELLED:
        text = _("The project %(reference)s “%(title)s” is cancelled. Reason: %(reason)s",
                 reason=data.get("reason", ""), **values)
    else:
        text = _("The project %(reference)s “%(title)s” is now: %(status)s, %(percent)s "
                 "done.", status=status_label(status),
                 percent=percent(int(data.get("progress", 0))), **values)
    return text + ("\n\n" + body if body else "")


def queue_mail(db: Session, settings: Settings, notices: list[Notice], now: datetime) -> None:
    """Queue mail of each notice, with the update's text and a link to the project (see
    `ideas.notifications.mail_each`), in the transaction that saved the update."""
    if not notices:
        return
    rows = [(db.get(Notification, n.notification_id), db.get(User, n.user_id))
            for n in notices]
    update_ids = {json.loads(r.data).get("update") for r, _u in rows if r is not None}
    updates = {u.id: u for u in (db.get(ProjectUpdate, i) for i in update_ids if i)
               if u is not None}

    def compose(row: Notification, data: dict[str, Any]) -> tuple[str, str]:
        entry = updates.get(data.get("update"))
        link = f"{settings.base_url}/ideas/{data.get('reference', '')}#tracking"
        subject = i18n.gettext("News about the project %(reference)s",
                               reference=data.get("reference", ""))
        return subject, (message(data, entry.body if entry else "") + "\n\n" + link
                         + "\n\n" + i18n.gettext("To stop these e-mails, stop following the "
                                                 "project on its page or turn e-mails off on "
                                                 "your profile page."))

    mail_each(db, settings, rows, compose, now)
