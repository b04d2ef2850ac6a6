"""Reading ideas: the public list with filters, search and sorting; one idea for a viewer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, func, select

from contests.models import Category, Round
from core.models import District, User
from ideas import rules
from ideas.models import PUBLIC_STATUSES, Attachment, Idea, IdeaStatusChange

#: The list shows only ideas whose hidden_at is NULL, so ordering by it first changes nothing;
#: it lets SQLite and PostgreSQL alike read each order off its (hidden_at, column) index
#: (migration 0008) and stop after a page instead of sorting every idea.
SORTS: dict[str, tuple[Any, ...]] = {
    "newest": (col(Idea.hidden_at).desc(), col(Idea.published_at).desc(), col(Idea.id).desc()),
    "supported": (col(Idea.hidden_at).desc(), col(Idea.support_count).desc(),
                  col(Idea.id).desc()),
    "cost_asc": (col(Idea.hidden_at).asc(), col(Idea.estimated_cost).asc(), col(Idea.id).desc()),
    "cost_desc": (col(Idea.hidden_at).desc(), col(Idea.estimated_cost).desc(),
                  col(Idea.id).desc()),
}
PER_PAGE = 20


@dataclass(frozen=True)
class IdeaFilter:
    round_id: int | None = None
    district_id: int | None = None
    category_id: int | None = None
    status: str | None = None
    q: str = ""
    sort: str = "newest"
    page: int = 1


@dataclass(frozen=True)
class IdeaRow:
    #: The columns of the idea a card shows (LIST_COLUMNS), read as attributes.
    idea: Any
    district: District | None
    category: Category | None
    thumb: str | None


#: What an idea's card shows: a Core select of these costs a fraction of loading Idea rows.
LIST_COLUMNS: tuple[Any, ...] = (
    Idea.id, Idea.reference, Idea.title, Idea.summary, Idea.estimated_cost, Idea.support_count,
    Idea.status, Idea.district_id, Idea.category_id)


def list_public(db: Session, f: IdeaFilter, districts: list[District] | None = None,
                categories: list[Category] | None = None) -> tuple[list[IdeaRow], int]:
    """One page of public ideas matching the filter, and how many match in all.
    `districts` and `categories`: all of them, when the caller has them already."""

    def filtered(stmt: Any) -> Any:
        # The filters go straight on each query (no `id IN (subquery)`), so that the
        # (hidden_at, sort column) indexes can serve the order (see SORTS).
        stmt = stmt.where(col(Idea.status).in_(PUBLIC_STATUSES), col(Idea.hidden_at).is_(None))
        if f.round_id is not None:
            stmt = stmt.where(Idea.round_id == f.round_id)
        if f.district_id is not None:
            stmt = stmt.where(Idea.district_id == f.district_id)
        if f.category_id is not None:
            stmt = stmt.where(Idea.category_id == f.category_id)
        if f.status in PUBLIC_STATUSES:
            stmt = stmt.where(Idea.status == f.status)
        if f.q:
            from ideas.search import apply_search

            stmt = apply_search(stmt, db.get_bind().dialect.name, f.q)
        return stmt

    total = db.exec(filtered(select(func.count()).select_from(Idea))).one()
    rows = db.execute(
        filtered(select(*LIST_COLUMNS))  # type: ignore[call-overload]
        .order_by(*SORTS.get(f.sort, SORTS["newest"]))
        .offset((f.page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    if not rows:
        return [], int(total)
    if districts is None:
        districts = list(db.exec(select(District)).all())
    if categories is None:
        categories = list(db.exec(select(Category)).all())
    by_district = {d.id: d for d in districts}
    by_category = {c.id: c for c in categories}
    thumbs = first_thumbs(db, [row.id for row in rows])
    return [IdeaRow(row, by_district.get(row.district_id), by_category.get(row.category_id),
                    thumbs.get(row.id)) for row in rows], int(total)


def first_thumbs(db: Session, idea_ids: list[int]) -> dict[int, str]:
    if not idea_ids:
        return {}
    found: dict[int, str] = {}
    for idea_id, thumb_name in db.execute(
        select(Attachment.idea_id, Attachment.thumb_name)
        .where(col(Attachment.idea_id).in_(idea_ids), Attachment.kind == "image")
        .order_by(col(Attachment.position), col(Attachment.id))
    ).all():
        if thumb_name:
            found.setdefault(idea_id, thumb_name)
    return found


def find_idea(db: Session, reference: str, viewer: rules.Viewer) -> Idea | None:
    """The idea if this viewer may see it; drafts and held ideas of others look like none."""
    if len(reference) > 20:
        return None
    idea = db.exec(select(Idea).where(Idea.reference == reference)).first()
    if idea is None or not rules.can_view(viewer, idea):
        return None
    return idea


@dataclass(frozen=True)
class IdeaPage:
    idea: Idea
    round: Round
    author: User
    district: District | None
    category: Category | None
    attachments: list[Attachment]
    timeline: list[IdeaStatusChange]
    duplicate_of: Idea | None
    duplicates: list[Idea]


def idea_page(db: Session, idea: Idea) -> IdeaPage:
    # One query for the idea's round, author, district and category (not four round trips).
    round_, author, district, category = db.exec(
        select(Round, User, District, Category).select_from(Round)
        .join(User, col(User.id) == idea.author_id)
        .join(District, col(District.id) == idea.district_id, isouter=True)
        .join(Category, col(Category.id) == idea.category_id, isouter=True)
        .where(Round.id == idea.round_id)
    ).one()
    return IdeaPage(
        idea=idea, round=round_, author=author, district=district, category=category,
        attachments=list(db.exec(select(Attachment).where(Attachment.idea_id == idea.id)
                                 .order_by(col(Attachment.position), col(Attachment.id))).all()),
        timeline=list(db.exec(select(IdeaStatusChange).where(IdeaStatusChange.idea_id == idea.id)
                              .order_by(col(IdeaStatusChange.id))).all()),
        duplicate_of=db.get(Idea, idea.duplicate_of_id) if idea.duplicate_of_id else None,
        duplicates=list(db.exec(select(Idea).where(Idea.duplicate_of_id == idea.id,
                                                   col(Idea.hidden_at).is_(None))).all()),
    )


def ideas_of(db: Session, author_id: int) -> list[Idea]:
    return list(db.exec(select(Idea).where(Idea.author_id == author_id)
                        .order_by(col(Idea.updated_at).desc())).all())


def on_a_ballot(db: Session, idea_id: int) -> bool:
    """Whether the idea is an item of some round's ballot. Once it is, the vote is about it:
    its author cannot withdraw it and reports cannot hide it (moderators decide). The ballot
    table belongs to voting/, which builds on ideas/, so it is read here by name."""
    return db.exec(text("SELECT 1 FROM ballotitem WHERE idea_id = :idea LIMIT 1"),  # type: ignore[call-overload]
                   params={"idea": idea_id}).first() is not None


@dataclass(frozen=True)
class BallotStanding:
    """Where an idea stands in the vote: the pot whose ballot lists it, and once results are
    published, whether it won (None before)."""

    pot_id: int
    won: bool | None


def ballot_standing(db: Session, idea: Idea) -> BallotStanding | None:
    """The idea's place on its round's ballot, or None when it is not on it. Ballots and
    results belong to voting/ and results/, which build on ideas/, so their tables are read
    here by name (as `on_a_ballot` does)."""
    pot_id = db.exec(text("SELECT pot_id FROM ballotitem WHERE idea_id = :idea "  # type: ignore[call-overload]
                          "AND round_id = :round LIMIT 1"),
                     params={"idea": idea.id, "round": idea.round_id}).scalar()
    if pot_id is None:
        return None
    row = db.exec(text("SELECT p.id, r.selected FROM publication p JOIN potresult r "  # type: ignore[call-overload]
                       "ON r.run_id = p.run_id AND r.pot_id = :pot WHERE p.round_id = :round"),
                  params={"pot": pot_id, "round": idea.round_id}).first()
    if row is None:
        return BallotStanding(int(pot_id), None)
    change = db.exec(text("SELECT action FROM publicationchange "  # type: ignore[call-overload]
                          "WHERE publication_id = :pub AND idea_id = :idea"),
                     params={"pub": row[0], "idea": idea.id}).scalar()
    won = change == "add" if change else idea.id in json.loads(row[1] or "[]")
    return BallotStanding(int(pot_id), won)
