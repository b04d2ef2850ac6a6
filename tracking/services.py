"""Every write of implementation tracking: an admin's progress report, and residents following
a project. Services take `now`; every report is in the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, update

from core import audit
from core.i18n import gettext as _
from ideas.notifications import Notice, notify
from ideas.uploads import StoredFile
from tracking import queries
from tracking.forms import Report
from tracking.models import ProjectFollow, ProjectPhoto, ProjectTracking, ProjectUpdate


class TrackingError(Exception):
    """A report that cannot be saved; `message` is shown to the admin."""

    def __init__(self, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class StaleTracking(TrackingError):
    """Someone saved the project since the form was loaded."""

    def __init__(self) -> None:
        super().__init__(_("Someone else updated this project while you were writing. "
                           "Check its status and progress as they are now, then save again: "
                           "your text is kept below."), 409)


def is_news(report: Report, current: ProjectTracking) -> bool:
    """Whether the report changes anything or says anything."""
    return bool(report.status != current.status or report.progress != current.progress
                or report.reason != current.public_reason or report.body or report.photos)


def _write(s: Session, winner: queries.Winner, report: Report, expected_version: int,
           actor_id: int | None, now: datetime) -> None:
    """Insert or update the tracking row, only if it is still at `expected_version`.
    Raises StaleTracking otherwise (two first saves meet the unique idea_id)."""
    values: dict[str, Any] = {"status": str(report.status), "progress": report.progress,
              "public_reason": report.reason, "updated_by_id": actor_id, "updated_at": now}
    if expected_version == 0:
        nested = s.begin_nested()
        s.add(ProjectTracking(idea_id=winner.idea.id or 0, round_id=winner.round.id or 0,
                              version=1, **values))
        try:
            nested.commit()
        except IntegrityError:
            nested.rollback()
            raise StaleTracking() from None
        return
    result = s.execute(update(ProjectTracking)
                       .where(col(ProjectTracking.idea_id) == winner.idea.id,
                              col(ProjectTracking.version) == expected_version)
                       .values(version=expected_version + 1, **values))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleTracking()


def save_report(s: Session, winner: queries.Winner, report: Report,
                photos: list[tuple[StoredFile, str]], expected_version: int,
                actor_id: int | None, now: datetime) -> tuple[ProjectUpdate, list[Notice]]:
    """Save the admin's report on a winning project: its status and progress, and a dated
    public entry with the text and photos. Followers and the idea's author (not the actor)
    are notified when the status changed or there is news to read; a progress nudge alone
    notifies nobody. Returns the entry and the notices to mail after commit.

    Raises StaleTracking when the project changed since `expected_version` (0: never saved),
    TrackingError when the report changes nothing and says nothing.
    """
    idea = winner.idea
    assert idea.id is not None
    current = winner.tracking
    if current.version != expected_version:
        raise StaleTracking()
    if not is_news(report, current):
        raise TrackingError(_("Nothing to save: change the status or progress, or write "
                              "an update."))
    # Read before writing: the ORM update below refreshes `current` in the session.
    status_changed = report.status != current.status
    before = {"from_status": current.status, "from_progress": current.progress}
    _write(s, winner, report, expected_version, actor_id, now)
    entry = ProjectUpdate(idea_id=idea.id, author_id=actor_id, status=str(report.status),
                          progress=report.progress, status_changed=status_changed,
                          body=report.body, created_at=now)
    s.add(entry)
    s.flush()
    assert entry.id is not None
    for position, (stored, alt) in enumerate(photos):
        s.add(ProjectPhoto(update_id=entry.id, stored_name=stored.stored_name,
                           thumb_name=stored.thumb_name, original_name=stored.original_name,
                           content_type=stored.content_type, size=stored.size,
                           width=stored.width, height=stored.height, alt=alt,
                           position=position))
    audit.record(s, actor_id, "tracking.status" if status_changed else "tracking.update",
                 "idea", idea.id, now, update=entry.id, status=str(report.status),
                 progress=report.progress, reason=report.reason, photos=len(photos), **before)
    s.flush()
    if not (status_changed or report.body or photos):
        return entry, []
    people = dict.fromkeys([idea.author_id, *queries.follower_ids(s, idea.id)])
    notices = [notify(s, user_id, "tracking", idea, now, status=str(report.status),
                      progress=report.progress, reason=report.reason, update=entry.id)
               for user_id in people if user_id != actor_id]
    return entry, notices


def follow(s: Session, idea_id: int, user_id: int, now: datetime) -> None:
    """Follow a project; following twice (two clicks, two tabs) is the same as once."""
    if queries.is_following(s, user_id, idea_id):
        return
    nested = s.begin_nested()
    s.add(ProjectFollow(idea_id=idea_id, user_id=user_id, created_at=now))
    try:
        nested.commit()
    except IntegrityError:
        nested.rollback()


def unfollow(s: Session, idea_id: int, user_id: int) -> None:
    row = s.exec(select(ProjectFollow).where(ProjectFollow.idea_id == idea_id,
                                             ProjectFollow.user_id == user_id)).first()
    if row is not None:
        s.delete(row)
