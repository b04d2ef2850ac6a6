"""Every write to an idea's text and status goes through here."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select, update

from contests.models import Contest, Round
from ideas.forms import IdeaData
from ideas.models import Idea, IdeaStatus, IdeaStatusChange, IdeaVersion
from ideas.notifications import Notice, notify
from ideas.search import index_text


class IdeaError(Exception):
    """An action that cannot be done now; `message` is shown to the person."""

    def __init__(self, message: str, status_code: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class StaleIdea(IdeaError):
    """Someone changed the idea since the page was loaded."""


def next_reference(db: Session, year: int) -> str:
    prefix = f"{year}-"
    last = db.exec(
        select(func.max(Idea.reference)).where(col(Idea.reference).startswith(prefix))
    ).one()
    number = int(last.split("-")[1]) + 1 if last else 1
    return f"{prefix}{number:05d}"


def _values(data: IdeaData) -> dict[str, Any]:
    """The columns an author's form sets, plus the search text derived from them."""
    return {
        "title": data.title, "summary": data.summary, "description": data.description,
        "category_id": data.category_id, "district_id": data.district_id,
        "estimated_cost": data.estimated_cost, "address": data.address,
        "latitude": data.latitude, "longitude": data.longitude,
        "search_text": index_text(data.title, data.summary, data.description, data.address),
    }


def ideas_created_since(db: Session, author_id: int, round_id: int, since: datetime) -> int:
    return int(db.exec(select(func.count()).select_from(Idea).where(
        Idea.author_id == author_id, Idea.round_id == round_id,
        col(Idea.created_at) >= since)).one())


def create_idea(db: Session, round_: Round, author_id: int, data: IdeaData, now: datetime,
                status: IdeaStatus = IdeaStatus.DRAFT) -> Idea:
    """Insert an idea with the next citable reference of its contest's year.

    Raises IdeaError (429) when the author reached the round's daily limit. Two parallel
    inserts may pick the same number; the unique constraint refuses the second, which retries.
    """
    from core.i18n import gettext as _

    assert round_.id is not None
    if ideas_created_since(db, author_id, round_.id, now - timedelta(days=1)) >= \
            round_.max_ideas_per_day:
        raise IdeaError(_("You can propose at most %(n)s ideas a day in this round. Please "
                          "come back tomorrow.", n=round_.max_ideas_per_day), 429)
    contest = db.get(Contest, round_.contest_id)
    assert contest is not None
    for _attempt in range(5):
        idea = Idea(reference=next_reference(db, contest.year), round_id=round_.id,
                    author_id=author_id, status=status, created_at=now, updated_at=now,
                    **_values(data))
        if status != IdeaStatus.DRAFT:
            idea.submitted_at = now
        if status == IdeaStatus.PUBLISHED:
            idea.published_at = now
        nested = db.begin_nested()
        db.add(idea)
        try:
            nested.commit()
        except IntegrityError:
            nested.rollback()
            continue
        assert idea.id is not None
        db.add(IdeaStatusChange(idea_id=idea.id, at=now, actor_id=author_id,
                                to_status=status))
        if status != IdeaStatus.DRAFT:
            _snapshot(db, idea, now)
        return idea
    raise IdeaError("could not allocate an idea reference", 500)


def _bump(db: Session, idea: Idea, expected_version: int, **values: object) -> None:
    """Write `values` only if nobody changed the idea since `expected_version` was read."""
    result = db.execute(
        update(Idea).where(col(Idea.id) == idea.id, col(Idea.version) == expected_version)
        .values(version=expected_version + 1, **values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        from core.i18n import gettext as _

        raise StaleIdea(_("This idea was changed in the meantime. Reload the page and try "
                          "again."))
    db.refresh(idea)


def update_idea(db: Session, idea: Idea, data: IdeaData, expected_version: int,
                now: datetime) -> None:
    """Save the author's edits of a draft or of an idea sent back for changes."""
    _bump(db, idea, expected_version, updated_at=now, **_values(data))


def _snapshot(db: Session, idea: Idea, now: datetime) -> None:
    assert idea.id is not None
    number = db.exec(select(func.count()).select_from(IdeaVersion).where(
        IdeaVersion.idea_id == idea.id)).one() + 1
    db.add(IdeaVersion(idea_id=idea.id, number=number, title=idea.title, summary=idea.summary,
                       description=idea.description, estimated_cost=idea.estimated_cost,
                       district_id=idea.district_id, category_id=idea.category_id,
                       address=idea.address, latitude=idea.latitude,
                       longitude=idea.longitude, created_at=now))


def change_status(db: Session, idea: Idea, to_status: IdeaStatus, actor_id: int | None,
                  expected_version: int, now: datetime, public_note: str = "") -> list[Notice]:
    """Move an idea to `to_status`, append it to the timeline, and notify the author when
    someone else made the change. Returns the notices to mail after commit.

    Raises StaleIdea when the idea changed since `expected_version`.
    """
    assert idea.id is not None
    before = idea.status
    values: dict[str, object] = {"status": to_status, "updated_at": now}
    if to_status == IdeaStatus.SUBMITTED:
        values["submitted_at"] = now
    if to_status == IdeaStatus.PUBLISHED and idea.published_at is None:
        values["published_at"] = now
    _bump(db, idea, expected_version, **values)
    db.add(IdeaStatusChange(idea_id=idea.id, at=now, actor_id=actor_id, from_status=before,
                            to_status=to_status, public_note=public_note))
    if to_status == IdeaStatus.SUBMITTED:
        _snapshot(db, idea, now)
    if actor_id == idea.author_id:
        return []
    return [notify(db, idea.author_id, "status", idea, now,
                   status=str(to_status), note=public_note)]


def set_hidden(db: Session, idea: Idea, hidden: bool, reason: str, expected_version: int | None,
               now: datetime) -> None:
    """Hide an idea from the public (or show it again). With `expected_version` None the
    change does not wait for a version (automatic hiding by reports)."""
    values = {"hidden_at": now if hidden else None, "hidden_reason": reason if hidden else "",
              "updated_at": now}
    if expected_version is not None:
        _bump(db, idea, expected_version, **values)
        return
    db.execute(update(Idea).where(col(Idea.id) == idea.id)
               .values(version=col(Idea.version) + 1, **values))
    db.refresh(idea)


def versions(db: Session, idea: Idea) -> list[IdeaVersion]:
    return list(db.exec(select(IdeaVersion).where(IdeaVersion.idea_id == idea.id)
                        .order_by(col(IdeaVersion.number))).all())
