"""Reading and creating ideas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from core.models import District, User
from ideas.models import PUBLIC_STATUSES, Idea, IdeaStatus

SORTS: dict[str, tuple[Any, ...]] = {
    "newest": (col(Idea.published_at).desc(), col(Idea.id).desc()),
    "cost_asc": (col(Idea.estimated_cost).asc(), col(Idea.id).desc()),
    "cost_desc": (col(Idea.estimated_cost).desc(), col(Idea.id).desc()),
}


@dataclass(frozen=True)
class IdeaFilter:
    round_id: int | None = None
    district_id: int | None = None
    sort: str = "newest"
    page: int = 1
    per_page: int = 20


def list_public(db: Session, f: IdeaFilter) -> tuple[list[tuple[Idea, District | None]], int]:
    """Public ideas matching the filter, one page of them, and the total count."""
    stmt = select(Idea).where(col(Idea.status).in_(PUBLIC_STATUSES))
    if f.round_id is not None:
        stmt = stmt.where(Idea.round_id == f.round_id)
    if f.district_id is not None:
        stmt = stmt.where(Idea.district_id == f.district_id)
    total = db.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = db.exec(
        select(Idea, District)
        .join(District, col(District.id) == Idea.district_id, isouter=True)
        .where(col(Idea.id).in_(select(stmt.subquery().c.id)))
        .order_by(*SORTS.get(f.sort, SORTS["newest"]))
        .offset((f.page - 1) * f.per_page)
        .limit(f.per_page)
    ).all()
    return [(idea, district) for idea, district in rows], int(total)


def access_public_idea(db: Session, reference: str) -> tuple[Idea, User, District | None] | None:
    """A public idea by its reference; drafts and held ideas look like no idea at all."""
    row = db.exec(
        select(Idea, User, District)
        .join(User, col(User.id) == Idea.author_id)
        .join(District, col(District.id) == Idea.district_id, isouter=True)
        .where(Idea.reference == reference, col(Idea.status).in_(PUBLIC_STATUSES))
    ).first()
    return (row[0], row[1], row[2]) if row else None


def next_reference(db: Session, year: int) -> str:
    prefix = f"{year}-"
    last = db.exec(
        select(func.max(Idea.reference)).where(col(Idea.reference).startswith(prefix))
    ).one()
    number = int(last.split("-")[1]) + 1 if last else 1
    return f"{prefix}{number:05d}"


def create_idea(db: Session, *, year: int, round_id: int, author_id: int,
                district_id: int | None, title: str, summary: str, description: str,
                estimated_cost: int, status: IdeaStatus, now: datetime) -> Idea:
    """Insert an idea with the next citable reference of its contest year.

    Two parallel inserts may pick the same number; the unique constraint refuses the second,
    which then retries with the next number.
    """
    for _attempt in range(5):
        idea = Idea(reference=next_reference(db, year), round_id=round_id, author_id=author_id,
                    district_id=district_id, title=title, summary=summary,
                    description=description, estimated_cost=estimated_cost, status=status,
                    created_at=now,
                    submitted_at=now if status != IdeaStatus.DRAFT else None,
                    published_at=now if status == IdeaStatus.PUBLISHED else None)
        nested = db.begin_nested()
        db.add(idea)
        try:
            nested.commit()
        except IntegrityError:
            nested.rollback()
            continue
        return idea
    raise RuntimeError("could not allocate an idea reference")
